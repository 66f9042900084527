"""A circuit breaker in front of a scorer: stop asking an endpoint that keeps failing.

Its state lives in the process (each server and worker process counts its own failures):
a failing endpoint is then asked at most `failures` times per process per opening, which
is what protects it; sharing the count through the database would add a write per call.
One breaker guards every use of one endpoint (scoring and explaining): an endpoint that
fails is failing for both.
"""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.ai.explaining import Explainer, Explanation
from services.ai.types import Assessment, BudgetSpent, Scorer, ScorerUnavailable, ScoringInput

Answer = TypeVar("Answer")


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

    async def call(self, model: str, ask: Callable[[], Awaitable[Answer]]) -> Answer:
        """`ask()`'s answer, counted as a success or failure of `model`; ScorerUnavailable
        at once, without asking, while the breaker is open."""
        if not self.allows_call():
            raise ScorerUnavailable(f"{model} is paused after repeated failures")
        try:
            answer = await ask()
        except BudgetSpent:
            raise  # the model was not asked: this says nothing about its health
        except ScorerUnavailable:
            self.record_failure()
            raise
        self.record_success()
        return answer


class CircuitBreakingScorer:
    """Asks `scorer` unless the breaker is open; then raises ScorerUnavailable at once."""

    def __init__(self, scorer: Scorer, breaker: CircuitBreaker) -> None:
        self._scorer = scorer
        self._breaker = breaker

    @property
    def name(self) -> str:
        return self._scorer.name

    async def score(self, scoring_input: ScoringInput) -> Assessment:
        return await self._breaker.call(self.name, lambda: self._scorer.score(scoring_input))

    async def aclose(self) -> None:
        await self._scorer.aclose()


class CircuitBreakingExplainer:
    """Asks `explainer` unless the breaker is open; then raises ScorerUnavailable at once."""

    def __init__(self, explainer: Explainer, breaker: CircuitBreaker) -> None:
        self._explainer = explainer
        self._breaker = breaker

    @property
    def name(self) -> str:
        return self._explainer.name

    async def explain(self, scoring_input: ScoringInput, assessment: Assessment) -> Explanation:
        return await self._breaker.call(
            self.name, lambda: self._explainer.explain(scoring_input, assessment)
        )

    async def aclose(self) -> None:
        await self._explainer.aclose()
