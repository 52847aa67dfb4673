import uuid
from typing import Annotated, Any

from sqlalchemy import bindparam, func

# SQLModel's select() and exec() are typed for at most four columns.
from sqlalchemy import select as select_columns
from sqlalchemy.orm import selectinload
from sqlmodel import col, delete, select

from app.authors.schemas import AuthorCreate, AuthorListItem, AuthorQuery, AuthorUpdate
from app.db import SessionDep, on_session
from app.models import Author, Book, fold
from app.repository import after_cursor, count_matching, order_by, relation
from app.search.highlight import highlights
from app.search.query import relevance_columns
from app.search.sql import author_match, substring_filter

AUTHOR_COLUMNS: tuple[Any, ...] = (
    Author.id,
    Author.name,
    Author.bio,
    Author.created_at,
    Author.updated_at,
    Author.version,
)
# Built once, as BOOK_BY_ID in app/books/repository.py is, for the same measured reason.
AUTHOR_WITH_BOOKS = (
    select(Author)
    .where(col(Author.id) == bindparam("author_id"))
    .options(selectinload(relation(Author.books)))
)
SORT_COLUMNS: dict[str, Any] = {
    "name": Author.name,
    "created_at": Author.created_at,
    "updated_at": Author.updated_at,
}


class AuthorRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def search(self, query: AuthorQuery) -> tuple[list[AuthorListItem], int | None]:
        """Return one page of authors with their book counts, and how many match in all
        (None with `count=none`).

        By cursor or without a count, the page has one row more, which tells `Page.of` whether
        another follows.
        """
        filters: list[Any] = []
        if query.name is not None:
            filters.append(col(Author.name_folded) == fold(query.name))
        if query.q is not None:
            dialect = self.session.get_bind().dialect.name
            filters.append(
                substring_filter(fold(query.q), dialect, "author", Author.id, Author.name_folded)
            )
        book_count = (
            select(func.count()).where(Book.author_id == Author.id).correlate(Author)
        ).scalar_subquery()
        # Plain columns, not ORM objects: see BOOK_COLUMNS in app/books/repository.py.
        statement = select_columns(*AUTHOR_COLUMNS, book_count.label("book_count"))
        sort_columns = SORT_COLUMNS
        if (parsed := query.parsed) is not None:
            match = author_match(parsed, self.session.get_bind().dialect.name, Author.id)
            statement = match.join(statement, Author.id).add_columns(match.rank.label("relevance"))
            sort_columns = {**SORT_COLUMNS, **relevance_columns(query, match.rank)}
        statement = (
            statement.where(*filters, *after_cursor(query, sort_columns, Author.id))
            .order_by(*order_by(query, sort_columns, Author.id))
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.exec(statement)).all()  # type: ignore[call-overload]
        authors = [found_author(row, query) for row in rows]
        counted = filters if parsed is None else [*filters, match.filter]
        return authors, await count_matching(self.session, Author, counted, query, len(rows))

    async def get(self, author_id: uuid.UUID) -> Author | None:
        """Return the author with all of their books, or None."""
        found = await self.session.exec(AUTHOR_WITH_BOOKS, params={"author_id": author_id})
        return found.one_or_none()

    async def get_for_update(self, author_id: uuid.UUID) -> Author | None:
        """Return the author with their books (for the ETag), locked where the database can."""
        statement = (
            select(Author)
            .where(Author.id == author_id)
            .options(selectinload(relation(Author.books)))
            .with_for_update()
        )
        return (await self.session.exec(statement)).one_or_none()

    async def create(self, data: AuthorCreate) -> Author:
        author = Author.model_validate(data)
        self.session.add(author)
        await self.session.flush()
        return author

    async def update(self, author: Author, data: AuthorUpdate) -> Author:
        author.sqlmodel_update(data.model_dump(exclude_unset=True))
        author.touch()
        await self.session.flush()
        return author

    async def delete(self, author: Author, *, cascade: bool) -> None:
        """Delete the author; with `cascade`, their books go too, in the same transaction."""
        if cascade:
            await self.session.exec(delete(Book).where(col(Book.author_id) == author.id))
        await self.session.delete(author)
        await self.session.flush()


AuthorRepositoryDep = Annotated[AuthorRepository, on_session(AuthorRepository)]


def found_author(row: Any, query: AuthorQuery) -> AuthorListItem:
    """A list item, with its rank and highlights when the list searched."""
    item = AuthorListItem.model_validate(row._mapping)
    if query.search is not None:
        fields = {"name": row.name, "bio": row.bio}
        shown = highlights(fields, query.parsed) if query.highlight else None
        item.found_with(row.relevance, shown)
    return item
