"""Retries of a model call: which failures, how long to wait, when to give up."""

from datetime import UTC, datetime

import pytest

from services.ai.retries import RetryPolicy, parse_retry_after
from services.ai.types import ScorerUnavailable

from .fake_openai import FakeOpenAI, Reply, answer, http_error, slow
from .test_openai_scorer import FEATURES, GOOD_ANSWER, MODEL, openai_scorer

POLICY = RetryPolicy(max_retries=3, base_seconds=1.0, max_wait_seconds=5.0)


def test_backoff_doubles_with_jitter_and_stays_under_the_max() -> None:
    # given a policy starting at 1 s, capped at 5 s; when each retry's wait is asked
    waits = [POLICY.wait_before(retry) for retry in (1, 2, 3)]
    # then each is within the upper half of its doubled backoff, and never above the cap
    assert waits[0] is not None
    assert 0.5 <= waits[0] <= 1.0
    assert waits[1] is not None
    assert 1.0 <= waits[1] <= 2.0
    assert waits[2] is not None
    assert 2.0 <= waits[2] <= 4.0


def test_no_wait_is_offered_once_retries_are_spent() -> None:
    # given three retries allowed; when a fourth is asked for; then the answer is give up
    assert POLICY.wait_before(4) is None
    assert RetryPolicy(max_retries=0, base_seconds=1.0, max_wait_seconds=5.0).wait_before(1) is None


def test_retry_after_wins_over_the_backoff_within_the_max() -> None:
    # given a server asking for 3 s, or 0 s; when the wait is asked; then it is what they asked
    assert POLICY.wait_before(1, "3") == 3.0
    assert POLICY.wait_before(2, "0") == 0.0


def test_retry_after_beyond_the_max_means_give_up() -> None:
    # given a server asking for a minute and a 5 s cap; then we give up instead of waiting
    assert POLICY.wait_before(1, "60") is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    # given a Retry-After header at noon; when it is read; then it gives the seconds to wait
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


@pytest.mark.parametrize(
    "failure",
    [http_error(429, {"retry-after": "0"}), http_error(503), slow(5.0, GOOD_ANSWER)],
    ids=["429", "503", "timeout"],
)
async def test_a_transient_failure_is_retried_and_the_answer_used(
    fake_openai: FakeOpenAI, failure: Reply
) -> None:
    # given a model that fails once, then answers
    fake_openai.replies = [failure]
    fake_openai.reply = answer(GOOD_ANSWER)

    # when a lead is scored with one retry allowed
    async with openai_scorer(fake_openai, timeout_seconds=0.3, max_retries=1) as scorer:
        assessment = await scorer.score(FEATURES)

    # then the second attempt's answer is the assessment
    assert assessment.scorer == f"openai:{MODEL}"
    assert assessment.score == pytest.approx(0.82)
    assert len(fake_openai.requests) == 2


async def test_a_retry_after_longer_than_allowed_ends_the_call_at_once(
    fake_openai: FakeOpenAI,
) -> None:
    # given a rate-limited model asking to be left alone for a minute
    fake_openai.reply = http_error(429, {"retry-after": "60"})

    # when a lead is scored with retries allowed but waits capped at 1 s
    async with openai_scorer(fake_openai, max_retries=3, retry_max_wait_seconds=1.0) as scorer:
        with pytest.raises(ScorerUnavailable, match="HTTP 429"):
            await scorer.score(FEATURES)

    # then it was asked once, and nobody sat out the minute
    assert len(fake_openai.requests) == 1


async def test_an_invalid_answer_is_not_retried(fake_openai: FakeOpenAI) -> None:
    # given a model that answers, but wrongly: asking again would cost without helping
    fake_openai.reply = answer({**GOOD_ANSWER, "score": 7})

    # when a lead is scored with retries allowed; then it fails after one request
    async with openai_scorer(fake_openai, max_retries=3) as scorer:
        with pytest.raises(ScorerUnavailable, match="invalid model answer"):
            await scorer.score(FEATURES)
    assert len(fake_openai.requests) == 1
