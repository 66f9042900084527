"""The pipeline figures ticker, in memory: debounced per tenant, refreshed on demand."""

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal

from db.records import EventRecord
from realtime.figures import PipelineTicker
from realtime.hub import Hub, Mailbox
from services.pipeline import PipelineStats
from tests.realtime.conftest import WAIT
from tests.realtime.test_hub import OTHER, TENANT, lead_created

INTERVAL = 0.3


class Computations:
    """A stand-in for the figures query: records when each tenant's figures were computed,
    and answers with how many marks the test had made by then."""

    def __init__(self) -> None:
        self.at: list[tuple[int, float]] = []
        self.marks = 0

    async def __call__(self, tenant_id: int) -> PipelineStats:
        self.at.append((tenant_id, asyncio.get_running_loop().time()))
        return PipelineStats([], [], None, float(self.marks), Decimal(0))


@contextlib.asynccontextmanager
async def running(ticker: PipelineTicker) -> AsyncIterator[None]:
    task = asyncio.create_task(ticker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def figures(mailbox: Mailbox) -> float:
    """The mark count the next delivered figures were computed at."""
    delivery = await asyncio.wait_for(anext(mailbox), WAIT)
    assert isinstance(delivery.root, PipelineStats)
    assert delivery.root.average_latest_score is not None
    return delivery.root.average_latest_score


def change(event_id: int) -> list[EventRecord]:
    return [lead_created(event_id)]


async def test_changes_within_one_interval_are_computed_once_after_it() -> None:
    # given a ticker with a short interval and a subscriber of a tenant's figures, which
    # got the figures of a first change (answered at once)
    hub = Hub(queue_size=10)
    computed = Computations()
    ticker = PipelineTicker(hub=hub, compute=computed, interval_seconds=INTERVAL)
    mailbox = hub.open_figures(TENANT)
    async with running(ticker):
        computed.marks = 1
        ticker.changed(TENANT, change(1))
        assert await figures(mailbox) == 1
        # when ten more changes follow, the ticker free to run between any two of them
        for n in range(2, 12):
            computed.marks = n
            ticker.changed(TENANT, change(n))
            await asyncio.sleep(0)
        # then figures follow until they show all of them
        while await figures(mailbox) < 11:
            pass
    # computed no sooner than an interval after the last computation (once, unless
    # the machine stalled for an interval within the burst): fewer times than changes
    times = [at for _, at in computed.at]
    assert all(later - earlier >= INTERVAL for earlier, later in itertools.pairwise(times))
    assert len(times) < 11


async def test_each_changed_tenant_is_computed_once_per_tick_and_only_when_followed() -> None:
    # given subscribers of one tenant's figures only
    hub = Hub(queue_size=10)
    computed = Computations()
    ticker = PipelineTicker(hub=hub, compute=computed, interval_seconds=INTERVAL)
    mine = [hub.open_figures(TENANT) for _ in range(3)]
    async with running(ticker):
        # when both tenants change
        ticker.changed(OTHER, [lead_created(1, tenant_id=OTHER)])
        ticker.changed(TENANT, change(2))
        # then the followed tenant's figures are computed once, for all its subscribers
        deliveries = [await asyncio.wait_for(anext(mailbox), WAIT) for mailbox in mine]
    assert all(delivery is deliveries[0] for delivery in deliveries)
    assert [tenant for tenant, _ in computed.at] == [TENANT]


async def test_refreshing_all_sends_every_followed_tenants_figures_without_a_change() -> None:
    # given subscribers of two tenants' figures
    hub = Hub(queue_size=10)
    computed = Computations()
    ticker = PipelineTicker(hub=hub, compute=computed, interval_seconds=INTERVAL)
    mine, theirs = hub.open_figures(TENANT), hub.open_figures(OTHER)
    async with running(ticker):
        # when all are refreshed (as after a listener outage)
        ticker.refresh_all()
        # then each gets figures
        await figures(mine)
        await figures(theirs)
    assert sorted(tenant for tenant, _ in computed.at) == [TENANT, OTHER]
