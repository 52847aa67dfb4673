"""The id of the request being served, for its response, its problem bodies and its log lines."""

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# 1-200 visible ASCII characters (no space); anything else a client sends is replaced.
MAX_LENGTH = 200
PATTERN = rf"[\x21-\x7e]{{1,{MAX_LENGTH}}}"
ACCEPTED = re.compile(PATTERN.encode())

# Set by the request middleware for the task that serves the request; None outside requests.
current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_for(sent: bytes | None) -> str:
    """The client's id when it is acceptable, else a new one."""
    if sent is not None and ACCEPTED.fullmatch(sent):
        return sent.decode("ascii")
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request this code runs for, if any."""
    return current.get()
