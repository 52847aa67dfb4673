"""A write load in which every client owns what it creates, so the expected end state is exact.

Each `Writer` creates authors and books (with tags, some shared by every client), patches and
deletes only its own, and keeps what the 2xx answers said: the database must end up holding
exactly that. A request whose answer never came (the server was killed) is kept as `pending`:
it may or may not have been applied, so the client's rows must then match one of two states.
Creates carry an `Idempotency-Key`, so a create left pending can be sent again (`retry`) and
must then leave exactly one row.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

State = dict[str, Any]
SHARED_TAGS = ("shared-a", "shared-b", "shared-c")
AUTHOR_FIELDS = ("name", "bio", "version")
BOOK_FIELDS = ("title", "author_id", "published_year", "tags", "version")
PER_PAGE = 100


def author_state(data: State) -> State:
    return {field: data[field] for field in AUTHOR_FIELDS}


def book_state(data: State) -> State:
    return {field: data[field] for field in BOOK_FIELDS}


def tag_names(names: list[str]) -> list[str]:
    return sorted({name.strip().lower() for name in names})


@dataclass(frozen=True)
class Pending:
    """A request that was sent but never answered."""

    method: str
    path: str
    body: State | None
    error: str
    headers: dict[str, str]


class Writer:
    """One client of the load: it only ever touches what it created itself."""

    def __init__(self, number: int, http: httpx.AsyncClient, *, deletes: bool, reads: bool) -> None:
        self.prefix = f"c{number:02d}-"
        self.http = http
        self.rng = random.Random(number)
        self.deletes = deletes
        self.reads = reads
        self.authors: dict[str, State] = {}  # id -> state as last acknowledged
        self.books: dict[str, State] = {}
        self.deleted_authors: set[str] = set()
        self.deleted_books: set[str] = set()
        self.statuses: Counter[int] = Counter()
        self.acknowledged: Counter[str] = Counter()  # "create", "patch", "delete", "read"
        self.failures: list[str] = []
        self.pending: Pending | None = None
        self.sent = 0
        self.stopped = False

    def stop(self) -> None:
        """End `run` after the request in hand."""
        self.stopped = True

    async def run(self, deadline: float, max_requests: int) -> None:
        """Send requests until the deadline, the request budget, or the first lost answer."""
        while (
            time.monotonic() < deadline
            and self.sent < max_requests
            and self.pending is None
            and not self.stopped
        ):
            await self.step()

    async def step(self) -> None:
        roll = self.rng.random()
        if not self.authors or roll < 0.2:
            await self.create_author()
        elif roll < 0.45:
            await self.create_book()
        elif roll < 0.6:
            await self.patch_author()
        elif roll < 0.75:
            await (self.patch_book() if self.books else self.create_book())
        elif roll < 0.83 and self.deletes and self.books:
            await self.delete_book()
        elif roll < 0.87 and self.deletes:
            await self.delete_author()
        elif self.reads:
            await self.read_back_one()
        else:
            await self.patch_author()

    def name(self, kind: str) -> str:
        return f"{self.prefix}{kind}-{self.sent}"

    async def send(
        self,
        method: str,
        path: str,
        body: State | None,
        expected: int,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        """Send one request; None if the answer is not `expected` (a failure, unless lost)."""
        self.sent += 1
        headers = headers or {}
        try:
            response = await self.http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            self.pending = Pending(method, path, body, repr(exc), headers)
            return None
        self.statuses[response.status_code] += 1
        if response.status_code != expected or "database is locked" in response.text:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return None
        return response

    def check(self, what: str, got: object, expected: object) -> None:
        if got != expected:
            self.failures.append(f"{what}: answered {got!r}, expected {expected!r}")

    def idempotency_key(self) -> dict[str, str]:
        """The header that makes the next create safe to send again."""
        return {"Idempotency-Key": f"{self.prefix}create-{self.sent}"}

    async def create_author(self) -> None:
        body = {"name": self.name("author"), "bio": f"bio {self.sent}"}
        response = await self.send("POST", "/authors", body, 201, self.idempotency_key())
        if response is None:
            return
        self.created_author(body, response)

    def created_author(self, body: State, response: httpx.Response) -> None:
        created = author_state(response.json())
        self.check("created author", created, {**body, "version": 1})
        self.authors[response.json()["id"]] = created
        self.acknowledged["create"] += 1

    async def create_book(self) -> None:
        author_id = self.rng.choice(sorted(self.authors))
        tags = [self.rng.choice(SHARED_TAGS).upper(), f" {self.prefix}t{self.sent % 3} "]
        body = {
            "title": self.name("book"),
            "author_id": author_id,
            "published_year": 1900 + self.sent % 120,
            "tags": tags,
        }
        response = await self.send("POST", "/books", body, 201, self.idempotency_key())
        if response is None:
            return
        self.created_book(body, response)

    def created_book(self, body: State, response: httpx.Response) -> None:
        created = book_state(response.json())
        self.check("created book", created, {**body, "tags": tag_names(body["tags"]), "version": 1})
        self.books[response.json()["id"]] = created
        self.acknowledged["create"] += 1

    async def patch_author(self) -> None:
        author_id = self.rng.choice(sorted(self.authors))
        if self.rng.random() < 0.5:
            body: State = {"bio": None if self.rng.random() < 0.2 else f"bio {self.sent}"}
        else:
            body = {"name": self.name("author")}
        if (response := await self.send("PATCH", f"/authors/{author_id}", body, 200)) is None:
            return
        expected = patched_author(self.authors[author_id], body)
        self.check("patched author", author_state(response.json()), expected)
        self.authors[author_id] = expected
        self.acknowledged["patch"] += 1

    async def patch_book(self) -> None:
        book_id = self.rng.choice(sorted(self.books))
        body: State = {"title": self.name("book")}
        if self.rng.random() < 0.5:
            body["tags"] = [self.rng.choice(SHARED_TAGS), f"{self.prefix}t{self.sent % 5}"]
        if (response := await self.send("PATCH", f"/books/{book_id}", body, 200)) is None:
            return
        expected = patched_book(self.books[book_id], body)
        self.check("patched book", book_state(response.json()), expected)
        self.books[book_id] = expected
        self.acknowledged["patch"] += 1

    async def delete_book(self) -> None:
        book_id = self.rng.choice(sorted(self.books))
        if await self.send("DELETE", f"/books/{book_id}", None, 204) is None:
            return
        del self.books[book_id]
        self.deleted_books.add(book_id)
        self.acknowledged["delete"] += 1

    async def delete_author(self) -> None:
        author_id = self.rng.choice(sorted(self.authors))
        path = f"/authors/{author_id}?cascade=true"
        if await self.send("DELETE", path, None, 204) is None:
            return
        del self.authors[author_id]
        self.deleted_authors.add(author_id)
        for book_id in [id_ for id_, book in self.books.items() if book["author_id"] == author_id]:
            del self.books[book_id]
            self.deleted_books.add(book_id)
        self.acknowledged["delete"] += 1

    async def read_back_one(self) -> None:
        """A GET right after the writes (on a reader connection) sees every acknowledged one."""
        author_id = self.rng.choice(sorted(self.authors))
        if (response := await self.send("GET", f"/authors/{author_id}", None, 200)) is None:
            return
        data = response.json()
        self.check("read author", author_state(data), self.authors[author_id])
        books = {book["id"] for book in data["books"]}
        mine = {id_ for id_, book in self.books.items() if book["author_id"] == author_id}
        self.check("read author's books", books, mine)
        self.acknowledged["read"] += 1

    async def retry(self, http: httpx.AsyncClient) -> bool:
        """Send a create left pending again, with its key: its stored answer comes back if it
        was applied, else it is applied now. Either way it is then acknowledged, no longer
        pending. False when there was no such create."""
        pending = self.pending
        if pending is None or pending.method != "POST" or pending.body is None:
            return False
        response = await http.post(pending.path, json=pending.body, headers=pending.headers)
        if response.status_code != 201:
            self.failures.append(f"retried {pending.path}: {response.status_code} {response.text}")
            return True
        self.pending = None
        created = self.created_author if pending.path == "/authors" else self.created_book
        created(pending.body, response)
        return True

    def owns(self, state: State) -> bool:
        return str(state.get("name", state.get("title", ""))).startswith(self.prefix)

    def mismatches(self, authors: dict[str, State], books: dict[str, State]) -> list[str]:
        """How this client's rows in the database differ from what its answers said."""
        found = (
            {id_: state for id_, state in authors.items() if self.owns(state)},
            {id_: state for id_, state in books.items() if self.owns(state)},
        )
        acknowledged = (dict(self.authors), dict(self.books))
        if found == acknowledged:
            return []
        if self.pending is not None and found == self.with_pending(*found):
            return []
        return [
            f"{self.prefix}: database differs from the acknowledged writes "
            f"(pending: {self.pending}): "
            f"{describe_difference('author', found[0], acknowledged[0])}; "
            f"{describe_difference('book', found[1], acknowledged[1])}"
        ]

    def with_pending(
        self, found_authors: dict[str, State], found_books: dict[str, State]
    ) -> tuple[dict[str, State], dict[str, State]]:
        """The acknowledged state with the unanswered request applied as well."""
        assert self.pending is not None
        authors, books = dict(self.authors), dict(self.books)
        method, path, body = self.pending.method, self.pending.path.split("?")[0], self.pending.body
        target = path.rsplit("/", 1)[-1]
        if method == "POST" and body is not None:
            # The new row's id was never answered: find it by its name or title.
            if path == "/authors":
                new = [id_ for id_, state in found_authors.items() if state["name"] == body["name"]]
                authors.update({id_: {**body, "version": 1} for id_ in new})
            else:
                new = [id_ for id_, state in found_books.items() if state["title"] == body["title"]]
                state = {**body, "tags": tag_names(body["tags"]), "version": 1}
                books.update(dict.fromkeys(new, state))
        elif method == "PATCH" and body is not None:
            if path.startswith("/authors/"):
                authors[target] = patched_author(authors[target], body)
            else:
                books[target] = patched_book(books[target], body)
        elif method == "DELETE" and path.startswith("/books/"):
            books.pop(target, None)
        elif method == "DELETE":
            authors.pop(target, None)
            books = {id_: book for id_, book in books.items() if book["author_id"] != target}
        return authors, books


def patched_author(state: State, body: State) -> State:
    return {**state, **body, "version": state["version"] + 1}


def patched_book(state: State, body: State) -> State:
    changes = {**body, "tags": tag_names(body["tags"])} if "tags" in body else body
    return {**state, **changes, "version": state["version"] + 1}


def describe_difference(kind: str, found: dict[str, State], expected: dict[str, State]) -> str:
    missing = sorted(expected.keys() - found.keys())
    extra = sorted(found.keys() - expected.keys())
    changed = sorted(id_ for id_ in found.keys() & expected.keys() if found[id_] != expected[id_])
    detail = [f"{id_}: {found[id_]} != {expected[id_]}" for id_ in changed[:3]]
    return f"{kind}s missing {missing[:5]}, unexpected {extra[:5]}, changed {detail}"


@dataclass
class Snapshot:
    """Every author, book and tag the API lists, read page by page."""

    authors: dict[str, State]
    books: dict[str, State]
    book_counts: dict[str, int]  # author id -> book_count as listed
    tag_counts: dict[str, int]  # tag name -> book_count as listed


async def list_all(http: httpx.AsyncClient, path: str) -> list[State]:
    items: list[State] = []
    page = 1
    while True:
        response = await http.get(path, params={"page": page, "per_page": PER_PAGE})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if page >= body["meta"]["pages"]:
            assert len(items) == body["meta"]["total"]
            return items
        page += 1


async def snapshot(http: httpx.AsyncClient) -> Snapshot:
    """Read the whole catalogue back through the API."""
    authors = await list_all(http, "/authors")
    books = await list_all(http, "/books")
    tags = await list_all(http, "/tags")
    return Snapshot(
        authors={author["id"]: author_state(author) for author in authors},
        books={book["id"]: book_state(book) for book in books},
        book_counts={author["id"]: author["book_count"] for author in authors},
        tag_counts={tag["name"]: tag["book_count"] for tag in tags},
    )


def verify(writers: list[Writer], found: Snapshot) -> list[str]:
    """Every way the database differs from what the writers' 2xx answers said."""
    problems = [
        problem for writer in writers for problem in writer.mismatches(found.authors, found.books)
    ]
    for kind, rows in (("author", found.authors), ("book", found.books)):
        strays = [id_ for id_, state in rows.items() if not any(w.owns(state) for w in writers)]
        if strays:
            problems.append(f"{kind}s no client created: {strays[:5]}")
    # Counts are computed by the database; they must agree with the rows themselves.
    per_author = Counter(book["author_id"] for book in found.books.values())
    for author_id, count in found.book_counts.items():
        if per_author[author_id] != count:
            problems.append(f"author {author_id}: book_count {count}, {per_author[author_id]} rows")
    per_tag = Counter(tag for book in found.books.values() for tag in book["tags"])
    listed = {name: count for name, count in found.tag_counts.items() if count}
    if listed != dict(per_tag):
        problems.append(f"tag counts {listed} differ from the books' tags {dict(per_tag)}")
    return problems


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test if it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.01)
