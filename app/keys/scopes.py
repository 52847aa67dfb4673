"""Scopes, each including the ones below it: `admin` > `write` > `read`."""

from typing import Literal

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")


def grants(held: str, needed: Scope) -> bool:
    """Tell whether a key of scope `held` may do what needs `needed`."""
    return held in SCOPES and SCOPES.index(held) >= SCOPES.index(needed)
