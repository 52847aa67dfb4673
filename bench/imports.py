"""The import workload: N books from an NDJSON and from a CSV file, uploaded to a fresh Folio
and timed from the first byte sent to `succeeded`, beside a stdlib `sqlite3` executemany of the
same rows into the same schema, the limit no import can beat.

`python -m bench.imports --scale 1000000` (`make bench-imports ARGS=...`); `--postgres URL`
serves Folio from a fresh PostgreSQL database instead (the limit stays on SQLite).
"""

import argparse
import csv
import json
import random
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from alembic import command

from app.db.migrations import alembic_config
from app.imports.formats import COLUMNS
from app.models import derived_columns, fold
from app.search.text import search_text
from bench import postgres
from bench.dataset import TAGS, isbn13, migrate, sentence, sqlite_url, title
from bench.load import LoadSpec, run_load
from bench.report import machine
from bench.server import Server, app_command, free_port, make_key, served_env
from bench.workloads import Workload

BENCH_DIR = Path(__file__).resolve().parent
UPLOAD_CHUNK = 256 * 1024
# The `get book` load measured with and without an import going on.
READ_CONNECTIONS = 32
READ_SECONDS = 10.0
EXECUTEMANY_CHUNK = 10_000


def books(scale: int, seed: int = 7, prefix: str = "979") -> Iterator[dict[str, Any]]:
    """The rows of the workload: authors by name (a third as many as books), tags by name;
    ISBNs numbered from 0 after `prefix`."""
    rng = random.Random(seed)
    authors = max(scale // 3, 1)
    for number in range(scale):
        yield {
            "title": title(rng),
            "author": f"Author {rng.randrange(authors):07d}",
            "isbn": isbn13(prefix, number),
            "published_year": rng.randint(1800, 2025),
            "description": sentence(rng, 5, 20) if rng.random() < 0.5 else None,
            "tags": sorted({rng.choice(TAGS) for _ in range(rng.randint(0, 4))}),
        }


# The columns the benchmark's files carry: one author by name, as most catalogues name theirs.
FILE_COLUMNS = ("title", "author", "isbn", "published_year", "description", "tags")


def write_ndjson(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for book in rows:
            out.write(json.dumps({k: v for k, v in book.items() if v is not None}) + "\n")


def write_files(work: Path, scale: int) -> dict[str, Path]:
    ndjson, csv_path = work / f"import-{scale}.ndjson", work / f"import-{scale}.csv"
    write_ndjson(ndjson, books(scale))
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        columns = [name for name in COLUMNS if name in FILE_COLUMNS]
        writer.writerow(columns)
        for book in books(scale):
            writer.writerow(
                ["|".join(book["tags"]) if name == "tags" else book[name] or "" for name in columns]
            )
    return {"ndjson": ndjson, "csv": csv_path}


def fresh_database(work: Path, name: str) -> Path:
    path = work / f"{name}.db"
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    migrate(path)
    return path


def postgres_database(server_url: str, name: str) -> str:
    """A new, migrated PostgreSQL database of this name (dropped first if it was left over)."""
    postgres.run_sql(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" {postgres.CREATE}',
    )
    url = postgres.database_url(server_url, name)
    command.upgrade(alembic_config(url), "head")
    return url


# The columns Folio derives from a book's fields, which the search index's triggers read.
DERIVED = tuple(derived_columns("", None, None, None))


def executemany_limit(path: Path, scale: int) -> float:
    """Seconds for the same rows into the same schema, by hand: the floor for an import."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    started = time.perf_counter()
    authors: dict[str, str] = {}
    tags = {name: uuid.uuid4().hex for name in TAGS}
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO tag (id, name, name_search, created_at, updated_at, version)"
        " VALUES (?, ?, ?, ?, ?, 1)",
        [(tag_id, name, search_text(name), now, now) for name, tag_id in tags.items()],
    )
    batch: list[dict[str, Any]] = []
    for book in books(scale):
        batch.append(book)
        if len(batch) == EXECUTEMANY_CHUNK:
            insert_chunk(connection, batch, authors, tags, now)
            batch = []
    insert_chunk(connection, batch, authors, tags, now)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def insert_chunk(
    connection: sqlite3.Connection,
    batch: list[dict[str, Any]],
    authors: dict[str, str],
    tags: dict[str, str],
    now: str,
) -> None:
    new_authors = []
    for book in batch:
        if book["author"] not in authors:
            authors[book["author"]] = uuid.uuid4().hex
            new_authors.append((authors[book["author"]], book["author"]))
    connection.executemany(
        "INSERT INTO author (id, name, name_folded, name_search, created_at, updated_at,"
        " version) VALUES (?, ?, ?, ?, ?, ?, 1)",
        [(a, name, fold(name), search_text(name), now, now) for a, name in new_authors],
    )
    rows: list[tuple[Any, ...]] = []
    written: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    for book in batch:
        book_id = uuid.uuid4().hex
        derived = derived_columns(book["title"], book["description"], None, None)
        rows.append(
            (
                book_id,
                book["title"],
                book["isbn"],
                book["published_year"],
                book["description"],
                *(derived[column] for column in DERIVED),
                now,
                now,
            )
        )
        written.append((book_id, authors[book["author"]]))
        links.extend((book_id, tags[name]) for name in book["tags"])
    connection.executemany(
        f"INSERT INTO book (id, title, isbn, published_year, description, {', '.join(DERIVED)},"
        f" created_at, updated_at, version) VALUES ({', '.join('?' * (7 + len(DERIVED)))}, 1)",
        rows,
    )
    connection.executemany(
        "INSERT INTO book_author (book_id, author_id, position) VALUES (?, ?, 0)", written
    )
    connection.executemany("INSERT INTO book_tag (book_id, tag_id) VALUES (?, ?)", links)


def upload(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while data := file.read(UPLOAD_CHUNK):
            yield data


class PeakMemory:
    """The server's largest resident memory while the block runs, sampled every 0.2 s."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = server.rss_mib() or 0.0
        self.done = threading.Event()
        self.watcher = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, self.server.rss_mib() or 0.0)

    def __enter__(self) -> "PeakMemory":
        self.watcher.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.watcher.join()


def export_all(server: Server, file_format: str) -> dict[str, Any]:
    """Stream the whole catalogue out; its size, seconds and the server's peak memory."""
    size = 0
    started = time.perf_counter()
    with PeakMemory(server) as memory, httpx.Client(base_url=server.url, timeout=600) as client:
        with client.stream("GET", "/exports/books", params={"format": file_format}) as response:
            response.raise_for_status()
            for data in response.iter_bytes():
                size += len(data)
    return {
        "format": file_format,
        "bytes": size,
        "total_s": round(time.perf_counter() - started, 3),
        "peak_rss_mib": memory.peak,
    }


def import_file(server: Server, path: Path, file_format: str, key: str) -> dict[str, Any]:
    """Upload the file, follow the import to its end; seconds and the server's peak memory."""
    media = "text/csv" if file_format == "csv" else "application/x-ndjson"
    started = time.perf_counter()
    with PeakMemory(server) as memory, httpx.Client(base_url=server.url, timeout=600) as client:
        headers = {"Content-Type": media, "Authorization": f"Bearer {key}"}
        response = client.post("/imports", content=upload(path), headers=headers)
        response.raise_for_status()
        accepted = time.perf_counter() - started
        job = response.json()
        while job["finished_at"] is None:
            time.sleep(0.1)
            job = client.get(f"/imports/{job['id']}").json()
        elapsed = time.perf_counter() - started
    return {
        "format": file_format,
        "status": job["status"],
        "rows": job["rows_processed"],
        "rows_created": job["rows_created"],
        "rows_failed": job["rows_failed"],
        "upload_s": round(accepted, 3),
        "total_s": round(elapsed, 3),
        "rows_per_s": round(job["rows_processed"] / elapsed, 1),
        "peak_rss_mib": memory.peak,
    }


def book_paths(server: Server, count: int) -> list[str]:
    """The paths of `count` books of the catalogue, for a `get book` load."""
    paths: list[str] = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        page = 1
        while len(paths) < count:
            found = client.get("/books", params={"per_page": 100, "page": page, "count": "none"})
            items = found.raise_for_status().json()["items"]
            if not items:
                break
            paths += [f"/books/{book['id']}" for book in items]
            page += 1
    return paths[:count]


def get_book_load(server: Server, paths: list[str], work: Path) -> dict[str, Any]:
    """`get book` from a separate process, as `make bench` drives it."""
    workload = Workload("get book", paths)
    spec = LoadSpec(server.url, workload, READ_CONNECTIONS, READ_SECONDS, warmup=1.0)
    return run_load(spec, work / "import-reads-spec.json")


def reads_during_import(server: Server, path: Path, key: str, work: Path) -> dict[str, Any]:
    """`get book`'s latency on a quiet server, then while it imports the file at `path`."""
    paths = book_paths(server, 1000)
    quiet = get_book_load(server, paths, work)
    with ThreadPoolExecutor(1) as pool:
        importing = pool.submit(import_file, server, path, "ndjson", key)
        time.sleep(2)  # the upload is in; the batches are being applied
        during = get_book_load(server, paths, work)
        run = importing.result()
    # The import must outlast the load, or the load was not all "during".
    outlasted = run["total_s"] > READ_SECONDS + 3
    quiet_p99 = quiet["read_latency_ms"]["p99"]
    during_p99 = during["read_latency_ms"]["p99"]
    return {
        "quiet": {"rps": quiet["rps"], **quiet["read_latency_ms"], "non_2xx": quiet["non_2xx"]},
        "during": {"rps": during["rps"], **during["read_latency_ms"], "non_2xx": during["non_2xx"]},
        "p99_ratio": round(during_p99 / quiet_p99, 2),
        "import_outlasted_load": outlasted,
        "import": run,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000, help="books in each file")
    parser.add_argument("--postgres", metavar="URL", help="serve Folio from PostgreSQL")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--reads",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time get book with and without a second import going on (default: on)",
    )
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    files = write_files(work, args.scale)
    limit_s = executemany_limit(fresh_database(work, "import-limit"), args.scale)
    results: dict[str, Any] = {
        "scale": args.scale,
        "database": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers,
        "executemany_limit": {
            "total_s": round(limit_s, 3),
            "rows_per_s": round(args.scale / limit_s, 1),
        },
        "imports": [],
        "exports": [],
    }
    for file_format, path in files.items():
        if args.postgres:
            url = postgres_database(args.postgres, f"folio_bench_import_{file_format}")
        else:
            url = sqlite_url(fresh_database(work, f"import-{file_format}"))
        port = free_port()
        key = make_key(url)
        env = {
            **served_env(url, args.workers),
            # A million rows of NDJSON pass the default limit of 100 MiB.
            "MAX_IMPORT_BYTES": str(max(file.stat().st_size for file in files.values()) * 2),
        }
        with Server(app_command(), port, env, work / "import.log") as server:
            run = import_file(server, path, file_format, key)
            results["exports"].append(export_all(server, file_format))
            if file_format == "ndjson" and args.reads:
                # A second file of as many new books (other ISBNs), imported under reads.
                more = work / f"import-{args.scale}-more.ndjson"
                write_ndjson(more, books(args.scale, seed=8, prefix="978"))
                results["reads_during_import"] = reads_during_import(server, more, key, work)
                sys.stderr.write(f"[bench] {json.dumps(results['reads_during_import'])}\n")
        run["ratio_to_executemany"] = round(run["total_s"] / limit_s, 2)
        results["imports"].append(run)
        sys.stderr.write(f"[bench] {json.dumps(run)}\n")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = (
        args.results_dir
        / f"{started:%Y-%m-%dT%H%M}-imports-scale{args.scale}-{results['database']}"
        f"-{args.workers}w.json"
    )
    path.write_text(json.dumps({"machine": machine(started), **results}, indent=2) + "\n")
    sys.stdout.write(json.dumps(results, indent=2) + "\n")
    sys.stderr.write(f"[bench] results written to {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
