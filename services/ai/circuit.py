"""A circuit breaker in front of a scorer: stop asking an endpoint that keeps failing.

Its state lives in the process (each server and worker process counts its own failures):
a failing endpoint is then asked at most `failures` times per process per opening, which
is what protects it; sharing the count through the database would add a write per call.
"""

import time
from collections.abc import Callable

from services.ai.types import Assessment, BudgetSpent, Scorer, ScorerUnavailable, ScoringInput


class CircuitBreaker:
    """Closed until `failures` calls in a row failed; then open for `open_seconds`, when
    one trial call is let through (half open): success closes it, failure reopens it."""

    def __init__(
        self,
        *,
        failures: int,
        open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        return self._open_until is not None and self._clock() < self._open_until

    def allows_call(self) -> bool:
        if self._open_until is None:
            return True
        if self._clock() < self._open_until:
            return False
        # Half open: this caller is the trial; others stay out until it reports back.
        self._open_until = self._clock() + self._open_seconds
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._open_until = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._clock() + self._open_seconds


class CircuitBreakingScorer:
    """Asks `scorer` unless the breaker is open; then raises ScorerUnavailable at once."""

    def __init__(self, scorer: Scorer, breaker: CircuitBreaker) -> None:
        self._scorer = scorer
        self._breaker = breaker

    @property
    def name(self) -> str:
        return self._scorer.name

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        if not self._breaker.allows_call():
            raise ScorerUnavailable(f"{self.name} is paused after repeated failures")
        try:
            assessment = await self._scorer.score(scoring_input)
        except BudgetSpent:
            raise  # the model was not asked: this says nothing about its health
        except ScorerUnavailable:
            self._breaker.record_failure()
            raise
        self._breaker.record_success()
        return assessment

    async def aclose(self) -> None:
        await self._scorer.aclose()
