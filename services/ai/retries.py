"""When to ask a model again after a failed call, and how long to wait first."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from settings import AISettings

RETRIED_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    base_seconds: float
    max_wait_seconds: float

    @classmethod
    def from_settings(cls, settings: AISettings) -> "RetryPolicy":
        return cls(
            settings.max_retries, settings.retry_base_seconds, settings.retry_max_wait_seconds
        )

    def wait_before(self, retry: int, retry_after: str | None = None) -> float | None:
        """Seconds to wait before retry number `retry` (1, 2, ...), or None: give up.

        The server's Retry-After wins over our own backoff; when it asks for longer than
        `max_wait_seconds` we give up now rather than hold the request that long."""
        if retry > self.max_retries:
            return None
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return asked if asked <= self.max_wait_seconds else None
        backoff = self.base_seconds * 2.0 ** (retry - 1)
        # Full jitter on the upper half: concurrent callers do not retry in lockstep.
        return min(backoff * random.uniform(0.5, 1.0), self.max_wait_seconds)  # noqa: S311


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (`120`) or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now or datetime.now(UTC))
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a delay


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
