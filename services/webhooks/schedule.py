"""When a failed delivery is tried again: exponential backoff with jitter, for about a day.

The wait after the first failed attempt is CRM_WEBHOOK_RETRY_BASE_SECONDS; each later wait
doubles, up to 240 times the first; each is then drawn at random within ±50% of that, so
the deliveries to an endpoint that comes back do not all return at the same moment. With
the defaults (60 s, 14 attempts) the waits are 1, 2, 4 … 128 minutes, then 4 hours, and
the last attempt comes about a day after the first. Tests shrink the base to fractions
of a second.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

MAX_GROWTH = 240  # a wait grows to at most this many times the first
JITTER = 0.5  # each wait is drawn from [1 - JITTER, 1 + JITTER] times its nominal length

_RANDOM = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    base_seconds: float
    max_attempts: int

    def nominal_wait(self, attempt: int) -> float:
        """Seconds between failed attempt number `attempt` (from 1) and the next, before
        jitter."""
        growth: int = min(2 ** (attempt - 1), MAX_GROWTH)
        return self.base_seconds * growth

    def wait_after(self, attempt: int, *, rng: random.Random = _RANDOM) -> timedelta | None:
        """How long to wait after failed attempt number `attempt`; None after the last."""
        if attempt >= self.max_attempts:
            return None
        factor = rng.uniform(1 - JITTER, 1 + JITTER)
        return timedelta(seconds=self.nominal_wait(attempt) * factor)

    def nominal_span(self) -> timedelta:
        """From the first attempt to the last, before jitter."""
        waits = (self.nominal_wait(attempt) for attempt in range(1, self.max_attempts))
        return timedelta(seconds=sum(waits))
