"""The author a request is about, loaded once for every route that needs it."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.authors.repository import AuthorRepositoryDep
from app.authors.schemas import AuthorDetail
from app.etag import IfMatch, found, matching

NOT_AN_AUTHOR = "No author has this id."


async def author(author_id: uuid.UUID, authors: AuthorRepositoryDep) -> AuthorDetail:
    """The author at the path; 404 if there is none."""
    return found(await authors.get(author_id), NOT_AN_AUTHOR)


async def author_to_change(
    author_id: uuid.UUID, authors: AuthorRepositoryDep, if_match: IfMatch = None
) -> AuthorDetail:
    """The author at the path, locked until the transaction ends; 404 or 412 as for any write."""
    return matching(await authors.get_for_update(author_id), NOT_AN_AUTHOR, if_match)


AuthorDep = Annotated[AuthorDetail, Depends(author)]
AuthorToChangeDep = Annotated[AuthorDetail, Depends(author_to_change)]
