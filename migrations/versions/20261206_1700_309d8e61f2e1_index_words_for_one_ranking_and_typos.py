"""Index every word of books and authors in one table both databases read alike, with a
vocabulary and its deletion neighbourhood for typos.

Revision ID: 309d8e61f2e1
Revises: 3f1c9a7d2b64
Create Date: 2026-12-06 17:00:00+00:00

`search_word` holds one row per word of each field value: `kind` 0 for a book (fields 0 title,
1 authors, 2 series, 3 tags, 4 description), 1 for an author (0 name, 1 bio); `value_no` tells
a book's authors and tags apart; `position` counts from 0 in the value, and `length` is the
value's word count. `search_vocabulary` holds every word indexed once, and `search_deletion`
every string left after deleting at most two characters from the first seven of a vocabulary
word (three characters or more, not a number), which finds the words one or two edits from a
typed word without reading the vocabulary. Triggers keep all three in each write's
transaction, as they kept the FTS5 tables and tsvector columns this revision drops; the `q`
trigram objects stay.
Words compare in code-point order on both databases (SQLite BINARY, PostgreSQL COLLATE "C"),
so a prefix is a range of the primary key. Downgrade restores the index of 3f1c9a7d2b64.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "309d8e61f2e1"
down_revision: str | None = "3f1c9a7d2b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOK_FIELDS = {"title_search": 0, "series_search": 2, "description_search": 4}
AUTHOR_FIELDS = {"name_search": 0, "bio_search": 1}
BOOK, AUTHOR = 0, 1


def migration(name: str) -> ModuleType:
    """An earlier migration, whose index definitions downgrade makes again."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_index() -> ModuleType:
    return migration("20261129_0930_fe8479185281_index_books_and_authors_for_search.py")


def book_index() -> ModuleType:
    return migration(
        "20261206_1500_3f1c9a7d2b64_give_books_several_authors_and_catalogue_fields.py"
    )


def run_script(script: str) -> None:
    for part in script.split(";"):
        if part.strip():
            op.execute(part)


# SQLite ------------------------------------------------------------------------------------

SQLITE_TABLES = [
    "CREATE TABLE search_word (kind INTEGER NOT NULL, word VARCHAR NOT NULL,"
    " item_id CHAR(32) NOT NULL, field INTEGER NOT NULL, value_no INTEGER NOT NULL,"
    " position INTEGER NOT NULL, length INTEGER NOT NULL,"
    " PRIMARY KEY (kind, word, item_id, field, value_no, position)) WITHOUT ROWID",
    "CREATE INDEX ix_search_word_item_id ON search_word (item_id, kind, field)",
    "CREATE TABLE search_vocabulary (word VARCHAR PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE search_deletion (variant VARCHAR NOT NULL, word VARCHAR NOT NULL,"
    " PRIMARY KEY (variant, word)) WITHOUT ROWID",
]
# Folded words hold letters and digits only, never a quote or a backslash: a value's words,
# joined by single spaces, become a JSON array with two replacements (SQLite's triggers
# cannot hold the recursive CTE that would split them otherwise).
SQLITE_WORDS = """json_each('["' || replace({text}, ' ', '","') || '"]')"""
SQLITE_DIGITS = "json_each('[1,2,3,4,5,6,7]')"


def sqlite_words(
    kind: int, item: str, field: int, value_no: str, text: str, source: str, where: str
) -> str:
    """Insert the words of the values `text` of the rows of `source` that match `where`."""
    array = f"""'["' || replace({text}, ' ', '","') || '"]'"""
    return f"""
    INSERT INTO search_word (kind, word, item_id, field, value_no, position, length)
    SELECT {kind}, w.value, {item}, {field}, {value_no}, w.key, json_array_length({array})
    FROM {source}, json_each({array}) AS w WHERE {where} AND {text} <> '';"""


def sqlite_vocabulary(where: str) -> str:
    # Without INDEXED BY, SQLite reads every word of the kind through the primary key.
    return f"""
    INSERT INTO search_vocabulary (word) SELECT DISTINCT s.word
    FROM search_word AS s INDEXED BY ix_search_word_item_id
    WHERE {where} AND NOT EXISTS (SELECT 1 FROM search_vocabulary AS v WHERE v.word = s.word);"""


# A book's tags are told apart by their rank in name order.
TAG_RANK = """(SELECT count(*) FROM book_tag AS bt2 JOIN tag AS t2 ON t2.id = bt2.tag_id
    WHERE bt2.book_id = b.id AND t2.name < t.name)"""


def sqlite_book_words(field: int, where: str) -> str:
    if field == 1:
        source = "book AS b JOIN book_author AS ba ON ba.book_id = b.id"
        source += " JOIN author AS a ON a.id = ba.author_id"
        return sqlite_words(BOOK, "b.id", 1, "ba.position", "a.name_search", source, where)
    if field == 3:
        source = "book AS b JOIN book_tag AS bt ON bt.book_id = b.id"
        source += " JOIN tag AS t ON t.id = bt.tag_id"
        return sqlite_words(BOOK, "b.id", 3, TAG_RANK, "t.name_search", source, where)
    column = next(name for name, number in BOOK_FIELDS.items() if number == field)
    return sqlite_words(BOOK, "b.id", field, "0", f"b.{column}", "book AS b", where)


def sqlite_book_field(field: int, where: str) -> str:
    """Statements that index field `field` of the books `b` matching `where` afresh."""
    books = f"(SELECT b.id FROM book AS b WHERE {where})"
    return f"""
    DELETE FROM search_word WHERE kind = 0 AND field = {field} AND item_id IN {books};
    {sqlite_book_words(field, where)}
    {sqlite_vocabulary(f"s.kind = 0 AND s.field = {field} AND s.item_id IN {books}")}"""


def sqlite_author_field(field: int, where: str) -> str:
    column = next(name for name, number in AUTHOR_FIELDS.items() if number == field)
    authors = f"(SELECT a.id FROM author AS a WHERE {where})"
    add = sqlite_words(AUTHOR, "a.id", field, "0", f"a.{column}", "author AS a", where)
    return f"""
    DELETE FROM search_word WHERE kind = 1 AND field = {field} AND item_id IN {authors};
    {add}
    {sqlite_vocabulary(f"s.kind = 1 AND s.field = {field} AND s.item_id IN {authors}")}"""


# A new item has no words yet, but for a book linked first (see book_search_insert), and
# takes its new words into the vocabulary in one statement.
NEW_BOOK_WORDS = f"""
    DELETE FROM search_word WHERE item_id = NEW.id AND kind = 0;
    {"".join(sqlite_book_words(field, "b.id = NEW.id") for field in range(5))}
    {sqlite_vocabulary("s.kind = 0 AND s.item_id = NEW.id")}"""
AUTHOR_WORDS = [
    sqlite_words(AUTHOR, "a.id", field, "0", f"a.{column}", "author AS a", "a.id = NEW.id")
    for column, field in AUTHOR_FIELDS.items()
]
NEW_AUTHOR_WORDS = f"""
    {"".join(AUTHOR_WORDS)}
    {sqlite_vocabulary("s.kind = 1 AND s.item_id = NEW.id")}"""
LINKED_AUTHOR_WORDS = sqlite_words(
    BOOK, "NEW.book_id", 1, "NEW.position", "a.name_search", "author AS a", "a.id = NEW.author_id"
)


def changed(column: str) -> str:
    return f"OLD.{column} IS NOT NEW.{column}"


SQLITE_TRIGGERS = {
    # Imports on SQLite link a book to its authors and tags before inserting it (with foreign
    # keys deferred), so an insert indexes every field of the book.
    "book_search_insert": f"""AFTER INSERT ON book BEGIN
    INSERT INTO book_search_row (book_id) VALUES (NEW.id);
    INSERT INTO book_title_trigram (rowid, title)
    SELECT id, NEW.title_folded FROM book_search_row WHERE book_id = NEW.id;
    {NEW_BOOK_WORDS}
    END""",
    **{
        f"book_{column}_update": f"""AFTER UPDATE OF {column} ON book WHEN {changed(column)}
        BEGIN {sqlite_book_field(field, "b.id = NEW.id")} END"""
        for column, field in BOOK_FIELDS.items()
    },
    "book_search_delete": """AFTER DELETE ON book BEGIN
    DELETE FROM search_word WHERE item_id = OLD.id AND kind = 0;
    DELETE FROM book_title_trigram
    WHERE rowid = (SELECT id FROM book_search_row WHERE book_id = OLD.id);
    DELETE FROM book_search_row WHERE book_id = OLD.id;
    END""",
    # A book's authors are values told apart by their position: a link adds or drops one.
    "book_author_search_insert": f"""AFTER INSERT ON book_author BEGIN
    {LINKED_AUTHOR_WORDS}
    {sqlite_vocabulary("s.kind = 0 AND s.field = 1 AND s.item_id = NEW.book_id")}
    END""",
    "book_author_search_delete": """AFTER DELETE ON book_author BEGIN
    DELETE FROM search_word WHERE item_id = OLD.book_id AND kind = 0 AND field = 1
    AND value_no = OLD.position;
    END""",
    "book_tag_search_insert": f"""AFTER INSERT ON book_tag BEGIN
    {sqlite_book_field(3, "b.id = NEW.book_id")} END""",
    "book_tag_search_delete": f"""AFTER DELETE ON book_tag BEGIN
    {sqlite_book_field(3, "b.id = OLD.book_id")} END""",
    "tag_search_update": f"""AFTER UPDATE ON tag WHEN {changed("name_search")} BEGIN
    {sqlite_book_field(3, "b.id IN (SELECT book_id FROM book_tag WHERE tag_id = NEW.id)")}
    END""",
    "author_books_search_update": f"""AFTER UPDATE ON author WHEN {changed("name_search")} BEGIN
    {sqlite_book_field(1, "b.id IN (SELECT book_id FROM book_author WHERE author_id = NEW.id)")}
    END""",
    "author_search_insert": f"""AFTER INSERT ON author BEGIN
    INSERT INTO author_search_row (author_id) VALUES (NEW.id);
    INSERT INTO author_name_trigram (rowid, name)
    SELECT id, NEW.name_folded FROM author_search_row WHERE author_id = NEW.id;
    {NEW_AUTHOR_WORDS}
    END""",
    **{
        f"author_{column}_update": f"""AFTER UPDATE OF {column} ON author WHEN {changed(column)}
        BEGIN {sqlite_author_field(field, "a.id = NEW.id")} END"""
        for column, field in AUTHOR_FIELDS.items()
    },
    "author_search_delete": """AFTER DELETE ON author BEGIN
    DELETE FROM search_word WHERE item_id = OLD.id AND kind = 1;
    DELETE FROM author_name_trigram
    WHERE rowid = (SELECT id FROM author_search_row WHERE author_id = OLD.id);
    DELETE FROM author_search_row WHERE author_id = OLD.id;
    END""",
    # A new word's deletion neighbourhood: the first seven characters less none, one or two.
    # Numbers have none: they match exactly or as prefixes only.
    "search_vocabulary_insert": f"""AFTER INSERT ON search_vocabulary
    WHEN length(NEW.word) >= 3 AND NEW.word GLOB '*[^0-9]*' BEGIN
    INSERT INTO search_deletion (variant, word)
    SELECT variant, NEW.word FROM (
        SELECT substr(NEW.word, 1, 7) AS variant
        UNION
        SELECT substr(NEW.word, 1, i.value - 1) || substr(NEW.word, i.value + 1, 7 - i.value)
        FROM {SQLITE_DIGITS} AS i WHERE i.value <= length(NEW.word)
        UNION
        SELECT substr(NEW.word, 1, i.value - 1)
            || substr(NEW.word, i.value + 1, j.value - i.value - 1)
            || substr(NEW.word, j.value + 1, 7 - j.value)
        FROM {SQLITE_DIGITS} AS i, {SQLITE_DIGITS} AS j
        WHERE i.value < j.value AND j.value <= length(NEW.word)
    ) WHERE length(variant) >= 3;
    END""",
}
# The previous index's triggers that wrote to its FTS5 tables (the trigram ones stay).
OLD_SQLITE_TRIGGERS = (
    "book_search_insert",
    "book_search_update",
    "book_search_delete",
    "book_tag_search_insert",
    "book_tag_search_delete",
    "book_author_search_insert",
    "book_author_search_delete",
    "tag_search_update",
    "author_books_search_update",
    "author_search_insert",
    "author_search_update",
    "author_search_delete",
)


def sqlite_upgrade() -> None:
    for name in OLD_SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE book_search")
    op.execute("DROP TABLE author_search")
    for statement in SQLITE_TABLES:
        op.execute(statement)
    # The vocabulary's trigger fills the deletions as the fill below adds words.
    op.execute(
        f"CREATE TRIGGER search_vocabulary_insert {SQLITE_TRIGGERS['search_vocabulary_insert']}"
    )
    for field in range(5):
        run_script(sqlite_book_field(field, "1"))
    for field in (0, 1):
        run_script(sqlite_author_field(field, "1"))
    for name, body in SQLITE_TRIGGERS.items():
        if name != "search_vocabulary_insert":
            op.execute(f"CREATE TRIGGER {name} {body}")


def sqlite_downgrade() -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for table in ("search_deletion", "search_vocabulary", "search_word"):
        op.execute(f"DROP TABLE {table}")
    first, books = first_index(), book_index()
    op.execute(books.BOOK_SEARCH)
    op.execute(first.SQLITE_TABLES[2])
    run_script(books.book_refresh("1"))
    run_script(first.author_refresh("1"))
    triggers = {
        **{
            name: body
            for name, body in books.SQLITE_TRIGGERS.items()
            if name in OLD_SQLITE_TRIGGERS
        },
        **{
            name: body
            for name, body in first.SQLITE_TRIGGERS.items()
            if name.startswith("author_search")
        },
    }
    for name, body in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


# PostgreSQL --------------------------------------------------------------------------------

POSTGRES_TABLES = [
    'CREATE TABLE search_word (kind smallint NOT NULL, word text COLLATE "C" NOT NULL,'
    " item_id uuid NOT NULL, field smallint NOT NULL, value_no integer NOT NULL,"
    " position integer NOT NULL, length integer NOT NULL,"
    " PRIMARY KEY (kind, word, item_id, field, value_no, position))",
    "CREATE INDEX ix_search_word_item_id ON search_word (item_id, kind, field)",
    'CREATE TABLE search_vocabulary (word text COLLATE "C" PRIMARY KEY)',
    'CREATE TABLE search_deletion (variant text COLLATE "C" NOT NULL,'
    ' word text COLLATE "C" NOT NULL, PRIMARY KEY (variant, word))',
]


def new_words(kind: int, fields: str) -> str:
    """Statements that index the fields (field number, words) of the new rows `c`."""
    words = f"""FROM changed AS c, LATERAL (VALUES {fields}) AS f(field, words),
            search_value_words(f.words) AS w"""
    return f"""INSERT INTO search_word (kind, word, item_id, field, value_no, position, length)
        SELECT {kind}, w.word, c.id, f.field, 0, w.position, w.length {words};
        INSERT INTO search_vocabulary (word) SELECT DISTINCT w.word {words}
        ON CONFLICT DO NOTHING;"""


POSTGRES_FUNCTIONS = [
    # A value's words with their positions from 0 and the value's word count.
    """CREATE FUNCTION search_value_words(words text)
    RETURNS TABLE (word text, "position" integer, length integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT w, (n - 1)::integer, cardinality(a)::integer
        FROM string_to_array($1, ' ') AS a, unnest(a) WITH ORDINALITY AS u(w, n)
        WHERE $1 <> ''
    $$""",
    """CREATE FUNCTION search_vocabulary_add(kind_ integer, ids uuid[], field_ integer)
    RETURNS void LANGUAGE sql AS $$
        INSERT INTO search_vocabulary (word)
        SELECT DISTINCT word FROM search_word
        WHERE item_id = ANY(ids) AND kind = kind_ AND field = field_
        ON CONFLICT DO NOTHING
    $$""",
    """CREATE FUNCTION search_book_field(ids uuid[], field_ integer)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_word WHERE item_id = ANY(ids) AND kind = 0 AND field = field_;
        INSERT INTO search_word (kind, word, item_id, field, value_no, position, length)
        SELECT 0, w.word, v.id, field_, v.value_no, w.position, w.length
        FROM (
            SELECT id, 0 AS value_no, title_search AS words
            FROM book WHERE field_ = 0 AND id = ANY(ids)
            UNION ALL
            SELECT ba.book_id, ba.position, a.name_search
            FROM book_author AS ba JOIN author AS a ON a.id = ba.author_id
            WHERE field_ = 1 AND ba.book_id = ANY(ids)
            UNION ALL
            SELECT id, 0, series_search FROM book WHERE field_ = 2 AND id = ANY(ids)
            UNION ALL
            SELECT bt.book_id,
                (row_number() OVER (PARTITION BY bt.book_id ORDER BY t.name COLLATE "C"))::integer
                    - 1,
                t.name_search
            FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id
            WHERE field_ = 3 AND bt.book_id = ANY(ids)
            UNION ALL
            SELECT id, 0, description_search FROM book WHERE field_ = 4 AND id = ANY(ids)
        ) AS v, search_value_words(v.words) AS w;
        PERFORM search_vocabulary_add(0, ids, field_);
    END $$""",
    """CREATE FUNCTION search_author_field(ids uuid[], field_ integer)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_word WHERE item_id = ANY(ids) AND kind = 1 AND field = field_;
        INSERT INTO search_word (kind, word, item_id, field, value_no, position, length)
        SELECT 1, w.word, a.id, field_, 0, w.position, w.length
        FROM author AS a,
            search_value_words(CASE field_ WHEN 0 THEN a.name_search ELSE a.bio_search END) AS w
        WHERE a.id = ANY(ids);
        PERFORM search_vocabulary_add(1, ids, field_);
    END $$""",
    # New books have no words, authors or tags yet (PostgreSQL inserts a book before its
    # links): their own fields' words go in from the new rows, in two statements.
    f"""CREATE FUNCTION book_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {new_words(0, "(0, c.title_search), (2, c.series_search), (4, c.description_search)")}
        RETURN NULL;
    END $$""",
    # Only the fields whose words changed are indexed again.
    """CREATE FUNCTION book_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM search_book_field(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE o.title_search IS DISTINCT FROM n.title_search), 0);
        PERFORM search_book_field(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE o.series_search IS DISTINCT FROM n.series_search), 2);
        PERFORM search_book_field(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE o.description_search IS DISTINCT FROM n.description_search), 4);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION search_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_word WHERE item_id IN (SELECT id FROM changed);
        RETURN NULL;
    END $$""",
    # A statement that links or unlinks books, or renames their authors or tags, indexes each
    # book's authors or tags once.
    """CREATE FUNCTION book_links_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM search_book_field(ARRAY(SELECT DISTINCT book_id FROM changed),
            TG_ARGV[0]::integer);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION author_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM search_author_field(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE o.name_search IS DISTINCT FROM n.name_search), 0);
        PERFORM search_author_field(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE o.bio_search IS DISTINCT FROM n.bio_search), 1);
        PERFORM search_book_field(ARRAY(
            SELECT DISTINCT ba.book_id FROM book_author AS ba
            JOIN new_rows AS n ON n.id = ba.author_id JOIN old_rows AS o ON o.id = n.id
            WHERE o.name_search IS DISTINCT FROM n.name_search), 1);
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION author_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {new_words(1, "(0, c.name_search), (1, c.bio_search)")}
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION tag_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM search_book_field(ARRAY(
            SELECT DISTINCT bt.book_id FROM book_tag AS bt
            JOIN new_rows AS n ON n.id = bt.tag_id JOIN old_rows AS o ON o.id = n.id
            WHERE o.name_search IS DISTINCT FROM n.name_search), 3);
        RETURN NULL;
    END $$""",
    # A new word's deletion neighbourhood: the first seven characters less none, one or two.
    """CREATE FUNCTION search_vocabulary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE head text := substr(NEW.word, 1, 7);
    BEGIN
        IF char_length(NEW.word) < 3 OR NEW.word ~ '^[0-9]+$' THEN
            RETURN NULL;
        END IF;
        INSERT INTO search_deletion (variant, word)
        SELECT variant, NEW.word FROM (
            SELECT head AS variant
            UNION
            SELECT substr(head, 1, i - 1) || substr(head, i + 1)
            FROM generate_series(1, char_length(head)) AS i
            UNION
            SELECT substr(head, 1, i - 1) || substr(head, i + 1, j - i - 1) || substr(head, j + 1)
            FROM generate_series(1, char_length(head)) AS i,
                generate_series(1, char_length(head)) AS j
            WHERE i < j
        ) AS variants WHERE char_length(variant) >= 3;
        RETURN NULL;
    END $$""",
]
POSTGRES_TRIGGERS = {
    "book_words_insert": (
        "book",
        "AFTER INSERT ON book REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_words_insert()",
    ),
    "book_words_update": (
        "book",
        "AFTER UPDATE ON book REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_words_update()",
    ),
    "book_words_delete": (
        "book",
        "AFTER DELETE ON book REFERENCING OLD TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION search_words_delete()",
    ),
    "author_words_insert": (
        "author",
        "AFTER INSERT ON author REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION author_words_insert()",
    ),
    "author_words_update": (
        "author",
        "AFTER UPDATE ON author REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION author_words_update()",
    ),
    "author_words_delete": (
        "author",
        "AFTER DELETE ON author REFERENCING OLD TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION search_words_delete()",
    ),
    "tag_words_update": (
        "tag",
        "AFTER UPDATE ON tag REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION tag_words_update()",
    ),
    **{
        f"{table}_words_{event.lower()}": (
            table,
            f"AFTER {event} ON {table} REFERENCING {side} TABLE AS changed"
            f" FOR EACH STATEMENT EXECUTE FUNCTION book_links_refresh('{field}')",
        )
        for table, field in (("book_author", 1), ("book_tag", 3))
        for event, side in (("INSERT", "NEW"), ("DELETE", "OLD"))
    },
    "search_vocabulary_insert": (
        "search_vocabulary",
        "AFTER INSERT ON search_vocabulary FOR EACH ROW"
        " EXECUTE FUNCTION search_vocabulary_insert()",
    ),
}
POSTGRES_FUNCTION_NAMES = (
    "search_vocabulary_insert()",
    "tag_words_update()",
    "author_words_insert()",
    "author_words_update()",
    "book_links_refresh()",
    "search_words_delete()",
    "book_words_update()",
    "book_words_insert()",
    "search_author_field(uuid[], integer)",
    "search_book_field(uuid[], integer)",
    "search_vocabulary_add(integer, uuid[], integer)",
    "search_value_words(text)",
)
# The previous index: its triggers (table, name) and functions, dropped by upgrade.
OLD_POSTGRES_TRIGGERS = (
    ("book", "book_search_fill"),
    ("author", "author_search_fill"),
    ("book_tag", "book_tag_search_insert"),
    ("book_tag", "book_tag_search_delete"),
    ("tag", "tag_search_refresh"),
    ("author", "author_books_search_refresh"),
    ("book_author", "book_author_search_insert"),
    ("book_author", "book_author_search_delete"),
)
OLD_POSTGRES_FUNCTIONS = (
    "book_search_fill()",
    "book_search_vector(uuid, text, text, text)",
    "author_books_search_refresh()",
    "author_search_fill()",
    "book_tag_search_refresh()",
    "tag_search_refresh()",
    'search_words(text, "char")',
)


def postgres_upgrade() -> None:
    for table, name in OLD_POSTGRES_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in OLD_POSTGRES_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP INDEX ix_book_search_vector")
    op.execute("DROP INDEX ix_author_search_vector")
    for table in ("book", "author"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")
    for statement in [*POSTGRES_TABLES, *POSTGRES_FUNCTIONS]:
        op.execute(statement)
    _table, vocabulary = POSTGRES_TRIGGERS["search_vocabulary_insert"]
    op.execute(f"CREATE TRIGGER search_vocabulary_insert {vocabulary}")
    for field in range(5):
        op.execute(f"SELECT search_book_field(ARRAY(SELECT id FROM book), {field})")
    for field in (0, 1):
        op.execute(f"SELECT search_author_field(ARRAY(SELECT id FROM author), {field})")
    for name, (_table, body) in POSTGRES_TRIGGERS.items():
        if name != "search_vocabulary_insert":
            op.execute(f"CREATE TRIGGER {name} {body}")


def postgres_downgrade() -> None:
    for name, (table, _body) in POSTGRES_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in POSTGRES_FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    for table in ("search_deletion", "search_vocabulary", "search_word"):
        op.execute(f"DROP TABLE {table}")
    first, books = first_index(), book_index()
    for table in ("book", "author"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector")
    kept = (
        "search_words(",
        "author_search_fill(",
        "book_tag_search_refresh(",
        "tag_search_refresh(",
    )
    for statement in first.POSTGRES_FUNCTIONS:
        if any(f"FUNCTION {name}" in statement for name in kept):
            op.execute(statement)
    for statement in books.POSTGRES_FUNCTIONS:
        op.execute(statement)
    triggers = {
        **{
            name: body
            for name, body in first.POSTGRES_TRIGGERS.items()
            if name not in books.POSTGRES_TRIGGERS
            and name in {name for _table, name in OLD_POSTGRES_TRIGGERS}
        },
        **books.POSTGRES_TRIGGERS,
    }
    for name, (_table, body) in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("UPDATE author SET search_vector = NULL")
    op.execute("UPDATE book SET search_vector = NULL")
    op.execute("CREATE INDEX ix_book_search_vector ON book USING gin (search_vector)")
    op.execute("CREATE INDEX ix_author_search_vector ON author USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        sqlite_upgrade()
    else:
        postgres_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        sqlite_downgrade()
    else:
        postgres_downgrade()
