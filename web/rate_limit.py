"""How often one credential may call: a token bucket per API key (or signed-in user).

Each bucket holds up to `burst` requests and refills at `per_minute / 60` a second; a
request takes one, and a request that finds the bucket empty is refused with the whole
seconds until the next one would pass.

The buckets live in this process: N server processes allow N times the rate. A limiter
shared between processes (in PostgreSQL or Redis) is for later. Memory stays bounded: a
bucket left alone long enough to fill up again is dropped (a new one starts full, so
nothing changes for its caller), and past `max_buckets` the longest idle is dropped too.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from services.scope import Scope


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at


class RateLimiter:
    def __init__(
        self,
        *,
        per_minute: int,
        burst: int,
        max_buckets: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._refill_seconds = burst / self._rate
        self._max_buckets = max_buckets
        self._clock = clock
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, scope: Scope) -> int | None:
        """Count one request of the caller: None if it may go ahead, else the whole seconds
        to wait (for `Retry-After`). A refused request takes nothing from the bucket."""
        now = self._clock()
        self._forget_idle(now)
        credential = _credential(scope)
        bucket = self._buckets.get(credential)
        if bucket is None:
            bucket = self._buckets[credential] = _Bucket(self._burst, now)
        else:
            self._buckets.move_to_end(credential)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
            bucket.at = now
        if bucket.tokens < 1:
            return max(1, math.ceil((1 - bucket.tokens) / self._rate))
        bucket.tokens -= 1
        return None

    def _forget_idle(self, now: float) -> None:
        """The buckets are in order of last use, so the idle ones are at the front."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            full_again = now - oldest.at >= self._refill_seconds
            if not full_again and len(self._buckets) < self._max_buckets:
                return
            self._buckets.popitem(last=False)


def _credential(scope: Scope) -> Hashable:
    """An API key has a bucket of its own; a signed-in user (JWT) has one per user."""
    if scope.api_key_id is not None:
        return ("api key", scope.api_key_id)
    if scope.user_id is not None:
        return ("user", scope.user_id)
    return ("tenant", scope.tenant_id)
