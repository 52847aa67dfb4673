"""Give books several authors, in order, and a publisher, a language and a series.

Revision ID: 3f1c9a7d2b64
Revises: 47b0f97e669b
Create Date: 2026-12-06 15:00:00+00:00

Every book's author becomes the first row of `book_author` (position 0), and `book.author_id`
goes. The search index then reads every author's name, and the series: on SQLite the FTS5
table `book_search` gains a `series` column and its `author` column becomes `authors`; on
PostgreSQL `book_search_vector` reads the authors through `book_author`. The index objects
of books are dropped before the book table changes (SQLite rebuilds it in batch mode, which
drops its triggers) and made again after it. Downgrade keeps each book's first author and
restores the index of revision fe8479185281, taking its definitions from that migration.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "3f1c9a7d2b64"
down_revision: str | None = "47b0f97e669b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def previous_index() -> ModuleType:
    """The migration that made the search index this one replaces for books."""
    path = Path(__file__).with_name(
        "20261129_0930_fe8479185281_index_books_and_authors_for_search.py"
    )
    spec = importlib.util.spec_from_file_location("index_fe8479185281", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# SQLite ------------------------------------------------------------------------------------

# The previous index's objects that read a book's author or its search columns.
OLD_SQLITE_TRIGGERS = (
    "book_search_insert",
    "book_trigram_update",
    "book_search_update",
    "book_search_delete",
    "book_tag_search_insert",
    "book_tag_search_delete",
    "tag_search_update",
    "author_books_search_update",
)
BOOK_SEARCH = (
    "CREATE VIRTUAL TABLE book_search USING fts5("
    "title, authors, series, tags, description, tokenize = 'ascii', prefix = '2 3')"
)


def book_refresh(where: str) -> str:
    """Statements that write the index rows of the books `b` that match `where` afresh."""
    return f"""
    DELETE FROM book_search WHERE rowid IN (
        SELECT k.id FROM book_search_row AS k JOIN book AS b ON b.id = k.book_id WHERE {where});
    INSERT INTO book_search (rowid, title, authors, series, tags, description)
    SELECT k.id, b.title_search,
        coalesce((SELECT group_concat(name_search, ' ') FROM (
            SELECT a.name_search FROM book_author AS ba JOIN author AS a ON a.id = ba.author_id
            WHERE ba.book_id = b.id ORDER BY ba.position)), ''),
        b.series_search,
        coalesce((SELECT group_concat(name_search, ' ') FROM (
            SELECT t.name_search FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id
            WHERE bt.book_id = b.id ORDER BY t.name)), ''),
        b.description_search
    FROM book AS b
    JOIN book_search_row AS k ON k.book_id = b.id
    WHERE {where};"""


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
        OR OLD.series_search IS NOT NEW.series_search
        OR OLD.description_search IS NOT NEW.description_search
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
    "book_author_search_insert": f"""AFTER INSERT ON book_author BEGIN
    {book_refresh("b.id = NEW.book_id")} END""",
    "book_author_search_delete": f"""AFTER DELETE ON book_author BEGIN
    {book_refresh("b.id = OLD.book_id")} END""",
    "tag_search_update": f"""AFTER UPDATE ON tag WHEN OLD.name_search IS NOT NEW.name_search
    BEGIN {book_refresh("b.id IN (SELECT book_id FROM book_tag WHERE tag_id = NEW.id)")} END""",
    "author_books_search_update": f"""AFTER UPDATE ON author
    WHEN OLD.name_search IS NOT NEW.name_search
    BEGIN {book_refresh("b.id IN (SELECT book_id FROM book_author WHERE author_id = NEW.id)")}
    END""",
}


def run_script(script: str) -> None:
    for part in script.split(";"):
        if part.strip():
            op.execute(part)


def sqlite_index_books(tables: Sequence[str], refresh: str, triggers: dict[str, str]) -> None:
    """Make the book index's FTS5 table, fill it from every book, then make its triggers."""
    for statement in tables:
        op.execute(statement)
    run_script(refresh)
    for name, body in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


# PostgreSQL --------------------------------------------------------------------------------

POSTGRES_FUNCTIONS = [
    """CREATE FUNCTION book_search_vector(book_id uuid, title text, series text, description text)
    RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT search_words($2, 'A')
            || search_words((
                SELECT string_agg(a.name_search, ' ' ORDER BY ba.position)
                FROM book_author AS ba JOIN author AS a ON a.id = ba.author_id
                WHERE ba.book_id = $1), 'B')
            || search_words($3, 'C')
            || search_words((
                SELECT string_agg(t.name_search, ' ' ORDER BY t.name)
                FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id WHERE bt.book_id = $1), 'C')
            || search_words($4, 'D')
    $$""",
    """CREATE FUNCTION book_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := book_search_vector(
            NEW.id, NEW.title_search, NEW.series_search, NEW.description_search);
        RETURN NEW;
    END $$""",
    """CREATE FUNCTION author_books_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE book SET search_vector = NULL
        WHERE id IN (SELECT book_id FROM book_author WHERE author_id = NEW.id);
        RETURN NULL;
    END $$""",
]
# The functions and triggers of the previous index that knew `book.author_id`.
OLD_POSTGRES_FUNCTIONS = ("book_search_vector", "book_search_fill", "author_books_search_refresh")
OLD_POSTGRES_TRIGGERS = ("book_search_fill", "author_books_search_refresh")
POSTGRES_TRIGGERS = {
    "book_search_fill": (
        "book",
        "BEFORE INSERT OR UPDATE ON book FOR EACH ROW EXECUTE FUNCTION book_search_fill()",
    ),
    "author_books_search_refresh": (
        "author",
        "AFTER UPDATE OF name_search ON author FOR EACH ROW"
        " WHEN (OLD.name_search IS DISTINCT FROM NEW.name_search)"
        " EXECUTE FUNCTION author_books_search_refresh()",
    ),
    # The refresh book_tag's triggers run serves any table of (book_id, ...) rows.
    "book_author_search_insert": (
        "book_author",
        "AFTER INSERT ON book_author REFERENCING NEW TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_tag_search_refresh()",
    ),
    "book_author_search_delete": (
        "book_author",
        "AFTER DELETE ON book_author REFERENCING OLD TABLE AS changed"
        " FOR EACH STATEMENT EXECUTE FUNCTION book_tag_search_refresh()",
    ),
}


def drop_postgres_index(triggers: dict[str, tuple[str, str]], functions: Sequence[str]) -> None:
    for name, (table, _body) in triggers.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for name in functions:
        op.execute(f"DROP FUNCTION {name}")


def make_postgres_index(functions: Sequence[str], triggers: dict[str, tuple[str, str]]) -> None:
    for statement in functions:
        op.execute(statement)
    for name, (_table, body) in triggers.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    # The fill trigger computes every book's vector again.
    op.execute("UPDATE book SET search_vector = NULL")


# The schema --------------------------------------------------------------------------------

NEW_COLUMNS = (
    ("publisher", sa.String(length=200)),
    ("language", sa.String(length=64)),
    ("series", sa.String(length=200)),
    ("series_position", sa.Float()),
    ("publisher_folded", sa.String()),
    ("series_folded", sa.String()),
)
NEW_INDEXES = {
    "ix_book_publisher_folded_title_id": ["publisher_folded", "title", "id"],
    "ix_book_language_title_id": ["language", "title", "id"],
    "ix_book_series_folded_title_id": ["series_folded", "title", "id"],
    "ix_book_title_search": ["title_search"],
}


def create_book_author() -> None:
    op.create_table(
        "book_author",
        sa.Column("book_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["author.id"],
            name=op.f("fk_book_author_author_id_author"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["book.id"], name=op.f("fk_book_author_book_id_book"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("book_id", "author_id", name=op.f("pk_book_author")),
        sa.UniqueConstraint("book_id", "position", name=op.f("uq_book_author_book_id_position")),
    )
    op.create_index("ix_book_author_author_id_book_id", "book_author", ["author_id", "book_id"])
    op.execute(
        "INSERT INTO book_author (book_id, author_id, position) SELECT id, author_id, 0 FROM book"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in OLD_SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE book_search")
    else:
        old = previous_index().POSTGRES_TRIGGERS
        drop_postgres_index(
            {name: old[name] for name in OLD_POSTGRES_TRIGGERS},
            [
                f"{name}({args})"
                for name, args in zip(
                    OLD_POSTGRES_FUNCTIONS, ("uuid, text, uuid, text", "", ""), strict=True
                )
            ],
        )
    create_book_author()
    with op.batch_alter_table("book") as batch_op:
        for name, kind in NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.add_column(
            sa.Column("series_search", sa.String(), server_default="", nullable=False)
        )
        batch_op.drop_index("ix_book_author_id_title_id")
        batch_op.drop_constraint("fk_book_author_id_author", type_="foreignkey")
        batch_op.drop_column("author_id")
        for name, columns in NEW_INDEXES.items():
            batch_op.create_index(name, columns)
    if sqlite:
        sqlite_index_books([BOOK_SEARCH], book_refresh("1"), SQLITE_TRIGGERS)
    else:
        make_postgres_index(POSTGRES_FUNCTIONS, POSTGRES_TRIGGERS)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    previous = previous_index()
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE book_search")
    else:
        drop_postgres_index(
            POSTGRES_TRIGGERS,
            [
                "book_search_fill()",
                "book_search_vector(uuid, text, text, text)",
                "author_books_search_refresh()",
            ],
        )
    with op.batch_alter_table("book") as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.Uuid(), nullable=True))
    # The first author stays: the one at the lowest position.
    op.execute(
        "UPDATE book SET author_id = (SELECT author_id FROM book_author"
        " WHERE book_id = book.id ORDER BY position LIMIT 1)"
    )
    with op.batch_alter_table("book") as batch_op:
        for name in NEW_INDEXES:
            batch_op.drop_index(name)
        batch_op.alter_column("author_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            "fk_book_author_id_author", "author", ["author_id"], ["id"], ondelete="RESTRICT"
        )
        batch_op.create_index("ix_book_author_id_title_id", ["author_id", "title", "id"])
        for name, _kind in NEW_COLUMNS:
            batch_op.drop_column(name)
        batch_op.drop_column("series_search")
    op.drop_index("ix_book_author_author_id_book_id", table_name="book_author")
    op.drop_table("book_author")
    if sqlite:
        old_triggers = {name: previous.SQLITE_TRIGGERS[name] for name in OLD_SQLITE_TRIGGERS}
        sqlite_index_books([previous.SQLITE_TABLES[0]], previous.book_refresh("1"), old_triggers)
    else:
        old_functions = [
            statement
            for statement in previous.POSTGRES_FUNCTIONS
            if any(f"FUNCTION {name}(" in statement for name in OLD_POSTGRES_FUNCTIONS)
        ]
        old_triggers = {name: previous.POSTGRES_TRIGGERS[name] for name in OLD_POSTGRES_TRIGGERS}
        make_postgres_index(old_functions, old_triggers)
