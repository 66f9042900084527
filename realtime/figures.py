"""`pipelineUpdated`: fresh pipeline figures after changes, at most about once a second.

A change marks its tenant; a tick computes the figures once per marked tenant that has
subscribers, and every subscriber of that tenant receives the same object. The first
change after a quiet spell is answered at once; changes during the following interval
are gathered into the next tick, which reads the state after all of them.
"""

import asyncio
import logging
from collections.abc import Iterable

from db.database import Database
from db.records import EventRecord
from db.tenancy import acting_for
from domain.events import EventType
from realtime.hub import Hub
from services.pipeline import pipeline_stats
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


class PipelineTicker:
    def __init__(self, *, hub: Hub, db: Database, interval_seconds: float) -> None:
        self._hub = hub
        self._db = db
        self._interval = interval_seconds
        self._changed: set[int] = set()
        self._wake = asyncio.Event()

    def changed(self, tenant_id: int, events: Iterable[EventRecord]) -> None:
        """Note new events of a tenant; its figures follow if they may have moved."""
        if self._hub.has_figure_subscribers(tenant_id) and any(
            event.type in FIGURE_EVENTS for event in events
        ):
            self._changed.add(tenant_id)
            self._wake.set()

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
            with acting_for(tenant_id):
                stats = await pipeline_stats(db=self._db, scope=Scope(tenant_id=tenant_id))
        except Exception:
            log.exception("pipeline figures of tenant %s failed; retrying next tick", tenant_id)
            self._changed.add(tenant_id)
            self._wake.set()
            return
        self._hub.publish_figures(tenant_id, stats)
