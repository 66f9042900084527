"""Live updates of one server process: the hub, the event listener and the figures ticker.

Built once in `create_app`; the app's lifespan starts it and stops it, so the listener
runs in every served process, followed or not: it also keeps the cache of callers honest
(`access`). Subscriptions open mailboxes through it.
"""

import asyncio
import contextlib
from collections.abc import Collection

from db.database import Database
from db.queries import events as event_rows
from db.records import EventRecord
from db.tenancy import acting_for
from realtime.figures import PipelineTicker, figures_from
from realtime.hub import EventFilter, Hub, Mailbox
from realtime.listener import AccessWatcher, EventListener
from settings import RealtimeSettings

_PAGE = 500


class LiveUpdates:
    def __init__(
        self,
        *,
        db: Database,
        settings: RealtimeSettings,
        listener_dsn: str,
        access: AccessWatcher,
    ) -> None:
        self._db = db
        self._queue_size = settings.queue_size
        self.hub = Hub(queue_size=settings.queue_size)
        self.figures = PipelineTicker(
            hub=self.hub,
            compute=figures_from(db),
            interval_seconds=settings.pipeline_interval_seconds,
        )
        self.listener = EventListener(
            dsn=listener_dsn,
            db=db,
            hub=self.hub,
            published=self.figures.changed,
            replayed=self.figures.refresh_all,
            access=access,
            retry_seconds=settings.listener_retry_seconds,
            keepalive_seconds=settings.listener_keepalive_seconds,
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.listener.run(), name="crm-event-listener"),
            asyncio.create_task(self.figures.run(), name="crm-pipeline-figures"),
        ]

    async def stop(self) -> None:
        """Every subscription ends; the listener disconnects."""
        self.hub.end_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def events(
        self,
        tenant_id: int,
        accepts: EventFilter,
        *,
        types: Collection[str],
        after_id: int | None = None,
    ) -> Mailbox:
        """A mailbox for the tenant's events of `types` that `accepts`: from now on, or,
        with `after_id`, every one after that event first (from the journal), then on.
        Either way nothing at or below `after_id` comes, even if this process publishes
        it only later (its listener behind the journal)."""
        if self.hub.seen_through(tenant_id) is None:
            # The first follower of a tenant: know where its journal stands, so a
            # listener reconnect can replay from there.
            with acting_for(tenant_id):
                async with self._db.read() as conn:
                    newest = await event_rows.newest_id(conn, tenant_id=tenant_id)
            self.hub.note(tenant_id, newest)
        mailbox = self.hub.open_events(tenant_id, accepts)
        if after_id is not None:
            # Open first, then read the journal up to where the mailbox began: every
            # event is in exactly one of the two. When the client is ahead of this
            # process (after_id > began) there is no backlog, and the mailbox's floor
            # holds back what the listener still has to publish up to after_id.
            try:
                backlog = await self._backlog(tenant_id, accepts, types, after_id, mailbox.began)
            except BaseException:
                await mailbox.aclose()
                raise
            mailbox.resume(after_id, backlog)
        return mailbox

    async def _backlog(
        self,
        tenant_id: int,
        accepts: EventFilter,
        types: Collection[str],
        after_id: int,
        through_id: int,
    ) -> list[EventRecord]:
        """The accepted events in (after_id, through_id]; stops past a full queue."""
        backlog: list[EventRecord] = []
        cursor = after_id
        with acting_for(tenant_id):
            while cursor < through_id and len(backlog) <= self._queue_size:
                async with self._db.read() as conn:
                    rows = await event_rows.after(
                        conn, tenant_id=tenant_id, after_id=cursor, limit=_PAGE, types=types
                    )
                backlog += [row for row in rows if row.id <= through_id and accepts(row)]
                if len(rows) < _PAGE:
                    break
                cursor = rows[-1].id
        return backlog

    def figures_of(self, tenant_id: int) -> Mailbox:
        """A mailbox of the tenant's pipeline figures: a first snapshot soon (read after
        it opened, so no change made before is missed), then one after changes."""
        mailbox = self.hub.open_figures(tenant_id)
        self.figures.refresh(tenant_id)
        return mailbox
