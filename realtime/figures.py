"""`pipelineUpdated`: fresh pipeline figures after changes, at most about once a second.

A change marks its tenant; a tick computes the figures once per marked tenant that has
subscribers, and every subscriber of that tenant receives the same object. The first
change after a quiet spell is answered at once; changes during the following interval
are gathered into the next tick, which reads the state after all of them.

A tenant is also marked, whatever changed, when someone subscribes (their first
snapshot) and after the listener replayed the journal (changes it may have missed).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from db.database import Database
from db.records import EventRecord
from db.tenancy import acting_for
from domain.events import EventType
from realtime.hub import Hub
from services.pipeline import PipelineStats, pipeline_stats
from services.scope import Scope

log = logging.getLogger(__name__)

# The events that can move a figure: stage counts, the transfer rate, scores, amounts paid.
FIGURE_EVENTS = frozenset(
    {
        EventType.LEAD_CREATED,
        EventType.LEAD_STAGE_CHANGED,
        EventType.LEAD_TRANSFERRED,
        EventType.LEAD_ANALYZED,
        EventType.SALE_CREATED,
        EventType.SALE_STAGE_CHANGED,
    }
)

Compute = Callable[[int], Awaitable[PipelineStats]]


def figures_from(db: Database) -> Compute:
    """The tenant's pipeline figures as the `pipeline` query computes them."""

    async def compute(tenant_id: int) -> PipelineStats:
        with acting_for(tenant_id):
            return await pipeline_stats(db=db, scope=Scope(tenant_id=tenant_id))

    return compute


class PipelineTicker:
    def __init__(self, *, hub: Hub, compute: Compute, interval_seconds: float) -> None:
        self._hub = hub
        self._compute = compute
        self._interval = interval_seconds
        self._changed: set[int] = set()
        self._wake = asyncio.Event()

    def changed(self, tenant_id: int, events: Iterable[EventRecord]) -> None:
        """Note new events of a tenant; its figures follow if they may have moved."""
        if self._hub.has_figure_subscribers(tenant_id) and any(
            event.type in FIGURE_EVENTS for event in events
        ):
            self.refresh(tenant_id)

    def refresh(self, tenant_id: int) -> None:
        """Send the tenant's figures at the next tick (if anyone follows them)."""
        if self._hub.has_figure_subscribers(tenant_id):
            self._changed.add(tenant_id)
            self._wake.set()

    def refresh_all(self) -> None:
        """Every followed tenant's figures at the next tick: after a listener outage,
        whatever changed meanwhile."""
        for tenant_id in self._hub.figure_tenants():
            self.refresh(tenant_id)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            tenants, self._changed = self._changed, set()
            await asyncio.gather(*(self._send(tenant_id) for tenant_id in tenants))
            await asyncio.sleep(self._interval)

    async def _send(self, tenant_id: int) -> None:
        if not self._hub.has_figure_subscribers(tenant_id):
            return
        try:
            stats = await self._compute(tenant_id)
        except Exception:
            log.exception("pipeline figures of tenant %s failed; retrying next tick", tenant_id)
            self._changed.add(tenant_id)
            self._wake.set()
            return
        self._hub.publish_figures(tenant_id, stats)
