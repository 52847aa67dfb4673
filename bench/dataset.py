"""The seeded benchmark database: schema from the app's migrations, rows bulk-loaded with sqlite3.

The rows are loaded into the schema of one pinned migration, `LOAD_REVISION`, and the later
migrations then carry them to the newest schema, as they would a user's database; so new columns
and tables need no change here. Rows are written in the formats SQLAlchemy uses on SQLite:
`Uuid` as 32 hex digits without dashes, `DateTime` as `YYYY-MM-DD HH:MM:SS.ffffff` in naive UTC.
"""

import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command

from app.commands.progress import Progress
from app.db.migrations import alembic_config, schema_head

# The schema that `insert_rows` writes: the first migration's tables.
LOAD_REVISION = "df5cc3852f0d"
# Bump when the generated rows change, so cached databases are rebuilt.
LOADER_VERSION = 1
SEED = 20261123
CHUNK = 20_000
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
TABLES = ("author", "tag", "book", "book_tag")
Row = tuple[str | int | None, ...]

TAGS = (
    "fantasy science-fiction mystery thriller romance horror history biography memoir poetry "
    "drama philosophy science mathematics physics chemistry biology medicine economics politics "
    "travel cooking art music film photography architecture design programming databases "
    "networks security children young-adult classics humour essays religion mythology war "
    "crime adventure western nature climate sports education psychology sociology law business"
).split()
ADJECTIVES = (
    "silent lost hidden golden broken last first dark bright distant quiet endless burning "
    "frozen secret crimson hollow iron glass paper wild gentle forgotten northern"
).split()
NOUNS = (
    "river garden city kingdom shadow voyage empire house window letter mountain island "
    "machine forest harbour library winter summer orchard tower bridge archive signal road"
).split()
FIRST_NAMES = (
    "Ada Alan Grace Edsger Barbara Donald Margaret Dennis Ken Frances Leslie John Radia Tim "
    "Sophie Niklaus Guido Linus Katherine Claude Hedy Annie Mary Jean Ursula Italo Jorge Toni "
    "Haruki Chinua Virginia James Isabel Gabriel Orhan Olga Wislawa Selma Astrid Kazuo"
).split()
LAST_NAMES = (
    "Lovelace Turing Hopper Dijkstra Liskov Knuth Hamilton Ritchie Thompson Allen Lamport "
    "Backus Perlman Berners-Lee Wilson Wirth van-Rossum Torvalds Johnson Shannon Lamarr Easley "
    "Shelley Rhys Le-Guin Calvino Borges Morrison Murakami Achebe Woolf Joyce Allende Marquez "
    "Pamuk Tokarczuk Szymborska Lagerlof Lindgren Ishiguro"
).split()
WORDS = (
    "the a of and in on under over between story tale account life time light night sea sky "
    "stone fire water memory silence journey return world people city war peace love death"
).split()


@dataclass(frozen=True)
class DatasetInfo:
    """What a built database holds; stored beside it so a rerun can reuse it."""

    scale: int
    authors: int
    books: int
    tags: int
    book_tags: int
    seed: int = SEED
    loader_version: int = LOADER_VERSION


def authors_for(scale: int) -> int:
    return max(1, scale // 3)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def revision_of(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        row = None  # no schema yet
    finally:
        connection.close()
    return None if row is None else str(row[0])


def migrate(path: Path, revision: str = "head") -> None:
    """Run the app's migrations up to `revision` and leave the file without a WAL to copy."""
    if revision == "head" and path.exists() and revision_of(path) == schema_head():
        return
    command.upgrade(alembic_config(sqlite_url(path)), revision)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode = DELETE")  # checkpoints and removes the WAL
    finally:
        connection.close()


def ensure_database(work: Path, scale: int) -> tuple[Path, DatasetInfo]:
    """Return the pristine database of this scale, building it only when none is cached."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"folio-scale{scale}.db"
    info_path = path.with_suffix(".json")
    if path.exists() and info_path.exists():
        info = DatasetInfo(**json.loads(info_path.read_text()))
        if info.scale == scale and (info.seed, info.loader_version) == (SEED, LOADER_VERSION):
            migrate(path)  # new migrations apply to the cached rows, as they would for a user
            return path, info
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    migrate(building, LOAD_REVISION)
    info = load(building, scale)
    migrate(building)
    building.replace(path)
    info_path.write_text(json.dumps(asdict(info), indent=2) + "\n")
    return path, info


def copy_database(source: Path, target: Path) -> None:
    """Copy a database file whose connections are all closed, leaving no stale WAL behind."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def load(path: Path, scale: int) -> DatasetInfo:
    """Fill a migrated, empty database with `scale` books in one transaction."""
    rng = random.Random(SEED)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")
        connection.execute("BEGIN")
        # Secondary indexes are dropped and rebuilt from their own DDL: one sort per index
        # instead of a random-order B-tree insert per row, about 3x faster at a million books.
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN {TABLES}"
        ).fetchall()
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        info = insert_rows(connection, rng, scale)
        for _name, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return info


def insert_rows(connection: sqlite3.Connection, rng: random.Random, scale: int) -> DatasetInfo:
    clock = Clock(rng)
    tag_ids = [clock.tick() for _ in TAGS]
    connection.executemany(
        "INSERT INTO tag (id, name, created_at, updated_at, version) VALUES (?, ?, ?, ?, 1)",
        [(id_, name, at, at) for (id_, at), name in zip(tag_ids, TAGS, strict=True)],
    )
    author_count = authors_for(scale)
    with Progress("building the dataset", author_count + scale, "authors and books") as progress:
        author_ids = insert_authors(connection, clock, rng, author_count, progress)
        links = insert_books(connection, clock, rng, scale, author_ids, tag_ids, progress)
    return DatasetInfo(scale, author_count, scale, len(TAGS), links)


def insert_authors(
    connection: sqlite3.Connection,
    clock: "Clock",
    rng: random.Random,
    count: int,
    progress: Progress,
) -> list[str]:
    """Insert `count` authors in chunks; return their ids."""
    author_ids: list[str] = []
    for rows in chunks(author_rows(clock, rng, count)):
        author_ids.extend(str(row[0]) for row in rows)
        connection.executemany(
            "INSERT INTO author (id, name, bio, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            rows,
        )
        progress.advance(len(rows))
    return author_ids


def insert_books(
    connection: sqlite3.Connection,
    clock: "Clock",
    rng: random.Random,
    scale: int,
    author_ids: list[str],
    tag_ids: list[tuple[str, str]],
    progress: Progress,
) -> int:
    """Insert `scale` books and their tags in chunks; return how many tag links were made."""
    links = 0
    for start in range(0, scale, CHUNK):
        books, book_tags = book_rows(clock, rng, range(start, min(scale, start + CHUNK)))
        for row in books:
            row[6] = rng.choice(author_ids)
        connection.executemany(
            "INSERT INTO book (id, title, isbn, published_year, description, created_at,"
            " author_id, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [(*row, row[5]) for row in books],
        )
        connection.executemany(
            "INSERT INTO book_tag (book_id, tag_id) VALUES (?, ?)",
            [(book_id, tag_ids[tag][0]) for book_id, tag in book_tags],
        )
        links += len(book_tags)
        progress.advance(len(books))
    return links


class Clock:
    """Hands out time-ordered (uuid7 hex, created_at) pairs, a few milliseconds apart."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.micros = 0

    def tick(self) -> tuple[str, str]:
        self.micros += self.rng.randrange(1, 5000)
        moment = EPOCH + timedelta(microseconds=self.micros)
        millis = int(moment.timestamp() * 1000)
        value = millis << 80 | 0x7 << 76 | self.rng.getrandbits(12) << 64
        value |= 0x2 << 62 | self.rng.getrandbits(62)
        return f"{value:032x}", moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def author_rows(clock: Clock, rng: random.Random, count: int) -> Iterator[Row]:
    for _ in range(count):
        id_, at = clock.tick()
        initial = chr(rng.randrange(65, 91))
        name = f"{rng.choice(FIRST_NAMES)} {initial}. {rng.choice(LAST_NAMES)}"
        bio = sentence(rng, 12, 40) if rng.random() < 0.3 else None
        yield (id_, name, bio, at, at)


def book_rows(
    clock: Clock, rng: random.Random, numbers: range
) -> tuple[list[list[str | int | None]], list[tuple[str, int]]]:
    """One chunk of books (author_id still to fill in) and their tag links (tag index)."""
    books: list[list[str | int | None]] = []
    links: list[tuple[str, int]] = []
    for number in numbers:
        id_, at = clock.tick()
        isbn = isbn13("978", number) if rng.random() < 0.85 else None
        year = None if rng.random() < 0.05 else max(-500, 2025 - int(abs(rng.gauss(0, 70))))
        description = sentence(rng, 15, 50) if rng.random() < 0.6 else None
        books.append([id_, title(rng), isbn, year, description, at, None])
        links.extend((id_, tag) for tag in sorted(rng.sample(range(len(TAGS)), rng.randint(0, 4))))
    return books, links


def chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def title(rng: random.Random) -> str:
    adjective, noun = rng.choice(ADJECTIVES).title(), rng.choice(NOUNS).title()
    match rng.randrange(3):
        case 0:
            return f"The {adjective} {noun}"
        case 1:
            return f"{noun} of the {adjective} {rng.choice(NOUNS).title()}"
        case _:
            return f"{adjective} {noun}, Volume {rng.randint(1, 12)}"


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high))).capitalize() + "."


def isbn13(prefix: str, number: int) -> str:
    """A valid ISBN-13: a 3-digit prefix, 9 digits of `number`, and the check digit."""
    digits = f"{prefix}{number:09d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(digits))
    return digits + str(-total % 10)
