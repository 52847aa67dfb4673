from typing import Annotated, Any

from sqlalchemy import func
from sqlmodel import select

from app.db import SessionDep, on_session
from app.models import BookTag, Tag, tag_name
from app.repository import after_cursor, contains_text, count_matching, order_by
from app.tags.schemas import TagQuery, TagRead


class TagRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def search(self, query: TagQuery) -> tuple[list[TagRead], int | None]:
        """Return one page of tags with how many books carry each, and how many match in all
        (None with `count=none`).

        By cursor or without a count, the page has one row more, which tells `Page.of` whether
        another follows.
        """
        # Names are stored lower-cased by Python; SQLite's lower() folds only ASCII, so the
        # query is folded the same way here, or "É" would never find "é".
        filters = [] if query.q is None else [contains_text(Tag.name, tag_name(query.q))]
        book_count = (
            select(func.count()).where(BookTag.tag_id == Tag.id).correlate(Tag).scalar_subquery()
        )
        columns: dict[str, Any] = {"name": Tag.name, "book_count": book_count}
        statement = (
            select(Tag.id, Tag.name, book_count.label("book_count"))
            .where(*filters, *after_cursor(query, columns, Tag.id))
            .order_by(*order_by(query, columns, Tag.id))
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.exec(statement)).all()
        tags = [TagRead(id=tag_id, name=name, book_count=books) for tag_id, name, books in rows]
        return tags, await count_matching(self.session, Tag, filters, query, len(rows))


TagRepositoryDep = Annotated[TagRepository, on_session(TagRepository)]
