"""The circuit breaker: a failing model is left alone for a while, then tried again."""

import pytest

from services.ai.circuit import CircuitBreaker, CircuitBreakingScorer
from services.ai.fallback import FallbackScorer
from services.ai.heuristic import HeuristicScorer
from services.ai.types import ScorerUnavailable

from .fake_openai import FakeOpenAI, answer, http_error
from .test_openai_scorer import FEATURES, GOOD_ANSWER, MODEL, openai_scorer


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, *, failures: int = 3, open_seconds: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(failures=failures, open_seconds=open_seconds, clock=clock)


def test_the_circuit_opens_after_k_failures_in_a_row_only() -> None:
    # given a breaker that opens after 3 failures in a row
    circuit = breaker(Clock())
    # when two fail, one succeeds, two more fail; then it is still closed
    for failed in (True, True, False, True, True):
        if failed:
            circuit.record_failure()
        else:
            circuit.record_success()
    assert circuit.allows_call()
    # when a third fails in a row; then it is open
    circuit.record_failure()
    assert circuit.is_open
    assert not circuit.allows_call()


def test_after_the_pause_one_trial_call_decides() -> None:
    # given an open breaker
    clock = Clock()
    circuit = breaker(clock, failures=1, open_seconds=30.0)
    circuit.record_failure()
    # when the pause is over; then one trial call is let through, and only one
    clock.now += 30.0
    assert circuit.allows_call()
    assert not circuit.allows_call()
    # when the trial fails; then it is open for another pause
    circuit.record_failure()
    clock.now += 29.0
    assert not circuit.allows_call()
    # when the next trial succeeds; then it is closed again
    clock.now += 1.0
    assert circuit.allows_call()
    circuit.record_success()
    assert circuit.allows_call()
    assert circuit.allows_call()


async def test_an_open_circuit_stops_requests_to_the_model(fake_openai: FakeOpenAI) -> None:
    # given a failing model behind a breaker that opens after 2 failures
    fake_openai.reply = http_error(500)
    clock = Clock()
    async with openai_scorer(fake_openai) as model:
        scorer = CircuitBreakingScorer(model, breaker(clock, failures=2, open_seconds=10.0))
        for _ in range(2):
            with pytest.raises(ScorerUnavailable, match="HTTP 500"):
                await scorer.score(FEATURES)

        # when it is asked again while open; then it fails at once, the model is not asked
        with pytest.raises(ScorerUnavailable, match="paused after repeated failures"):
            await scorer.score(FEATURES)
        assert len(fake_openai.requests) == 2

        # when the model recovers and the pause is over; then the trial call answers
        fake_openai.reply = answer(GOOD_ANSWER)
        clock.now += 10.0
        assessment = await scorer.score(FEATURES)
    assert assessment.scorer == f"openai:{MODEL}"
    assert len(fake_openai.requests) == 3


async def test_an_open_circuit_hands_over_to_the_fallback(fake_openai: FakeOpenAI) -> None:
    # given a model whose circuit is open, backed by the heuristic
    fake_openai.reply = http_error(500)
    async with openai_scorer(fake_openai) as model:
        circuit = breaker(Clock(), failures=1)
        scorer = FallbackScorer(CircuitBreakingScorer(model, circuit), HeuristicScorer())
        await scorer.score(FEATURES)
        assert circuit.is_open

        # when a lead is scored; then the heuristic answers without the model being asked
        assessment = await scorer.score(FEATURES)
    assert assessment.scorer == f"heuristic (fallback from openai:{MODEL})"
    assert len(fake_openai.requests) == 1
