"""The one LISTEN connection of a server process: committed events in, fanned out by the hub.

Every committed event sends "<tenant>:<id>" on `crm_events` (migration 0007), whichever
process made the change. The listener gathers the notifications that arrived together,
reads those events with one query per tenant (skipping tenants nobody here follows), and
publishes them. When the connection is lost (the server ends it, or a keep-alive query
fails) it reconnects with a growing back-off, and first replays every followed tenant's
journal from the newest event it published: nothing is lost and nothing repeats. After
each replay the pipeline figures of every tenant followed for them are sent again, since
whatever changed meanwhile may have moved them.

The same connection listens on `crm_access` (migration 0016): a changed key or user sends
its tenant's id there, and the listener tells the access watcher (the cache of callers)
at once. The watcher also hears when the connection is up and when it is lost, since
while nobody listens a change could pass unannounced.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import asyncpg
from sqlalchemy import make_url

from db.database import Database, async_url
from db.queries import events as event_rows
from db.records import EventRecord
from db.tenancy import acting_for
from domain.events import EVENTS_CHANNEL
from realtime.hub import Hub

log = logging.getLogger(__name__)

APPLICATION_NAME = "crm-listener"
ACCESS_CHANNEL = "crm_access"
_REPLAY_PAGE = 500
_MAX_RETRY_SECONDS = 10.0

Published = Callable[[int, list[EventRecord]], None]


class AccessWatcher(Protocol):
    """Whoever must hear of changes to access, and whether it can trust to hear of them."""

    def listening(self) -> None: ...

    def deaf(self) -> None: ...

    def access_changed(self, tenant_id: int) -> None: ...


class ReconnectHold:
    """For tests only: keeps a listener that lost its connection from reconnecting until
    `release()`, so changes are certain to be made while it is down. `reached` is set
    once the listener waits on it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def wait(self) -> None:
        self.reached.set()
        await self._released.wait()


def listener_dsn(app_url: str) -> str:
    """A plain postgresql:// DSN for asyncpg from any URL form the settings accept."""
    url = make_url(async_url(app_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ConnectionLost(Exception):
    pass


class EventListener:
    def __init__(
        self,
        *,
        dsn: str,
        db: Database,
        hub: Hub,
        published: Published,
        replayed: Callable[[], None],
        access: AccessWatcher,
        retry_seconds: float,
        keepalive_seconds: float,
    ) -> None:
        self._dsn = dsn
        self._db = db
        self._hub = hub
        self._published = published
        self._replayed = replayed
        self._access = access
        self._retry = retry_seconds
        self._keepalive = keepalive_seconds
        self._pending: list[tuple[int, int]] = []
        self._wake = asyncio.Event()
        self._lost = False
        self._conn: Any = None
        self.connections = 0  # how many times it has connected (tests watch reconnects)
        self.connected = asyncio.Event()
        self._hold: ReconnectHold | None = None

    def hold_reconnect(self) -> ReconnectHold:
        """For tests only (nothing else calls it): the next reconnect waits until the
        returned hold is released."""
        self._hold = ReconnectHold()
        return self._hold

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend of the listening connection; None while disconnected."""
        if self._conn is None or self._conn.is_closed():
            return None
        pid: int = self._conn.get_server_pid()
        return pid

    async def run(self) -> None:
        """Listen, deliver and reconnect until cancelled."""
        delay = self._retry
        while True:
            try:
                conn = await self._connect()
            except Exception as error:  # any failure to connect is retried, never fatal
                log.warning("event listener cannot connect (%s); retry in %.1f s", error, delay)
            else:
                delay = self._retry
                try:
                    await self._follow(conn)
                except (ConnectionLost, OSError, asyncpg.PostgresError, TimeoutError) as error:
                    log.warning("event listener lost its connection (%s); reconnecting", error)
                except Exception:
                    log.exception("event listener failed; reconnecting")
                finally:
                    self.connected.clear()
                    self._access.deaf()
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_SECONDS)
            if self._hold is not None:
                hold, self._hold = self._hold, None
                await hold.wait()

    async def _connect(self) -> Any:
        conn = await asyncpg.connect(
            self._dsn, server_settings={"application_name": APPLICATION_NAME}, timeout=10
        )
        self._conn, self._lost = conn, False
        try:
            conn.add_termination_listener(self._on_termination)
            await conn.add_listener(EVENTS_CHANNEL, self._on_notification)
            await conn.add_listener(ACCESS_CHANNEL, self._on_access_change)
        except BaseException:
            conn.terminate()
            raise
        self.connections += 1
        self._access.listening()
        return conn

    async def _follow(self, conn: Any) -> None:
        # Listening first, then replaying: whatever commits meanwhile is both notified
        # and replayed, and the hub keeps only the first copy.
        await self._replay()
        self.connected.set()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._keepalive)
            except TimeoutError:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self._keepalive)
                continue
            self._wake.clear()
            if self._lost:
                raise ConnectionLost("the server closed the listening connection")
            pending, self._pending = self._pending, []
            await self._deliver(pending)

    async def _replay(self) -> None:
        """Everything each followed tenant may have missed while nobody listened; then
        fresh pipeline figures for every tenant whose figures are followed."""
        self._hub.forget_unfollowed()
        for tenant_id in self._hub.followed_tenants():
            after_id = self._hub.seen_through(tenant_id)
            if after_id is None:
                # Followed for its figures only, nothing published yet: know where its
                # journal stands, so the next replay starts from there.
                self._hub.note(tenant_id, await self._newest(tenant_id))
                continue
            while after_id is not None:
                with acting_for(tenant_id):
                    async with self._db.read() as conn:
                        rows = await event_rows.after(
                            conn, tenant_id=tenant_id, after_id=after_id, limit=_REPLAY_PAGE
                        )
                self._publish(tenant_id, rows)
                after_id = rows[-1].id if len(rows) == _REPLAY_PAGE else None
        self._replayed()

    async def _newest(self, tenant_id: int) -> int:
        with acting_for(tenant_id):
            async with self._db.read() as conn:
                return await event_rows.newest_id(conn, tenant_id=tenant_id)

    async def _deliver(self, notified: Sequence[tuple[int, int]]) -> None:
        """One query per followed tenant for this batch; the rest are only noted."""
        wanted: defaultdict[int, list[int]] = defaultdict(list)
        for tenant_id, event_id in notified:
            seen = self._hub.seen_through(tenant_id) or 0
            if not self._hub.has_subscribers(tenant_id):
                self._hub.note(tenant_id, event_id)
            elif event_id > seen:
                wanted[tenant_id].append(event_id)
        fetched = await asyncio.gather(*(self._fetch(t, ids) for t, ids in wanted.items()))
        for tenant_id, rows in zip(wanted, fetched, strict=True):
            self._publish(tenant_id, rows)

    async def _fetch(self, tenant_id: int, event_ids: list[int]) -> list[EventRecord]:
        with acting_for(tenant_id):
            async with self._db.read() as conn:
                return await event_rows.get_many(conn, tenant_id=tenant_id, event_ids=event_ids)

    def _publish(self, tenant_id: int, rows: list[EventRecord]) -> None:
        fresh = self._hub.publish(tenant_id, rows)
        if fresh:
            self._published(tenant_id, fresh)

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        tenant, _, event = payload.partition(":")
        if not (tenant.isdigit() and event.isdigit()):
            log.warning("ignoring a malformed %s notification: %r", EVENTS_CHANNEL, payload)
            return
        self._pending.append((int(tenant), int(event)))
        self._wake.set()

    def _on_access_change(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if not (payload.isascii() and payload.isdigit()):
            log.warning("ignoring a malformed %s notification: %r", ACCESS_CHANNEL, payload)
            return
        self._access.access_changed(int(payload))

    def _on_termination(self, conn: Any) -> None:
        if conn is self._conn:  # not a late word from a connection already replaced
            self._access.deaf()
            self._lost = True
            self._wake.set()
