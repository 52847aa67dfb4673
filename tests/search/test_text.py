"""The parser and the folding: what user text becomes before any database sees it."""

import pytest

from app.search.sql import BOOK, Statement
from app.search.text import fold_word, parse, search_text, spans, words


@pytest.mark.parametrize(
    ("text", "terms", "exclusions"),
    [
        ("harry pot", [["harry"], ["pot"]], []),
        ('"harry potter" -secrets', [["harry", "potter"]], [["secrets"]]),
        ("multi-agent", [["multi"], ["agent"]], []),
        ("o'brien's", [["o"], ["brien"], ["s"]], []),
        ("NEAR(a, b) AND x:* ^y", [["near"], ["a"], ["b"], ["and"], ["x"], ["y"]], []),
        ('lone "quote', [["lone"], ["quote"]], []),
        ('-"two words" one', [["one"]], [["two", "words"]]),
        ("a--b", [["a"], ["b"]], []),
        ("E\u0301MILE García", [["emile"], ["garcia"]], []),
        ("-", [], []),
        ("-only -exclusions", [], [["only"], ["exclusions"]]),
        ("a A á a b a", [["a"], ["b"]], []),
        ('"x y" b "X Y" -c -"c" x', [["x", "y"], ["b"], ["x"]], [["c"]]),
    ],
)
def test_text_becomes_words_phrases_and_exclusions(
    text: str, terms: list[list[str]], exclusions: list[list[str]]
) -> None:
    parsed = parse(text)
    assert (parsed.terms, parsed.exclusions) == (terms, exclusions)


def test_folding_ignores_case_accents_and_compatibility_forms() -> None:
    assert words("Straße ÉMILE İstanbul ﬁne Ｈｉ") == ["strasse", "emile", "istanbul", "fine", "hi"]
    assert search_text("Gabriel García Márquez") == "gabriel garcia marquez"
    assert search_text("a" * 101 + " b") == "b"


def test_database_queries_carry_the_words_as_parameters_only() -> None:
    parsed = parse('"harry potter" -x pot\'s NEAR(*')
    statement = Statement(parsed, {"near": {"neat": 1}}, "p")
    sql = statement.scored(BOOK, "book", "title")
    for word in ("harry", "potter", "near", "neat"):
        assert word not in sql
    assert set(statement.params.values()) >= {"harry", "potter", "pot", "s", "near", "neat", "x"}


def test_ascii_text_is_split_and_folded_as_any_text_is() -> None:
    # Every ASCII character, between letters and alone, through the general path and the
    # ASCII one.
    for code in range(128):
        char = chr(code)
        for text in (f"Ab{char}Cd9", char, f"{char}x{char}", f"{char * 3}Z"):
            general = [fold_word(text[start:end]) for start, end in spans(text)]
            assert words(text) == general, repr(text)


def test_a_repeated_word_costs_what_one_word_costs() -> None:
    once, repeated = parse("a"), parse(" ".join(["a"] * 100))
    statements = [Statement(query, {}, "p") for query in (once, repeated)]
    assert statements[0].filter(BOOK) == statements[1].filter(BOOK)
    assert repeated.word_count == 1
    assert parse('"a b" a -c -c "a b"').word_count == 4
