"""ISBN normalisation, checked against ISBNs whose check digits were worked out independently."""

import pytest

from app.books.isbn import isbn10_is_valid, isbn13_check_digit, normalize_isbn


@pytest.mark.parametrize(
    ("spelling", "isbn13"),
    [
        # ISBN-10 in every accepted spelling, including an X (= 10) check digit.
        ("0-06-051275-X", "9780060512750"),
        ("006051275X", "9780060512750"),
        ("006051275x", "9780060512750"),
        ("0 06 051275 X", "9780060512750"),
        ("0-8044-2957-X", "9780804429573"),
        ("0-306-40615-2", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("0 306-40615 2", "9780306406157"),
        ("1-86197-271-7", "9781861972712"),
        ("0-19-853453-1", "9780198534532"),
        # ISBN-13, 978 and 979 prefixes, with and without separators.
        ("978-0-306-40615-7", "9780306406157"),
        ("978 0 306 40615 7", "9780306406157"),
        ("9780306406157", "9780306406157"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_accepted_spellings_become_isbn13(spelling: str, isbn13: str) -> None:
    assert normalize_isbn(spelling) == isbn13


@pytest.mark.parametrize(
    "value",
    [
        "0-06-051275-3",  # ISBN-10, wrong check digit
        "0-306-40615-X",  # ISBN-10, X where 2 belongs
        "978-0-306-40615-8",  # ISBN-13, wrong check digit
        "978-0-306-40615-X",  # X is no ISBN-13 check digit
        "X-306-40615-2",  # X only as the last ISBN-10 character
        "03064061",  # too short
        "030640615",
        "03064061522",  # 11 digits
        "978030640615",  # 12 digits
        "97803064061577",  # 14 digits
        "0-306-4O615-2",  # a letter O, not a zero
        "ISBN 0-306-40615-2",
        "0.306.40615.2",  # only hyphens and spaces separate
        "",
        "---",
        "٠٣٠٦٤٠٦١٥٢",  # Arabic-Indic digits of 0306406152
        "０３０６４０６１５２",  # full-width digits of 0306406152
        "٩٧٨٠٣٠٦٤٠٦١٥٧",  # Arabic-Indic digits of 9780306406157
        "978030640615\u0667",  # one Arabic-Indic 7 as the check digit
    ],
)
def test_invalid_isbns_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a valid ISBN"):
        normalize_isbn(value)


@pytest.mark.parametrize(
    ("first12", "digit"),
    [("978030640615", "7"), ("978006051275", "0"), ("978080442957", "3"), ("979109063607", "1")],
)
def test_isbn13_check_digit(first12: str, digit: str) -> None:
    assert isbn13_check_digit(first12) == digit


@pytest.mark.parametrize(
    ("isbn10", "valid"),
    [
        ("0306406152", True),
        ("006051275X", True),
        ("0306406153", False),
        ("006051275x", False),  # lower case is upper-cased by normalize_isbn, not here
        ("X060512750", False),
        ("030640615", False),
    ],
)
def test_isbn10_is_valid(isbn10: str, valid: bool) -> None:
    assert isbn10_is_valid(isbn10) is valid
