"""Failed attempts are tried again with exponential backoff and jitter, for about a day."""

import itertools
import random
from datetime import timedelta

from services.webhooks.schedule import MAX_GROWTH, RetrySchedule
from settings import WebhookSettings

DEFAULTS = WebhookSettings()
SCHEDULE = RetrySchedule(base_seconds=60, max_attempts=14)


def test_each_wait_doubles_up_to_a_ceiling() -> None:
    waits = [SCHEDULE.nominal_wait(attempt) for attempt in range(1, 14)]
    assert waits[:4] == [60, 120, 240, 480]
    assert all(later >= earlier for earlier, later in itertools.pairwise(waits))
    assert max(waits) == 60 * MAX_GROWTH


def test_each_wait_is_jittered_within_half_of_its_length() -> None:
    rng = random.Random(7)
    for attempt in range(1, 14):
        nominal = SCHEDULE.nominal_wait(attempt)
        draws = {SCHEDULE.wait_after(attempt, rng=rng) for _ in range(20)}
        assert len(draws) > 1  # not the same moment for every delivery
        for wait in draws:
            assert wait is not None
            assert nominal * 0.5 <= wait.total_seconds() <= nominal * 1.5


def test_there_is_no_wait_after_the_last_attempt() -> None:
    assert SCHEDULE.wait_after(13) is not None
    assert SCHEDULE.wait_after(14) is None
    assert RetrySchedule(base_seconds=1, max_attempts=1).wait_after(1) is None


def test_the_default_schedule_spans_about_a_day() -> None:
    schedule = RetrySchedule(DEFAULTS.retry_base_seconds, DEFAULTS.max_attempts)
    assert timedelta(hours=20) <= schedule.nominal_span() <= timedelta(hours=28)
