"""Compare names, titles and tags in NFC: re-fold the folded columns and merge tags that
differ only in how their accents were typed.

Revision ID: 0b81c0793217
Revises: 8c3d2e4f6a90
Create Date: 2026-11-29 09:15:00+00:00

Downgrade keeps the data as it is: the NFC-folded columns are also what the older code
would match against for composed text, and merged tags cannot be told apart again.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0b81c0793217"
down_revision: str | None = "8c3d2e4f6a90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """As app.models.fold does today; a migration never imports the app."""
    return nfc(nfc(text).casefold())


def refold(table_name: str, source: str, target: str) -> None:
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column(source), sa.column(target))
    connection = op.get_bind()
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({target: sa.bindparam("folded")})
    )
    rows = connection.execute(sa.select(table.c.id, table.c[source], table.c[target])).all()
    changed = [
        {"row_id": id_, "folded": fold(text)} for id_, text, old in rows if fold(text) != old
    ]
    for start in range(0, len(changed), BATCH):
        connection.execute(update, changed[start : start + BATCH])


def merge_tags() -> None:
    """Give every tag its NFC name; where two tags then share one, the oldest keeps the books."""
    tag = sa.table(
        "tag",
        sa.column("id", sa.Uuid()),
        sa.column("name"),
        sa.column("created_at"),
    )
    book_tag = sa.table("book_tag", sa.column("book_id", sa.Uuid()), sa.column("tag_id", sa.Uuid()))
    connection = op.get_bind()
    groups: defaultdict[str, list[tuple[object, str]]] = defaultdict(list)
    rows = connection.execute(
        sa.select(tag.c.id, tag.c.name).order_by(tag.c.created_at, tag.c.id)
    ).all()
    for id_, name in rows:
        groups[nfc(name.lower())].append((id_, name))
    for name, members in groups.items():
        keeper, keeper_name = members[0]
        for other, _ in members[1:]:
            linked = sa.select(book_tag.c.book_id).where(book_tag.c.tag_id == keeper)
            connection.execute(
                sa.update(book_tag)
                .where(book_tag.c.tag_id == other, book_tag.c.book_id.not_in(linked))
                .values(tag_id=keeper)
            )
            connection.execute(sa.delete(book_tag).where(book_tag.c.tag_id == other))
            connection.execute(sa.delete(tag).where(tag.c.id == other))
        if keeper_name != name:
            connection.execute(sa.update(tag).where(tag.c.id == keeper).values(name=name))


def upgrade() -> None:
    refold("author", "name", "name_folded")
    refold("book", "title", "title_folded")
    merge_tags()


def downgrade() -> None:
    # Nothing to undo: see the module docstring.
    pass
