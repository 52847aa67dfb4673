"""Which authors each row of an import names: by id where that author exists, else by name,
matched case-insensitively to the one author of exactly that name, and created when there is
none. A name that several authors share is an error for its row."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.imports.loading import load_rows
from app.imports.schemas import ImportRow
from app.models import AUTHOR, Author, fold, utcnow, uuid7
from app.search.text import search_text

Fault = tuple[str, str, str]  # loc, msg, type
AMBIGUOUS = ("More than one author has this name; give author_ids.", "ambiguous_author")
NO_AUTHOR = ("No author has this id.", "missing_reference")


@dataclass(frozen=True)
class Known:
    """An author a row names: their id, and their name as search folds it."""

    id: uuid.UUID
    words: str


class AuthorResolver:
    """Resolves the authors of a batch's rows, creating those named for the first time."""

    def __init__(self, session: AsyncSession, dry_run: bool) -> None:
        self.session = session
        self.dry_run = dry_run
        self.by_id: dict[uuid.UUID, Known] = {}
        self.by_name: dict[str, list[Known]] = {}
        self.created: list[dict[str, Any]] = []

    async def resolve(self, rows: list[tuple[int, ImportRow]]) -> dict[int, list[Known] | Fault]:
        """Each row's authors in order (each once), or the fault that keeps it out, by line."""
        await self.look_up(rows)
        resolved = {line: self.authors_of(row) for line, row in rows}
        if self.created and not self.dry_run:
            await load_rows(self.session, AUTHOR, self.created)
        return resolved

    async def look_up(self, rows: list[tuple[int, ImportRow]]) -> None:
        """Read the authors the rows name by id, then those they name by name alone."""
        ids = {author_id for _, row in rows for author_id, _ in row.places if author_id}
        if ids:
            by_id = select(Author.id, Author.name_search).where(col(Author.id).in_(ids))
            for author_id, words in (await self.session.exec(by_id)).all():
                self.by_id[author_id] = Known(author_id, words)
        wanted = {
            fold(name)
            for _, row in rows
            for author_id, name in row.places
            if name is not None and author_id not in self.by_id
        }
        if wanted:
            by_name = select(Author.name_folded, Author.id, Author.name_search)
            if self.session.get_bind().dialect.name == "postgresql":
                # A join to the names, not `IN`: PostgreSQL plans a long `IN` on this column on
                # its trigram index, which then compares every name; the join uses the b-tree.
                names = func.unnest(literal(sorted(wanted), ARRAY(String))).table_valued("name")
                by_name = by_name.join(names, col(Author.name_folded) == names.c.name)
            else:
                by_name = by_name.where(col(Author.name_folded).in_(wanted))
            for name, author_id, words in (await self.session.exec(by_name)).all():
                self.by_name.setdefault(name, []).append(Known(author_id, words))

    def authors_of(self, row: ImportRow) -> list[Known] | Fault:
        plural = row.author_ids is not None or row.authors is not None
        chosen: dict[uuid.UUID, Known] = {}
        for author_id, name in row.places:
            if author_id is not None and author_id in self.by_id:
                found = self.by_id[author_id]
            elif name is None:
                return ("author_ids" if plural else "author_id", *NO_AUTHOR)
            elif len(named := self.by_name.get(fold(name), [])) > 1:
                return ("authors" if plural else "author", *AMBIGUOUS)
            else:
                found = named[0] if named else self.create(name)
            chosen.setdefault(found.id, found)
        return list(chosen.values())

    def create(self, name: str) -> Known:
        """A new author of this name, written with the batch (unless it is a dry run)."""
        now = utcnow()
        known = Known(uuid7(), search_text(name))
        self.by_name[fold(name)] = [known]
        self.created.append(
            {
                "id": known.id,
                "name": name,
                "name_folded": fold(name),
                # Written here: rows loaded around the ORM get no column default.
                "name_search": known.words,
                "bio": None,
                "bio_search": "",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        return known
