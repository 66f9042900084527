"""The token bucket on a clock the test turns: refill, Retry-After, bounded memory."""

import pytest

from domain.access import Role
from services.scope import Scope
from web.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(api_key_id: int) -> Scope:
    return Scope(
        tenant_id=1, actor="a@example.com", user_id=1, role=Role.VIEWER, api_key_id=api_key_id
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_burst_passes_then_the_caller_waits_whole_seconds(clock: Clock) -> None:
    # given 6 requests a minute (one every 10 s) with a burst of 2
    limiter = RateLimiter(per_minute=6, burst=2, clock=clock)
    # when three come at once, then the third must wait for the next token
    assert [limiter.take(key(1)) for _ in range(3)] == [None, None, 10]
    # and 2.5 s later it is 7.5 s away, rounded up
    clock.now += 2.5
    assert limiter.take(key(1)) == 8


def test_a_refused_request_takes_nothing(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    assert limiter.take(key(1)) is None
    for _ in range(5):
        assert limiter.take(key(1)) == 1
    # one second on, exactly one token has come back
    clock.now += 1
    assert [limiter.take(key(1)) for _ in range(2)] == [None, 1]


def test_the_bucket_refills_up_to_the_burst_and_no_further(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take(key(1)) for _ in range(3)] == [None, None, None]
    clock.now += 3600
    assert [limiter.take(key(1)) is None for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (key(1), key(2)),  # two API keys of one user
        (Scope(tenant_id=1, user_id=1), Scope(tenant_id=1, user_id=2)),  # two signed-in users
        (Scope(tenant_id=1, user_id=7), Scope(tenant_id=1, user_id=7, api_key_id=7)),
    ],
)
def test_each_credential_has_a_bucket_of_its_own(clock: Clock, first: Scope, second: Scope) -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    assert limiter.take(first) is None
    assert limiter.take(first) == 1
    assert limiter.take(second) is None


def test_buckets_left_alone_until_full_again_are_forgotten(clock: Clock) -> None:
    # given 100 keys that called once (a full bucket of 2 refills in 2 s at 60 a minute)
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    for api_key_id in range(100):
        limiter.take(key(api_key_id))
    assert len(limiter) == 100
    # when 2 s pass and another key calls, then only its bucket is kept
    clock.now += 2
    limiter.take(key(1000))
    assert len(limiter) == 1
    # and a forgotten key starts with a full bucket, as it would have had anyway
    assert [limiter.take(key(0)) for _ in range(3)] == [None, None, 1]


def test_past_the_most_buckets_the_longest_idle_is_dropped(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60, burst=10, max_buckets=3, clock=clock)
    for api_key_id in range(10):
        clock.now += 0.01
        limiter.take(key(api_key_id))
    assert len(limiter) == 3
