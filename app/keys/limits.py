"""Request and failed-authentication rates, counted in this process.

Each process counts on its own (fixed one-minute windows held in memory), so N processes
behind one proxy let a client make up to N times the limit. That bound is kept on purpose:
a shared counter would cost a database round trip on every request, and the limits are
there to blunt floods and key guessing, not to bill.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.config import Settings

# The window each limit counts in (RateLimitItemPerMinute).
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go ahead, and what the `RateLimit` headers say about it."""

    policy: str
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """`RateLimit-Policy` and `RateLimit` as the IETF httpapi draft spells them."""
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={WINDOW_SECONDS}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimits:
    """The request limit per client and the failed-authentication limit per address."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = FixedWindowRateLimiter(MemoryStorage())
        self.requests = RateLimitItemPerMinute(settings.rate_limit_per_minute, namespace="req")
        self.failures = RateLimitItemPerMinute(settings.auth_failures_per_minute, namespace="auth")
        self.requests_on = settings.rate_limit_per_minute > 0
        self.failures_on = settings.auth_failures_per_minute > 0

    def verdict(self, item: RateLimitItemPerMinute, client: str, allowed: bool) -> Verdict:
        reset_time, remaining = self.limiter.get_window_stats(item, client)
        reset = max(1, math.ceil(reset_time - time.time()))
        policy = "requests" if item is self.requests else "auth-failures"
        return Verdict(policy, allowed, item.amount, remaining, reset)

    def take_request(self, client: str) -> Verdict | None:
        """Count one request of `client`; None when the limit is switched off."""
        if not self.requests_on:
            return None
        allowed = self.limiter.hit(self.requests, client)
        return self.verdict(self.requests, client, allowed)

    def failures_exhausted(self, address: str) -> Verdict | None:
        """A refusing verdict if `address` has failed to authenticate too often this minute."""
        if not self.failures_on or self.limiter.test(self.failures, address):
            return None
        return self.verdict(self.failures, address, allowed=False)

    def record_failure(self, address: str) -> None:
        if self.failures_on:
            self.limiter.hit(self.failures, address)
