"""ISBN checking and normalisation: any accepted spelling becomes 13 digits."""

import re

SEPARATORS = re.compile(r"[\s-]")


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(digit) * (1 if i % 2 == 0 else 3) for i, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_is_valid(isbn: str) -> bool:
    if not re.fullmatch(r"[0-9]{9}[0-9X]", isbn):
        return False
    values = [10 if char == "X" else int(char) for char in isbn]
    return sum((10 - i) * value for i, value in enumerate(values)) % 11 == 0


def normalize_isbn(value: str) -> str:
    """Return the ISBN-13 for an ISBN-10 or ISBN-13 with optional hyphens or spaces.

    Raises ValueError when the value is not an ISBN or its check digit is wrong.
    """
    isbn = SEPARATORS.sub("", value).upper()
    if len(isbn) == 10 and isbn10_is_valid(isbn):
        first12 = "978" + isbn[:9]
        return first12 + isbn13_check_digit(first12)
    if re.fullmatch(r"[0-9]{13}", isbn) and isbn13_check_digit(isbn[:12]) == isbn[12]:
        return isbn
    raise ValueError("not a valid ISBN-10 or ISBN-13")
