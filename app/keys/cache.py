"""Usable keys kept in this process for a moment, so that most requests send no key lookup.

A key the database said is usable is kept for KEY_CACHE_SECONDS (one second: the contract's
bound on how soon a revocation reaches every other process), at most KEY_CACHE_SIZE keys, the
oldest going first. Its expiry is checked on every use, so an expired key is refused at once.
A revocation in this process drops the key at once and keeps it out of the cache for a while,
so that a lookup which raced the revocation's commit cannot put it back.
"""

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from app.models import utcnow

KEY_CACHE_SECONDS = 1.0
KEY_CACHE_SIZE = 10_000
# How long a key revoked in this process stays out of the cache: far longer than the revoking
# request takes to commit.
REVOKED_SECONDS = 30.0


class UsableKey(NamedTuple):
    """What the access check needs of a key it found: who, what it may do, when it was last
    used and when it expires."""

    id: uuid.UUID
    scope: str
    last_used_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Kept:
    key: UsableKey
    until: float  # time.monotonic() when it must be looked up again


class KeyCache:
    def __init__(self, seconds: float = KEY_CACHE_SECONDS, size: int = KEY_CACHE_SIZE) -> None:
        self.seconds = seconds
        self.size = size
        self.kept: OrderedDict[str, Kept] = OrderedDict()
        self.revoked: dict[uuid.UUID, float] = {}

    def get(self, secret_hash: str) -> UsableKey | None:
        """The key with this hash if it was found usable less than a moment ago and is still."""
        kept = self.kept.get(secret_hash)
        if kept is None:
            return None
        expires_at = kept.key.expires_at
        if kept.until <= time.monotonic() or (expires_at is not None and expires_at <= utcnow()):
            del self.kept[secret_hash]
            return None
        return kept.key

    def put(self, secret_hash: str, key: UsableKey) -> None:
        """Keep a key the database just said is usable, unless this process revoked it."""
        now = time.monotonic()
        if self.revoked.get(key.id, 0.0) > now:
            return
        self.kept[secret_hash] = Kept(key, now + self.seconds)
        self.kept.move_to_end(secret_hash)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)

    def used(self, secret_hash: str, at: datetime) -> None:
        """Note a use just recorded, so that the next request does not record it again."""
        if (kept := self.kept.get(secret_hash)) is not None:
            self.kept[secret_hash] = replace(kept, key=kept.key._replace(last_used_at=at))

    def revoke(self, key_id: uuid.UUID) -> None:
        """Drop a key this process revokes, and keep it out for a while."""
        now = time.monotonic()
        self.revoked = {id_: until for id_, until in self.revoked.items() if until > now}
        self.revoked[key_id] = now + REVOKED_SECONDS
        for secret_hash in [h for h, kept in self.kept.items() if kept.key.id == key_id]:
            del self.kept[secret_hash]
