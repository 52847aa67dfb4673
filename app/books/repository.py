import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from app.books.schemas import BookCreate, BookQuery, BookUpdate
from app.db import SessionDep, insert_missing
from app.models import Author, Book, BookTag, Tag, fold, utcnow, uuid7
from app.repository import contains_text, count, order_by, relation

SORT_COLUMNS: dict[str, Any] = {
    "title": Book.title,
    "published_year": Book.published_year,
    "created_at": Book.created_at,
    "updated_at": Book.updated_at,
}
# What every book answer shows: its author (one join) and its tags (one query per page).
WITH_AUTHOR_AND_TAGS = (
    joinedload(relation(Book.author), innerjoin=True),
    selectinload(relation(Book.tags)),
)


class BookRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def search(self, query: BookQuery) -> tuple[Sequence[Book], int]:
        """Return one page of books with authors and tags, and how many match in all."""
        filters: list[Any] = []
        if query.author_id is not None:
            filters.append(Book.author_id == query.author_id)
        if query.tag is not None:
            tagged = select(BookTag.book_id).join(Tag).where(Tag.name == query.tag.lower())
            filters.append(col(Book.id).in_(tagged))
        if query.isbn is not None:
            filters.append(Book.isbn == query.isbn)
        if query.year_from is not None:
            filters.append(col(Book.published_year) >= query.year_from)
        if query.year_to is not None:
            filters.append(col(Book.published_year) <= query.year_to)
        if query.q is not None:
            filters.append(contains_text(Book.title_folded, fold(query.q)))
        statement = (
            select(Book)
            .where(*filters)
            .options(*WITH_AUTHOR_AND_TAGS)
            .order_by(*order_by(query, SORT_COLUMNS, Book.id))
            .offset(query.offset)
            .limit(query.per_page)
        )
        books = (await self.session.exec(statement)).all()
        return books, await count(self.session, Book, filters)

    async def get(self, book_id: uuid.UUID) -> Book | None:
        statement = select(Book).where(Book.id == book_id).options(*WITH_AUTHOR_AND_TAGS)
        return (await self.session.exec(statement)).one_or_none()

    async def get_for_update(self, book_id: uuid.UUID) -> Book | None:
        """Return the book, locked for the rest of the transaction where the database can."""
        statement = (
            select(Book)
            .where(Book.id == book_id)
            .options(*WITH_AUTHOR_AND_TAGS)
            .with_for_update(of=Book)
        )
        return (await self.session.exec(statement)).one_or_none()

    async def create(self, data: BookCreate) -> Book:
        """Insert the book, creating tags that do not exist yet."""
        book = Book.model_validate(data.model_dump(exclude={"tags"}))
        book.tags = await self.tags_named(data.tags)
        self.session.add(book)
        # A missing author fails this flush on the foreign key; errors.py answers 422.
        await self.session.flush()
        await self.load_author(book)
        return book

    async def update(self, book: Book, data: BookUpdate) -> Book:
        changes = data.model_dump(exclude_unset=True, exclude={"tags"})
        book.sqlmodel_update(changes)
        if "tags" in data.model_fields_set:
            # Without this the tag queries would flush the changed fields first, and the
            # flush after touch() would then count the same update twice in `version`.
            with self.session.no_autoflush:
                book.tags = await self.tags_named(data.tags or [])
        book.touch()
        await self.session.flush()
        if "author_id" in changes:
            await self.load_author(book)
        return book

    async def delete(self, book: Book) -> None:
        await self.session.delete(book)
        await self.session.flush()

    async def tags_named(self, names: list[str]) -> list[Tag]:
        """Return the tags with these names, creating the missing ones."""
        if not names:
            return []
        now = utcnow()
        rows = [
            {"id": uuid7(), "name": name, "created_at": now, "updated_at": now, "version": 1}
            for name in names
        ]
        await insert_missing(self.session, Tag, rows, key="name")
        statement = select(Tag).where(col(Tag.name).in_(names)).order_by(Tag.name)
        return list((await self.session.exec(statement)).all())

    async def load_author(self, book: Book) -> None:
        """Attach the book's author for the answer, without touching the author's book list."""
        author = await self.session.get(Author, book.author_id)
        set_committed_value(book, "author", author)


BookRepositoryDep = Annotated[BookRepository, Depends()]
