"""`GET /exports/books`: the catalogue, or the books a `GET /books` filter finds, as one file."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from app.exports.schemas import ExportQuery
from app.exports.stream import export_text
from app.imports.formats import FORMATS, by_name
from app.kit.errors import problem_responses
from app.state import request_state

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/books",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every matching book, one per line, in the import format.",
            "content": {
                found.export_media_type: {"schema": {"type": "string"}}
                for found in FORMATS.values()
            },
        },
        **problem_responses(),
    },
)
async def export_books(
    query: Annotated[ExportQuery, Query()], request: Request
) -> StreamingResponse:
    """Stream every book that `GET /books` would list with these filters, in this order."""
    try:
        query.page("")  # checked as GET /books checks them, before the answer starts
    except ValidationError as exc:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None

    async def encoded() -> AsyncIterator[bytes]:
        async for text in export_text(request_state(request).database, query):
            yield text.encode()

    return StreamingResponse(
        encoded(),
        media_type=by_name(query.format).export_media_type,
        headers={"Content-Disposition": f'attachment; filename="books.{query.format}"'},
    )
