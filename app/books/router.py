from fastapi import APIRouter, Response

from app.books.dependencies import BookDep, BookToChangeDep
from app.books.repository import BookRepositoryDep
from app.books.schemas import BookCreate, BookListItem, BookQueryDep, BookRead, BookUpdate
from app.collection import Collection, add_shared_routes
from app.errors import problem_responses

router = APIRouter(prefix="/books", tags=["books"])

add_shared_routes(
    router,
    Collection(
        name="book",
        create=BookCreate,
        update=BookUpdate,
        written=BookRead,
        shown=BookRead,
        listed=BookListItem,
        query=BookQueryDep,
        repository=BookRepositoryDep,
        loaded=BookDep,
        to_change=BookToChangeDep,
    ),
    docs={
        "create": (
            "Create a book and any new tags it names; `Idempotency-Key` replays as for authors."
        ),
        "list": "List books with their authors and tags, filtered, sorted and paginated.",
        "get": "Get one book with its author and tags.",
        "update": "Change some of a book's fields; `tags` replaces the whole list.",
    },
    update_problems=[404, 409, 412],
)


@router.delete(
    "/{book_id}", status_code=204, response_class=Response, responses=problem_responses(404, 412)
)
async def delete_book(book: BookToChangeDep, books: BookRepositoryDep) -> None:
    """Delete a book."""
    await books.delete(book)
