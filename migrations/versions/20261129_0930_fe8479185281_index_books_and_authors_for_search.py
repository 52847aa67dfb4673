"""Index books and authors for full-text search and `q`, kept by triggers in every write's
transaction.

Revision ID: fe8479185281
Revises: 0b81c0793217
Create Date: 2026-11-29 09:30:00+00:00

The models keep folded words in `*_search` columns (Python folds case and accents the same way
for every database); the database indexes them. SQLite: FTS5 tables `book_search` and
`author_search`, whose rows are keyed by `book_search_row` / `author_search_row` (an explicit
INTEGER PRIMARY KEY, which neither VACUUM nor batch mode's table copy renumbers, unlike the
books' own rowid), and FTS5 `trigram` tables over the folded title and name, which answer
`q` (a GLOB on them is served by the trigram index). PostgreSQL: a weighted `search_vector`
column with a GIN index, and pg_trgm GIN indexes on the folded title and name, which serve
LIKE. Downgrade leaves the pg_trgm extension installed: other objects may use it.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fe8479185281"
down_revision: str | None = "0b81c0793217"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
SEARCH_COLUMNS = {
    "author": {"name": "name_search", "bio": "bio_search"},
    "book": {"title": "title_search", "description": "description_search"},
    "tag": {"name": "name_search"},
}


def is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def split(text: str) -> list[str]:
    found, current = [], ""
    for char in text:
        if is_word_char(char):
            current += char
        elif current:
            found.append(current)
            current = ""
    return [*found, current] if current else found


def without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text(text: str | None) -> str:
    """As app.search.text.search_text folds today; a migration never imports the app."""
    words: list[str] = []
    for word in split(text or ""):
        folded = unicodedata.normalize("NFC", without_marks(without_marks(word).casefold()))
        words.extend(part for part in split(folded) if len(part) <= 100)
    return " ".join(words)


def fill_search_columns() -> None:
    connection = op.get_bind()
    for table_name, columns in SEARCH_COLUMNS.items():
        table = sa.table(
            table_name, sa.column("id", sa.Uuid()), *map(sa.column, [*columns, *columns.values()])
        )
        update = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values({target: sa.bindparam(f"new_{target}") for target in columns.values()})
        )
        rows = connection.execute(sa.select(table.c.id, *map(table.c.get, columns))).all()
        changes = [
            {
                "row_id": row[0],
                **{
                    f"new_{target}": search_text(value)
                    for target, value in zip(columns.values(), row[1:], strict=True)
                },
            }
            for row in rows
        ]
        for start in range(0, len(changes), BATCH):
            connection.execute(update, changes[start : start + BATCH])


# SQLite ------------------------------------------------------------------------------------

SQLITE_TABLES = [
    # The text is folded and split by Folio already: `ascii` only splits it at its spaces and
    # has no Unicode tables of its own that could disagree with Python's.
    "CREATE VIRTUAL TABLE book_search USING fts5("
    "title, author, tags, description, tokenize = 'ascii', prefix = '2 3')",
    "CREATE TABLE book_search_row (id INTEGER PRIMARY KEY, book_id CHAR(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE author_search USING fts5(name, bio, tokenize = 'ascii', prefix = '2 3')",
    "CREATE TABLE author_search_row (id INTEGER PRIMARY KEY, author_id CHAR(32) NOT NULL UNIQUE)",
    # The folded text is compared as it is, so the index need not fold case again.
    "CREATE VIRTUAL TABLE book_title_trigram USING fts5("
    "title, tokenize = 'trigram case_sensitive 1', detail = 'none')",
    "CREATE VIRTUAL TABLE author_name_trigram USING fts5("
    "name, tokenize = 'trigram case_sensitive 1', detail = 'none')",
]


def book_refresh(where: str) -> str:
    """Statements that write the index rows of the books `b` that match `where` afresh."""
    return f"""
    DELETE FROM book_search WHERE rowid IN (
        SELECT k.id FROM book_search_row AS k JOIN book AS b ON b.id = k.book_id WHERE {where});
    INSERT INTO book_search (rowid, title, author, tags, description)
    SELECT k.id, b.title_search, a.name_search,
        coalesce((SELECT group_concat(name_search, ' ') FROM (
            SELECT t.name_search FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id
            WHERE bt.book_id = b.id ORDER BY t.name)), ''),
        b.description_search
    FROM book AS b
    JOIN author AS a ON a.id = b.author_id
    JOIN book_search_row AS k ON k.book_id = b.id
    WHERE {where};"""


def author_refresh(where: str) -> str:
    return f"""
    DELETE FROM author_search WHERE rowid IN (
        SELECT k.id FROM author_search_row AS k JOIN author AS a ON a.id = k.author_id
        WHERE {where});
    INSERT INTO author_search (rowid, name, bio)
    SELECT k.id, a.name_search, a.bio_search
    FROM author AS a JOIN author_search_row AS k ON k.author_id = a.id WHERE {where};"""


SQLITE_TRIGGERS = {
    "book_search_insert": f"""AFTER INSERT ON book BEGIN
    INSERT INTO book_search_row (book_id) VALUES (NEW.id);
    {book_refresh("b.id = NEW.id")}
    INSERT INTO book_title_trigram (rowid, title)
    SELECT id, NEW.title_folded FROM book_search_row WHERE book_id = NEW.id;
    END""",
    "book_trigram_update": """AFTER UPDATE ON book WHEN OLD.title_folded IS NOT NEW.title_folded
    BEGIN
    UPDATE book_title_trigram SET title = NEW.title_folded
    WHERE rowid = (SELECT id FROM book_search_row WHERE book_id = NEW.id);
    END""",
    "book_search_update": f"""AFTER UPDATE ON book
    WHEN OLD.title_search IS NOT NEW.title_search
        OR OLD.description_search IS NOT NEW.description_search
        OR OLD.author_id IS NOT NEW.author_id
    BEGIN {book_refresh("b.id = NEW.id")} END""",
    "book_search_delete": """AFTER DELETE ON book BEGIN
    DELETE FROM book_search
    WHERE rowid = (SELECT id FROM book_search_row WHERE book_id = OLD.id);
    DELETE FROM book_title_trigram
    WHERE rowid = (SELECT id FROM book_search_row WHERE book_id = OLD.id);
    DELETE FROM book_search_row WHERE book_id = OLD.id;
    END""",
    "book_tag_search_insert": f"""AFTER INSERT ON book_tag BEGIN
    {book_refresh("b.id = NEW.book_id")} END""",
    "book_tag_search_delete": f"""AFTER DELETE ON book_tag BEGIN
    {book_refresh("b.id = OLD.book_id")} END""",
    "tag_search_update": f"""AFTER UPDATE ON tag WHEN OLD.name_search IS NOT NEW.name_search
    BEGIN {book_refresh("b.id IN (SELECT book_id FROM book_tag WHERE tag_id = NEW.id)")} END""",
    "author_search_insert": f"""AFTER INSERT ON author BEGIN
    INSERT INTO author_search_row (author_id) VALUES (NEW.id);
    {author_refresh("a.id = NEW.id")}
    INSERT INTO author_name_trigram (rowid, name)
    SELECT id, NEW.name_folded FROM author_search_row WHERE author_id = NEW.id;
    END""",
    "author_trigram_update": """AFTER UPDATE ON author WHEN OLD.name_folded IS NOT NEW.name_folded
    BEGIN
    UPDATE author_name_trigram SET name = NEW.name_folded
    WHERE rowid = (SELECT id FROM author_search_row WHERE author_id = NEW.id);
    END""",
    "author_search_update": f"""AFTER UPDATE ON author
    WHEN OLD.name_search IS NOT NEW.name_search OR OLD.bio_search IS NOT NEW.bio_search
    BEGIN {author_refresh("a.id = NEW.id")} END""",
    "author_books_search_update": f"""AFTER UPDATE ON author
    WHEN OLD.name_search IS NOT NEW.name_search
    BEGIN {book_refresh("b.author_id = NEW.id")} END""",
    "author_search_delete": """AFTER DELETE ON author BEGIN
    DELETE FROM author_search
    WHERE rowid = (SELECT id FROM author_search_row WHERE author_id = OLD.id);
    DELETE FROM author_name_trigram
    WHERE rowid = (SELECT id FROM author_search_row WHERE author_id = OLD.id);
    DELETE FROM author_search_row WHERE author_id = OLD.id;
    END""",
}


def sqlite_upgrade() -> None:
    for statement in SQLITE_TABLES:
        op.execute(statement)
    op.execute("INSERT INTO book_search_row (book_id) SELECT id FROM book ORDER BY id")
    op.execute("INSERT INTO author_search_row (author_id) SELECT id FROM author ORDER BY id")
    for statement in (book_refresh("1"), author_refresh("1")):
        for part in statement.split(";"):
            if part.strip():
                op.execute(part)
    op.execute(
        "INSERT INTO book_title_trigram (rowid, title) SELECT k.id, b.title_folded"
        " FROM book AS b JOIN book_search_row AS k ON k.book_id = b.id"
    )
    op.execute(
        "INSERT INTO author_name_trigram (rowid, name) SELECT k.id, a.name_folded"
        " FROM author AS a JOIN author_search_row AS k ON k.author_id = a.id"
    )
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def sqlite_downgrade() -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for table in (
        "author_name_trigram",
        "book_title_trigram",
        "author_search_row",
        "author_search",
        "book_search_row",
        "book_search",
    ):
        op.execute(f"DROP TABLE {table}")


# PostgreSQL --------------------------------------------------------------------------------

POSTGRES_FUNCTIONS = [
    # Folded words as a tsvector, built from the words themselves rather than through a text
    # search parser, so that its tokens are exactly Folio's. Positions start at 2: the gap
    # that || leaves between two fields keeps a phrase from running from one into the next.
    """CREATE FUNCTION search_words(words text, weight "char") RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(
            setweight(string_agg(format('%L:%s', word, position + 1), ' ')::tsvector, $2),
            ''::tsvector)
        FROM unnest(string_to_array($1, ' ')) WITH ORDINALITY AS words(word, position)
        WHERE word <> ''
    $$""",
    """CREATE FUNCTION book_search_vector(
        book_id uuid, title text, author_id uuid, description text
    ) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT search_words($2, 'A')
            || search_words((SELECT name_search FROM author WHERE id = $3), 'B')
            || search_words((
                SELECT string_agg(t.name_search, ' ' ORDER BY t.name)
                FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id WHERE bt.book_id = $1), 'C')
            || search_words($4, 'D')
    $$""",
    """CREATE FUNCTION book_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := book_search_vector(
            NEW.id, NEW.title_search, NEW.author_id, NEW.description_search);
        RETURN NEW;
    END $$""",
    """CREATE FUNCTION author_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector :=
            search_words(NEW.name_search, 'A') || search_words(NEW.bio_search, 'B');
        RETURN NEW;
    END $$""",
    # Setting search_vector to NULL has book_search_fill compute it again.
    """CREATE FUNCTION book_tag_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE book SET search_vector = NULL WHERE id IN (SELECT book_id FROM changed);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION tag_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE book SET search_vector = NULL
        WHERE id IN (SELECT book_id FROM book_tag WHERE tag_id = NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION author_books_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE book SET search_vector = NULL WHERE author_id = NEW.id;
        RETURN NULL;
    END $$""",
]
POSTGRES_TRIGGERS = {
    "book_search_fill": (
        "book",
        "BEFORE INSERT OR UPDATE ON book FOR EACH ROW EXECUTE FUNCTION book_search_fill()",
    ),
    "author_search_fill": (
        "author",
        "BEFORE INSERT OR UPDATE ON author FOR EACH ROW EXECUTE FUNCTION author_search_fill()",
    ),
    "book_tag_search_insert": (
        "book_tag",
        "AFTER INSERT ON book_tag REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_tag_search_refresh()",
    ),
    "book_tag_search_delete": (
        "book_tag",
        "AFTER DELETE ON book_tag REFERENCING OLD TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_tag_search_refresh()",
    ),
    "tag_search_refresh": (
        "tag",
        "AFTER UPDATE OF name_search ON tag FOR EACH ROW"
        " WHEN (OLD.name_search IS DISTINCT FROM NEW.name_search)"
        " EXECUTE FUNCTION tag_search_refresh()",
    ),
    "author_books_search_refresh": (
        "author",
        "AFTER UPDATE OF name_search ON author FOR EACH ROW"
        " WHEN (OLD.name_search IS DISTINCT FROM NEW.name_search)"
        " EXECUTE FUNCTION author_books_search_refresh()",
    ),
}
POSTGRES_FUNCTION_NAMES = (
    "author_books_search_refresh()",
    "tag_search_refresh()",
    "book_tag_search_refresh()",
    "author_search_fill()",
    "book_search_fill()",
    "book_search_vector(uuid, text, uuid, text)",
    'search_words(text, "char")',
)


def postgres_upgrade() -> None:
    for table in ("book", "author"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector")
    for statement in POSTGRES_FUNCTIONS:
        op.execute(statement)
    for name, (_table, body) in POSTGRES_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    # The fill triggers compute every row's vector.
    op.execute("UPDATE author SET search_vector = NULL")
    op.execute("UPDATE book SET search_vector = NULL")
    op.execute("CREATE INDEX ix_book_search_vector ON book USING gin (search_vector)")
    op.execute("CREATE INDEX ix_author_search_vector ON author USING gin (search_vector)")
    # Trusted since PostgreSQL 13: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_book_title_folded_trigram ON book USING gin (title_folded gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_author_name_folded_trigram ON author USING gin (name_folded gin_trgm_ops)"
    )


def postgres_downgrade() -> None:
    op.execute("DROP INDEX ix_author_name_folded_trigram")
    op.execute("DROP INDEX ix_book_title_folded_trigram")
    op.execute("DROP INDEX ix_author_search_vector")
    op.execute("DROP INDEX ix_book_search_vector")
    for name, (table, _body) in POSTGRES_TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for function in POSTGRES_FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    for table in ("book", "author"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")


def upgrade() -> None:
    for table_name, columns in SEARCH_COLUMNS.items():
        with op.batch_alter_table(table_name) as batch_op:
            for target in columns.values():
                batch_op.add_column(
                    sa.Column(target, sa.String(), server_default="", nullable=False)
                )
    fill_search_columns()
    if op.get_bind().dialect.name == "sqlite":
        sqlite_upgrade()
    else:
        postgres_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        sqlite_downgrade()
    else:
        postgres_downgrade()
    for table_name, columns in SEARCH_COLUMNS.items():
        with op.batch_alter_table(table_name) as batch_op:
            for target in columns.values():
                batch_op.drop_column(target)
