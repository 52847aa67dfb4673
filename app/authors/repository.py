import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import bindparam, func

# SQLModel's select() and exec() are typed for at most four columns.
from sqlalchemy import select as select_columns
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, delete, select, update

from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorListItem,
    AuthorQuery,
    AuthorUpdate,
)
from app.db.session import on_session
from app.db.sqlite_driver import ALONE
from app.kit.loaders import load_or_404, load_to_change
from app.kit.pagination import Slice
from app.kit.repository import Repository, json_list, relation
from app.models import Author, Book, BookAuthor, fold, utcnow
from app.search.highlight import highlights
from app.search.sql import Ranked, author_match, substring_filter

BOOK_COUNT = (
    select(func.count()).where(BookAuthor.author_id == Author.id).correlate(Author)
).scalar_subquery()
# Plain columns, not ORM objects: see BOOK_COLUMNS in app/books/repository.py.
AUTHOR_FIELDS: tuple[Any, ...] = (
    Author.id,
    Author.name,
    Author.bio,
    Author.created_at,
    Author.updated_at,
    Author.version,
)
AUTHOR_COLUMNS = (*AUTHOR_FIELDS, BOOK_COUNT.label("book_count"))
AUTHORS = select_columns(*AUTHOR_COLUMNS)
WITH_BOOKS = selectinload(relation(Author.books))

# An author's books as one value of the author's row: the fields AuthorBook shows, in the
# order of the `Author.books` relationship.
BOOK_LIST = json_list(
    {
        "id": Book.id,
        "title": Book.title,
        "isbn": Book.isbn,
        "published_year": Book.published_year,
        "version": Book.version,
    },
    where=[col(BookAuthor.author_id) == Author.id, col(Book.id) == BookAuthor.book_id],
    order_by=[col(Book.published_year).asc().nulls_last(), col(Book.title), col(Book.id)],
    outer=Author,
    objects=True,
)
# A get is one statement, as a book's is (app/books/repository.py): no BEGIN or COMMIT on SQLite.
AUTHOR_BY_ID = {
    dialect: select_columns(*AUTHOR_FIELDS, books.label("books"))
    .where(col(Author.id) == bindparam("author_id"))
    .execution_options(**{ALONE: True})
    for dialect, books in BOOK_LIST.items()
}


class AuthorRepository(Repository[Author]):
    model = Author
    loads = (WITH_BOOKS,)

    async def page(self, query: AuthorQuery) -> Slice[AuthorListItem]:
        """One page of authors with their book counts, best match first when searching."""
        dialect = self.session.get_bind().dialect.name
        filters: list[Any] = []
        if query.name is not None:
            filters.append(col(Author.name_folded) == fold(query.name))
        if query.q is not None:
            folded = fold(query.q)
            filters.append(
                substring_filter(folded, dialect, "author", Author.id, Author.name_folded)
            )
        parsed = query.parsed
        typos = await query.match_typos(self.session)
        match = None if parsed is None else author_match(parsed, typos, Author.id)
        found = await Ranked(AUTHORS, match, Author.id).page(self.session, query, filters, Author)
        typo_words = set() if match is None else match.typos
        return found.with_items([listed_author(row, query, typo_words) for row in found.items])

    async def get(self, author_id: uuid.UUID) -> AuthorDetail | None:
        """The author with all of their books, or None."""
        statement = AUTHOR_BY_ID[self.session.get_bind().dialect.name]
        found = await self.session.exec(statement, params={"author_id": author_id})  # type: ignore[call-overload]
        row = found.one_or_none()
        return None if row is None else AuthorDetail.model_validate(row._asdict())

    async def get_for_update(self, author_id: uuid.UUID) -> AuthorDetail | None:
        """The author with their books, locked for the rest of the transaction where the
        database can."""
        author = await self.lock(author_id)
        return None if author is None else AuthorDetail.model_validate(author)

    async def create(self, data: AuthorCreate) -> AuthorDetail:
        author = Author.model_validate(data)
        self.session.add(author)
        await self.session.flush()
        # A new author has no books: nothing to load.
        set_committed_value(author, "books", [])
        return AuthorDetail.model_validate(author)

    async def update(self, shown: AuthorDetail, data: AuthorUpdate) -> AuthorDetail:
        """Apply the fields sent to the author locked by `get_for_update`."""
        author = await self.locked_row(shown.id)
        author.sqlmodel_update(data.model_dump(exclude_unset=True))
        author.touch()
        await self.session.flush()
        return AuthorDetail.model_validate(author)

    async def delete(self, shown: AuthorDetail, *, cascade: bool) -> None:
        """Delete the author. With `cascade`, the books they alone wrote go too, and the books
        they wrote with others lose them, in the same transaction; without it, an author who
        still has books stays (the database refuses, and errors.py answers 409)."""
        author = await self.locked_row(shown.id)
        if cascade:
            # FOR UPDATE, not the lock's FOR NO KEY UPDATE: it also keeps out the key-share
            # locks that linking a new book to the author takes, so no book gains the author
            # while they go; such a create waits, then finds no author (a 422).
            await self.session.exec(
                select(Author.id).where(col(Author.id) == author.id).with_for_update()
            )
            await self.remove_from_books(author.id)
        await self.session.delete(author)
        await self.session.flush()

    async def remove_from_books(self, author_id: uuid.UUID) -> None:
        """Delete the books only this author wrote; take the author off the others, which
        change (a new version) as their list of authors does."""
        theirs = select(BookAuthor.book_id).where(BookAuthor.author_id == author_id)
        shared = select(BookAuthor.book_id).where(
            BookAuthor.book_id == Book.id, BookAuthor.author_id != author_id
        )
        await self.session.exec(delete(Book).where(col(Book.id).in_(theirs), ~shared.exists()))
        await self.session.exec(
            update(Book)
            .where(col(Book.id).in_(theirs))
            .values(updated_at=utcnow(), version=col(Book.version) + 1)
            .execution_options(synchronize_session=False)
        )
        await self.session.exec(delete(BookAuthor).where(col(BookAuthor.author_id) == author_id))


NO_AUTHOR = "No author has this id."
author_repository = on_session(AuthorRepository)
AuthorRepositoryDep = Annotated[AuthorRepository, Depends(author_repository)]
AuthorDep = Annotated[AuthorDetail, Depends(load_or_404(author_repository, "author_id", NO_AUTHOR))]
AuthorToChangeDep = Annotated[
    AuthorDetail, Depends(load_to_change(author_repository, "author_id", NO_AUTHOR))
]


def listed_author(row: Any, query: AuthorQuery, typos: set[str]) -> AuthorListItem:
    """A list's author, with the highlights of what a search found when they were asked for."""
    shown = dict(row._mapping)
    if query.highlight and (parsed := query.parsed) is not None:
        shown["highlights"] = highlights({"name": row.name, "bio": row.bio}, parsed, typos)
    return AuthorListItem.model_validate(shown)
