"""Typo tolerance: the indexed words one or two edits from a typed word, found through the
deletion neighbourhood the triggers keep (`search_deletion`), never by reading the vocabulary.

Deleting at most k characters from each of two words leaves a common string when they are at
most k edits apart (a swap of neighbours included: deleting one of the pair from each side
gives the same string). Both sides delete only within their first `HEAD` characters, which
keeps a word's neighbourhood small and still finds every word in reach: the longer of the two
common heads is cut to the shorter, at no more than k deletions a side.
"""

from collections.abc import Iterable
from itertools import combinations

from sqlalchemy import bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

HEAD = 7  # as the migration's triggers cut a vocabulary word
SHORTEST_VARIANT = 3  # the triggers keep no shorter string
ONE_TYPO, TWO_TYPOS = 4, 7  # the shortest words that get one typo, and two

CANDIDATES = text(
    "SELECT DISTINCT word FROM search_deletion WHERE variant IN :variants"
).bindparams(bindparam("variants", expanding=True))


def allowed_typos(word: str) -> int:
    """How many edits a typed word may be from the words it matches. A number gets none, and
    the triggers keep no neighbourhood for numbers either: a word with a letter is never a
    typo of one."""
    if word.isdigit() or len(word) < ONE_TYPO:
        return 0
    return 2 if len(word) >= TWO_TYPOS else 1


def variants(word: str, typos: int) -> set[str]:
    """The strings left after deleting up to `typos` characters from the word's head."""
    head = word[:HEAD]
    found = {head}
    for count in range(1, typos + 1):
        for dropped in combinations(range(len(head)), count):
            found.add("".join(char for index, char in enumerate(head) if index not in dropped))
    return {variant for variant in found if len(variant) >= SHORTEST_VARIANT}


def distance(left: str, right: str) -> int:
    """Optimal string alignment distance: inserts, deletes, replacements and swaps of two
    neighbours, each one edit."""
    rows = [list(range(len(right) + 1))]
    for i, a in enumerate(left, start=1):
        row = [i] + [0] * len(right)
        for j, b in enumerate(right, start=1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def in_reach(word: str, candidates: Iterable[str]) -> dict[str, int]:
    """The candidates that are typos of `word`, with their distance; words that start with
    it are left out, as they match it as a prefix already."""
    typos = allowed_typos(word)
    found: dict[str, int] = {}
    for candidate in candidates:
        if candidate.startswith(word) or abs(len(candidate) - len(word)) > typos:
            continue
        edits = distance(word, candidate)
        if edits <= typos:
            found[candidate] = edits
    return found


async def typo_words(session: AsyncSession, words: list[str]) -> dict[str, dict[str, int]]:
    """For each word that may have typos, the indexed words within its reach, in one
    look-up of the deletion neighbourhood."""
    wanted = {word: variants(word, allowed_typos(word)) for word in words if allowed_typos(word)}
    every = sorted(set().union(*wanted.values())) if wanted else []
    if not every:
        return {}
    found = await session.exec(CANDIDATES, params={"variants": every})  # type: ignore[call-overload]
    candidates = [row[0] for row in found]
    return {word: in_reach(word, candidates) for word in wanted}
