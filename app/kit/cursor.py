"""Cursors: opaque, URL-safe tokens holding the sort values and id of the row a page ends
after, with a digest of the list they were made for."""

import base64
import json
from typing import Any

from pydantic import ValidationError

from app.kit.schemas import field_error

# Room for a 500-character title of 4-byte characters, base64-encoded, and the other keys.
MAX_CURSOR_LENGTH = 4096
NOT_A_CURSOR = "not a cursor this list gave; use meta.next_cursor as it came"
OTHER_LIST = (
    "the cursor belongs to another list: send it with the filters and sort of the request "
    "that gave it"
)


def encode_cursor(values: list[Any], check: str) -> str:
    """The cursor of these JSON values and the digest of the list they belong to."""
    compact = json.dumps({"v": values, "f": check}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(compact.encode()).decode().rstrip("=")


def query_error(field: str, type_: str, message: str, value: Any) -> ValidationError:
    """A 422 at `["query", field]`, raised where the query's fields are checked together."""
    return field_error((field,), type_, message, value)


def cursor_error(cursor: str) -> ValidationError:
    """The 422 of a cursor made for another list, at `["query", "cursor"]`."""
    return query_error("cursor", "cursor_mismatch", OTHER_LIST, cursor)


def decode_cursor(cursor: str) -> tuple[list[Any], str]:
    """Return a cursor's values and fingerprint; ValueError if it is not one."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise ValueError(NOT_A_CURSOR) from None
    if (
        not isinstance(decoded, dict)
        or not isinstance(decoded.get("v"), list)
        or not isinstance(decoded.get("f"), str)
    ):
        raise ValueError(NOT_A_CURSOR)
    return decoded["v"], decoded["f"]
