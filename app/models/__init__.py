"""Every table, imported together so that SQLModel and Alembic see all of them at once."""

from app.models.api_key import ApiKey
from app.models.author import Author, AuthorBase, AuthorBio, AuthorName
from app.models.base import Entity, fold, utcnow, uuid7
from app.models.book import (
    ISBN_LENGTH,
    MAX_ISBN_INPUT,
    MIN_YEAR,
    Book,
    BookBase,
    BookDescription,
    BookTitle,
)
from app.models.book_tag import BookTag
from app.models.idempotency_key import IdempotencyKey
from app.models.tag import MAX_TAG_LENGTH, Tag, TagBase, TagName

__all__ = [
    "ApiKey",
    "ISBN_LENGTH",
    "MAX_ISBN_INPUT",
    "MAX_TAG_LENGTH",
    "MIN_YEAR",
    "Author",
    "AuthorBase",
    "AuthorBio",
    "AuthorName",
    "Book",
    "BookBase",
    "BookDescription",
    "BookTitle",
    "BookTag",
    "Entity",
    "IdempotencyKey",
    "Tag",
    "fold",
    "TagBase",
    "TagName",
    "utcnow",
    "uuid7",
]
