import uuid

from sqlalchemy import ForeignKey
from sqlmodel import Field, SQLModel


class BookTag(SQLModel, table=True):
    """Links a book to a tag; rows go when either side is deleted."""

    __tablename__ = "book_tag"

    book_id: uuid.UUID = Field(
        primary_key=True,
        # Deferrable, so that an import can link its new books before it inserts them (once
        # each, with their links) and have the keys checked at its commit.
        sa_column_args=[
            ForeignKey("book.id", ondelete="CASCADE", deferrable=True, initially="IMMEDIATE")
        ],
    )
    # The primary key leads with book_id, so "books with this tag" needs its own index.
    tag_id: uuid.UUID = Field(
        foreign_key="tag.id", primary_key=True, ondelete="CASCADE", index=True
    )


# The table, for links inserted many at a time through Core: the ORM's bulk insert of the same
# rows was a sixth of the SQL execution time in a profile of creates.
BOOK_TAG = SQLModel.metadata.tables["book_tag"]
