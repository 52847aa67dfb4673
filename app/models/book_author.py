import uuid

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class BookAuthor(SQLModel, table=True):
    """Links a book to one of its authors, at the author's place in the book's order (0 is the
    first author). Links go with their book; an author who still has books cannot go."""

    __tablename__ = "book_author"
    __table_args__ = (
        UniqueConstraint("book_id", "position"),
        # The primary key leads with book_id, so "books by this author" needs its own index.
        Index("ix_book_author_author_id_book_id", "author_id", "book_id"),
    )

    book_id: uuid.UUID = Field(
        primary_key=True,
        # Deferrable, so that an import can link its new books before it inserts them (once
        # each, with their links) and have the keys checked at its commit.
        sa_column_args=[
            ForeignKey("book.id", ondelete="CASCADE", deferrable=True, initially="IMMEDIATE")
        ],
    )
    author_id: uuid.UUID = Field(foreign_key="author.id", primary_key=True, ondelete="RESTRICT")
    position: int


# The table, for links inserted many at a time through Core.
BOOK_AUTHOR = SQLModel.metadata.tables["book_author"]
