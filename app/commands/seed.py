"""Load a demo catalogue of invented authors, books and tags: `python -m app.commands.seed`.

The same seed always yields the same names, titles, ISBNs, years and tags. A database that
already has authors is left alone, so running it twice adds nothing.
"""

import argparse
import asyncio
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select

from app.books.isbn import isbn13_check_digit
from app.commands.progress import Progress
from app.config import Settings
from app.db.checks import check_start
from app.db.engine import create_database
from app.models import Author, Book, BookAuthor, Tag

AUTHORS = 300
BOOKS = 900
SEED = 20261123
# The time of the seeded rows' ids (2026-11-23T00:00:00Z), so each run gives the same ids.
SEEDED_AT_MS = 1_795_392_000_000
# What share of books have co-authors, and what share are part of a series.
CO_AUTHORED = 0.12
IN_A_SERIES = 0.15
# Rows sent to the database between two steps of the progress bar, in the one transaction.
FLUSH_ROWS = 100

FIRST_NAMES = (
    "Ada Alma Anton Beatrix Bram Cato Clara Dario Edith Elias Esme Farid Greta Hugo Ines Iris "
    "Jonas Juno Kasimir Lena Lior Mara Milo Nadia Niko Odile Otto Pia Quentin Rhea Silas Tove "
    "Ulla Vera Wendel Yara Zeno"
).split()
SURNAMES = (
    "Abernathy Ashdown Bellweather Brandt Castellan Corvin Dunmore Ellery Falk Fenwick Galloway "
    "Hartigan Holloway Ingram Jessop Kestrel Lindqvist Marlowe Merriman Nightingale Okonkwo "
    "Pellegrini Quarles Ravensworth Rowntree Salcedo Stroud Thackery Underhill Varga Whitlock "
    "Wren Yardley Zellweger"
).split()
ADJECTIVES = (
    "silent hidden burning last distant crooked golden hollow iron lantern-lit lost northern "
    "painted quiet restless salt scarlet second sleeping small strange sunken winter wild"
).split()
NOUNS = (
    "archive bridge cartographer city clockmaker compass ferry garden harbour house island "
    "kingdom letter lighthouse map mirror orchard river road sea shadow stone tide tower "
    "traveller valley voyage well"
).split()
PLACES = "Aldermoor Bexhaven Carrowmere Eskerby Farrowdale Glimmerton Kellmoor Norrhavn".split()
TITLE_PATTERNS = (
    "The {Adj} {Noun}",
    "The {Noun} of {Place}",
    "The {Noun} and the {Adj} {Noun2}",
    "{Noun} and {Noun2}",
    "The {Noun}'s {Noun2}",
    "Beyond the {Adj} {Noun}",
    "Letters from the {Adj} {Noun}",
)
PUBLISHERS = (
    "Harbour Lane Press",
    "Kestrel Books",
    "Lantern House",
    "Northwind Editions",
    "Orchard & Vale",
    "Saltmarsh",
)
LANGUAGES = ("en", "en-GB", "fr", "de", "es", "pt-BR")
LANGUAGE_WEIGHTS = (70, 10, 6, 6, 5, 3)
SERIES_KINDS = ("Chronicles", "Cycle", "Quartet", "Mysteries")
OCCUPATIONS = ("novelist", "poet", "essayist", "historian", "journalist", "translator")
TAGS = (
    "adventure anthology art biography childrens classic comedy cookery crime drama dystopia "
    "economics education essays fantasy folklore graphic-novel historical history horror humour "
    "memoir music mystery mythology nature philosophy poetry politics psychology religion "
    "romance science science-fiction short-stories sport thriller travel true-crime war"
).split()


@dataclass(frozen=True)
class Seeded:
    """How many rows one run added."""

    authors: int
    books: int
    tags: int


def isbn13(rng: random.Random, taken: set[str]) -> str:
    """A valid ISBN-13 that is not in `taken` (which it joins)."""
    while True:
        first12 = f"978{rng.randrange(10**9):09d}"
        isbn = first12 + isbn13_check_digit(first12)
        if isbn not in taken:
            taken.add(isbn)
            return isbn


def title(rng: random.Random) -> str:
    noun, noun2 = (noun.capitalize() for noun in rng.sample(NOUNS, 2))
    words = {"Adj": rng.choice(ADJECTIVES).capitalize(), "Place": rng.choice(PLACES)}
    return rng.choice(TITLE_PATTERNS).format(Noun=noun, Noun2=noun2, **words)


def description(rng: random.Random) -> str:
    first, second = rng.sample(NOUNS, 2)
    return f"A {rng.choice(ADJECTIVES)} tale of the {first}, the {second} and {rng.choice(PLACES)}."


def published_year(rng: random.Random, this_year: int) -> int | None:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.2:
        return rng.randint(-800, 1799)
    return rng.randint(1800, this_year)


def seeded_id(rng: random.Random, index: int) -> uuid.UUID:
    """A UUIDv7 the same on every run: its time is SEEDED_AT plus `index` milliseconds."""
    value = (SEEDED_AT_MS + index) << 80 | rng.getrandbits(80)
    value = value & ~(0xF << 76) | 0x7 << 76  # version
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant
    return uuid.UUID(int=value)


@dataclass
class Planned:
    """A book to seed, with its authors in order and its tags."""

    book: Book
    authors: list[Author]
    tags: list[Tag]


def build_catalogue(
    rng: random.Random, tags: list[Tag], authors: int, books: int
) -> tuple[list[Author], list[Planned]]:
    """Invent the authors and their books, each book with its authors and the part of `tags`
    it will carry; some books have co-authors, a publisher, a language and a place in a series."""
    names = rng.sample([f"{f} {s}" for f in FIRST_NAMES for s in SURNAMES], authors)
    bios = [f"{job.capitalize()} from {place}." for job in OCCUPATIONS for place in PLACES]
    people = [
        Author(
            id=seeded_id(rng, n), name=name, bio=rng.choice(bios) if rng.random() < 0.7 else None
        )
        for n, name in enumerate(names)
    ]
    # A few prolific authors and a long tail, some with no books at all.
    weights = [rng.lognormvariate(0, 0.8) for _ in people]
    this_year = datetime.now(UTC).year
    isbns: set[str] = set()
    series: dict[str, int] = {}
    catalogue: list[Planned] = []
    for n, author in enumerate(rng.choices(people, weights=weights, k=books)):
        others = rng.sample(people, rng.choice((1, 2))) if rng.random() < CO_AUTHORED else []
        book = Book(
            id=seeded_id(rng, len(people) + n),
            title=title(rng),
            isbn=isbn13(rng, isbns),
            published_year=published_year(rng, this_year),
            description=None if rng.random() < 0.4 else description(rng),
            publisher=rng.choice(PUBLISHERS) if rng.random() < 0.7 else None,
            language=rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0],
        )
        if rng.random() < IN_A_SERIES:
            book.series = f"The {rng.choice(PLACES)} {rng.choice(SERIES_KINDS)}"
            series[book.series] = series.get(book.series, 0) + 1
            book.series_position = float(series[book.series])
        authors_in_order = list({person.id: person for person in [author, *others]}.values())
        catalogue.append(Planned(book, authors_in_order, rng.sample(tags, rng.randint(0, 4))))
    return people, catalogue


async def seed(settings: Settings, authors: int = AUTHORS, books: int = BOOKS) -> Seeded | None:
    """Add the demo catalogue in one transaction; None when the database already has authors."""
    database = create_database(settings)
    try:
        async with database.writes() as session, session.begin():
            if (await session.exec(select(Author.id).limit(1))).first() is not None:
                return None
            # Tags may exist without authors (made through the API); reuse them by name.
            existing = list(await session.exec(select(Tag).where(col(Tag.name).in_(TAGS))))
            known = {tag.name for tag in existing}
            new_tags = [Tag(name=name) for name in TAGS if name not in known]
            tags = sorted([*existing, *new_tags], key=lambda tag: tag.name)
            people, catalogue = build_catalogue(random.Random(SEED), tags, authors, books)
            total = len(people) + len(catalogue)
            with Progress("seeding", total, "authors and books") as progress:
                for start in range(0, len(people), FLUSH_ROWS):
                    session.add_all(people[start : start + FLUSH_ROWS])
                    await session.flush()
                    progress.advance(len(people[start : start + FLUSH_ROWS]))
                session.add_all(new_tags)  # those no book carries too
                for start in range(0, len(catalogue), FLUSH_ROWS):
                    chunk = catalogue[start : start + FLUSH_ROWS]
                    # Tags are given only now: a tag cascades into the session every book it
                    # already holds, which would flush them all at once.
                    for planned in chunk:
                        planned.book.tags = planned.tags
                    session.add_all(planned.book for planned in chunk)
                    await session.flush()
                    session.add_all(
                        BookAuthor(book_id=planned.book.id, author_id=author.id, position=place)
                        for planned in chunk
                        for place, author in enumerate(planned.authors)
                    )
                    await session.flush()
                    progress.advance(len(chunk))
        return Seeded(authors=len(people), books=len(catalogue), tags=len(new_tags))
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    """Seed the database DATABASE_URL names and say what was added."""
    argparse.ArgumentParser(prog="python -m app.commands.seed", description=__doc__).parse_args(
        argv
    )
    done = asyncio.run(seed(check_start("seed", serving=False)))
    summary = (
        "The database already has authors; nothing seeded."
        if done is None
        else f"Seeded {done.authors} authors, {done.books} books and {done.tags} new tags."
    )
    print(summary)  # noqa: T201  (a command-line tool: this line is its output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
