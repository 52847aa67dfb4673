"""Words as search sees them: split, case- and accent-folded in Python, the same for every
database, and the user's search text parsed into words, phrases and exclusions."""

import re
import unicodedata
from dataclasses import dataclass, field

MAX_SEARCH_LENGTH = 200
# Each word is one more lookup in the index and one more condition on every match, so a search
# carries at most this many (a phrase counts its words; a repeated word or phrase counts once).
MAX_SEARCH_WORDS = 10
# Longer words are left out of the index: PostgreSQL refuses lexemes over 2 KB, and no one
# types a word of a hundred letters.
MAX_WORD_LENGTH = 100


def normal(text: str) -> str:
    """Text in the one normal form it is compared in (NFC), as a decomposed "é" is the same."""
    return unicodedata.normalize("NFC", text)


def fold_word(text: str) -> str:
    """Drop accents and case: NFKD, combining marks removed, case-folded, then NFC again.

    NFKD also reads compatibility forms (ligatures, full-width letters) as their plain letters.
    """
    # Case-folding can itself decompose a letter ("ǰ" is "ǰ"), so marks are dropped twice.
    return unicodedata.normalize("NFC", without_marks(without_marks(text).casefold()))


def without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def is_word_char(char: str) -> bool:
    """Letters and digits, and the marks that combine with them ("e" + U+0301 is one word)."""
    return char.isalnum() or unicodedata.category(char).startswith("M")


def spans(text: str) -> list[tuple[int, int]]:
    """The `(start, end)` code-point offsets of each word in `text`, end exclusive."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    for index, char in enumerate(text):
        if is_word_char(char):
            if start is None:
                start = index
        elif start is not None:
            found.append((start, index))
            start = None
    if start is not None:
        found.append((start, len(text)))
    return found


# In ASCII text a word is a run of letters and digits, and folding it is lower-casing it.
ASCII_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """The folded words of `text`, split at anything that is not a letter or a digit.

    Folding can itself bring separators ("ﬁ" stays letters, "½" becomes "1⁄2"), so the folded
    form is split again.
    """
    if text.isascii():
        return ASCII_WORD.findall(text.lower())
    found: list[str] = []
    for start, end in spans(text):
        folded = fold_word(text[start:end])
        found.extend(folded[a:b] for a, b in spans(folded))
    return found


def search_text(text: str | None) -> str:
    """What the index stores for a value: its folded words joined by single spaces."""
    if not text:
        return ""
    return " ".join(word for word in words(text) if len(word) <= MAX_WORD_LENGTH)


@dataclass
class SearchQuery:
    """Parsed search text: `terms` must all match (each a word or a phrase of several words);
    `exclusions` must not (each a word or a phrase)."""

    terms: list[list[str]] = field(default_factory=list)
    exclusions: list[list[str]] = field(default_factory=list)
    quoted: set[str] = field(default_factory=set)  # words that match exactly, never as typos

    @property
    def all_words(self) -> list[str]:
        """The words that make an item match, for highlights."""
        return [word for term in self.terms for word in term]

    @property
    def typo_words(self) -> list[str]:
        """The words that may match with typos: unquoted words of their own."""
        return [term[0] for term in self.terms if len(term) == 1 and term[0] not in self.quoted]

    @property
    def word_count(self) -> int:
        """How many words the search carries, each phrase counting its words."""
        return sum(len(term) for term in [*self.terms, *self.exclusions])


# A phrase is a pair of double quotes; anything else up to a space or a quote is a chunk.
# Either may start with `-`. A lone quote matches neither, so it separates.
CHUNK = re.compile(r'(?P<minus>-?)(?:"(?P<phrase>[^"]*)"|(?P<chunk>[^\s"]+))')


def parse(text: str) -> SearchQuery:
    """Read words, "quoted phrases" and -exclusions; nothing else in the text is syntax.

    A `-` excludes only where it starts a chunk: inside one, as in "multi-agent", it separates
    words like any other punctuation. A term or exclusion given again is kept once, at its
    first place: it would change no match, only the cost.
    """
    query = SearchQuery()
    for match in CHUNK.finditer(text):
        if match["phrase"] is not None:
            found = [words(match["phrase"])]
        else:
            found = [[word] for word in words(match["chunk"])]
        kept = query.exclusions if match["minus"] else query.terms
        if match["phrase"] is not None and not match["minus"]:
            query.quoted.update(found[0])
        for term in found:
            if term and term not in kept:
                kept.append(term)
    return query
