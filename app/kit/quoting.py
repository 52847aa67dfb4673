"""How an error message quotes what a client sent: enough to find it, never all of it.

An error that repeated its input whole would make a 1 MB header line a 1 MB stored import
error, and a list of such imports a response many times the size of any request.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

QUOTED_CHARACTERS = 50  # of one value an error quotes
QUOTED_VALUES = 5  # of a list of values an error names
MESSAGE_CHARACTERS = 1000  # of any message built from input, quotes and all


def shortened(text: str, limit: int = QUOTED_CHARACTERS) -> str:
    """`text`, or its first characters and an ellipsis, `limit` characters in all."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: str) -> str:
    """`value` shortened and in quotes, as `repr` writes it."""
    return repr(shortened(value))


def quoted_list(values: Sequence[str]) -> str:
    """The first few values quoted, then how many more there are."""
    shown = ", ".join(quoted(value) for value in values[:QUOTED_VALUES])
    more = len(values) - QUOTED_VALUES
    return f"{shown} and {more} more" if more > 0 else shown


def shortened_to(limit: int) -> BeforeValidator:
    """Shorten text to `limit` characters as it is read, so that what was stored before a
    limit held is shown within it."""

    def shorten(value: Any) -> Any:
        return shortened(value, limit) if isinstance(value, str) else value

    return BeforeValidator(shorten)


# What an error shows: a name it quotes, and its message.
QuotedText = Annotated[str, shortened_to(QUOTED_CHARACTERS), Field(max_length=QUOTED_CHARACTERS)]
MessageText = Annotated[str, shortened_to(MESSAGE_CHARACTERS), Field(max_length=MESSAGE_CHARACTERS)]
