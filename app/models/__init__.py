"""Every table, imported together so that SQLModel and Alembic see all of them at once."""

from app.models.author import Author, AuthorBase
from app.models.base import Entity, fold, tag_name, utcnow, uuid7
from app.models.book import Book, BookBase
from app.models.book_tag import BookTag
from app.models.idempotency_key import IdempotencyKey
from app.models.tag import Tag, TagBase

__all__ = [
    "Author",
    "AuthorBase",
    "Book",
    "BookBase",
    "BookTag",
    "Entity",
    "IdempotencyKey",
    "Tag",
    "fold",
    "tag_name",
    "TagBase",
    "utcnow",
    "uuid7",
]
