"""Every table, imported together so that SQLModel and Alembic see all of them at once."""

from app.models.api_key import ApiKey
from app.models.author import AUTHOR, Author, AuthorBase, AuthorBio, AuthorName
from app.models.base import Entity, fold, tag_name, utcnow, uuid7
from app.models.book import (
    BOOK,
    ISBN_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_ISBN_INPUT,
    MAX_LANGUAGE_LENGTH,
    MAX_YEAR,
    MIN_YEAR,
    Book,
    BookBase,
    BookDescription,
    BookPublisher,
    BookSeries,
    BookTitle,
    PublishedYear,
    derived_columns,
)
from app.models.book_author import BOOK_AUTHOR, BookAuthor
from app.models.book_tag import BOOK_TAG, BookTag
from app.models.idempotency_key import IdempotencyKey
from app.models.import_chunk import ImportChunk
from app.models.import_error import ImportRowError
from app.models.import_event import ImportEvent
from app.models.import_job import Import
from app.models.import_warning import ImportRowWarning
from app.models.tag import MAX_TAG_LENGTH, TAG, Tag, TagBase, TagName

__all__ = [
    "AUTHOR",
    "ApiKey",
    "BOOK",
    "BOOK_AUTHOR",
    "BOOK_TAG",
    "ISBN_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_ISBN_INPUT",
    "MAX_LANGUAGE_LENGTH",
    "MAX_YEAR",
    "MAX_TAG_LENGTH",
    "TAG",
    "MIN_YEAR",
    "Author",
    "AuthorBase",
    "AuthorBio",
    "AuthorName",
    "Book",
    "BookAuthor",
    "BookBase",
    "BookDescription",
    "BookPublisher",
    "BookSeries",
    "BookTitle",
    "PublishedYear",
    "BookTag",
    "Entity",
    "IdempotencyKey",
    "Import",
    "ImportChunk",
    "ImportEvent",
    "ImportRowError",
    "ImportRowWarning",
    "Tag",
    "derived_columns",
    "fold",
    "tag_name",
    "TagBase",
    "TagName",
    "utcnow",
    "uuid7",
]
