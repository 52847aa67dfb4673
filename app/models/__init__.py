"""Every table, imported together so that SQLModel and Alembic see all of them at once."""

from app.models.author import Author, AuthorBase
from app.models.base import Entity, fold, utcnow, uuid7
from app.models.book import Book, BookBase
from app.models.book_tag import BookTag
from app.models.idempotency_key import IdempotencyKey
from app.models.import_chunk import ImportChunk
from app.models.import_error import ImportRowError
from app.models.import_event import ImportEvent
from app.models.import_job import Import
from app.models.tag import Tag, TagBase

__all__ = [
    "Author",
    "AuthorBase",
    "Book",
    "BookBase",
    "BookTag",
    "Entity",
    "IdempotencyKey",
    "Import",
    "ImportChunk",
    "ImportEvent",
    "ImportRowError",
    "Tag",
    "fold",
    "TagBase",
    "utcnow",
    "uuid7",
]
