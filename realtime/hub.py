"""The in-memory fan-out of one server process: each tenant's subscribers and their mailboxes.

Publishing never waits: every subscription has a bounded mailbox, and a subscriber that
falls `capacity` deliveries behind is ended (`Overflowed`, naming the last event it got)
instead of holding the others up or growing without bound. Pipeline figures are a
snapshot, so their mailbox keeps only the newest one.

Each tenant's events are published at most once, in id order: the hub remembers the
newest event id it has seen per tenant (`seen_through`) and drops anything at or below it,
so a replay after a listener reconnect can overlap live notifications harmlessly.

Each mailbox also has a floor: where it began, raised to the client's `after` when it
resumes. Nothing at or below it is delivered, so a client that resumes after an event
this process has not published yet (its listener lagging or reconnecting) never gets
that event, or the ones before it, a second time.
"""

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from db.records import EventRecord
from services.pipeline import PipelineStats

T = TypeVar("T")

EventFilter = Callable[[EventRecord], bool]


class Overflowed(Exception):
    """The subscriber fell too far behind. `last_event_id`: the last event it received,
    or, before any, where it began (its `after`, or the tenant's newest event when it
    subscribed); None only when it received nothing and the tenant had no events then,
    so everything it missed is in the journal from the oldest kept event."""

    def __init__(self, last_event_id: int | None) -> None:
        super().__init__(f"subscription overflowed after event {last_event_id}")
        self.last_event_id = last_event_id


@dataclass(eq=False, slots=True)
class Batch:
    """What one round of fan-out shares among a tenant's subscribers (e.g. their
    DataLoaders), so N subscribers of one event cost the database one query, not N."""

    tenant_id: int
    _memo: dict[Hashable, Any] = field(default_factory=dict)

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = make()
        value: T = self._memo[key]
        return value


@dataclass(eq=False, slots=True)
class Delivery:
    """One event (or one set of pipeline figures) on its way to a tenant's subscribers.

    The same object reaches every subscriber, so `shared` can hold what they may reuse
    (an executed result for one query text, say)."""

    root: EventRecord | PipelineStats
    batch: Batch
    _memo: dict[Hashable, Any] = field(default_factory=dict)

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = make()
        value: T = self._memo[key]
        return value


class Mailbox:
    """One subscription's queue; iterate it for its deliveries. `aclose()` unsubscribes."""

    def __init__(
        self,
        hub: "Hub",
        tenant_id: int,
        *,
        accepts: EventFilter | None,
        capacity: int,
        began: int,
    ) -> None:
        self.tenant_id = tenant_id
        self.accepts = accepts  # None: the pipeline figures mailbox
        # The tenant's newest event this process had published when the mailbox opened
        # (0: none): later events come live, earlier ones only from a `resume` backlog.
        self.began = began
        self.last_event_id: int | None = began or None
        self._floor = began  # nothing at or below it is delivered
        self._hub = hub
        self._capacity = capacity
        self._items: deque[Delivery] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._overflowed = False
        self._ended = False

    def offer(self, delivery: Delivery) -> None:
        """Never waits: a full mailbox is ended as overflowed (figures: replaced)."""
        if self._ended or self._overflowed or self._below_floor(delivery):
            return
        if self.accepts is None:
            self._items.clear()
        elif len(self._items) >= self._capacity:
            self._overflowed = True
            self._items.clear()  # nothing more is sent; the client catches up instead
            self._wake()
            return
        self._items.append(delivery)
        self._wake()

    def resume(self, after_id: int, backlog: list[EventRecord]) -> None:
        """Deliver `backlog` (the accepted events after `after_id` up to where this
        mailbox began, oldest first) before anything published since; nothing at or
        below `after_id` (the client has it) is delivered, now or later."""
        self.last_event_id = after_id
        self._floor = max(self._floor, after_id)
        kept = [item for item in self._items if not self._below_floor(item)]
        batch = Batch(self.tenant_id)
        backlog = [event for event in backlog if event.id > after_id]
        self._items = deque([*(Delivery(event, batch) for event in backlog), *kept])
        if len(self._items) > self._capacity:
            self._overflowed = True
            self._items.clear()
        self._wake()

    def end(self) -> None:
        """No more deliveries: iteration stops once the queued ones are taken."""
        self._ended = True
        self._wake()

    def __aiter__(self) -> "Mailbox":
        return self

    async def __anext__(self) -> Delivery:
        while True:
            if self._overflowed:
                raise Overflowed(self.last_event_id)
            if self._items:
                delivery = self._items.popleft()
                if isinstance(delivery.root, EventRecord):
                    self.last_event_id = delivery.root.id
                return delivery
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        self._ended = True
        self._items.clear()
        self._hub.close(self)

    def _below_floor(self, delivery: Delivery) -> bool:
        root = delivery.root
        return isinstance(root, EventRecord) and root.id <= self._floor

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Hub:
    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._events: defaultdict[int, set[Mailbox]] = defaultdict(set)
        self._figures: defaultdict[int, set[Mailbox]] = defaultdict(set)
        self._seen: dict[int, int] = {}

    def open_events(self, tenant_id: int, accepts: EventFilter) -> Mailbox:
        """A mailbox for the tenant's events that `accepts`, from the next one published."""
        mailbox = Mailbox(
            self,
            tenant_id,
            accepts=accepts,
            capacity=self._queue_size,
            began=self._seen.get(tenant_id, 0),
        )
        self._events[tenant_id].add(mailbox)
        return mailbox

    def open_figures(self, tenant_id: int) -> Mailbox:
        mailbox = Mailbox(self, tenant_id, accepts=None, capacity=1, began=0)
        self._figures[tenant_id].add(mailbox)
        return mailbox

    def close(self, mailbox: Mailbox) -> None:
        for table in (self._events, self._figures):
            subscribers = table.get(mailbox.tenant_id)
            if subscribers is not None:
                subscribers.discard(mailbox)
                if not subscribers:
                    del table[mailbox.tenant_id]

    def end_all(self) -> None:
        """Every subscription ends (the process is stopping)."""
        for table in (self._events, self._figures):
            for subscribers in table.values():
                for mailbox in subscribers:
                    mailbox.end()

    def has_subscribers(self, tenant_id: int) -> bool:
        return tenant_id in self._events or tenant_id in self._figures

    def has_figure_subscribers(self, tenant_id: int) -> bool:
        return tenant_id in self._figures

    def figure_tenants(self) -> list[int]:
        """Tenants someone follows the pipeline figures of."""
        return sorted(self._figures)

    def followed_tenants(self) -> list[int]:
        """Tenants someone subscribes to, events or figures."""
        return sorted(set(self._events) | set(self._figures))

    def seen_through(self, tenant_id: int) -> int | None:
        """The newest event id published (or noted) for the tenant; None: none known."""
        return self._seen.get(tenant_id)

    def note(self, tenant_id: int, event_id: int) -> None:
        """An event nobody here follows: remember only that it exists."""
        self._seen[tenant_id] = max(event_id, self._seen.get(tenant_id, 0))

    def forget_unfollowed(self) -> None:
        """Drop what is known about tenants nobody follows (after notifications may have
        been missed): their first new subscriber asks the journal again."""
        for tenant_id in [t for t in self._seen if not self.has_subscribers(t)]:
            del self._seen[tenant_id]

    def publish(self, tenant_id: int, events: Iterable[EventRecord]) -> list[EventRecord]:
        """Hand new events (oldest first) to the tenant's subscribers; the new ones."""
        newest = self._seen.get(tenant_id, 0)
        fresh = sorted((e for e in events if e.id > newest), key=lambda event: event.id)
        if not fresh:
            return []
        batch = Batch(tenant_id)
        subscribers = list(self._events.get(tenant_id, ()))
        for event in fresh:
            delivery = Delivery(event, batch)
            for mailbox in subscribers:
                if mailbox.accepts is not None and mailbox.accepts(event):
                    mailbox.offer(delivery)
        self._seen[tenant_id] = fresh[-1].id
        return fresh

    def publish_figures(self, tenant_id: int, stats: PipelineStats) -> None:
        delivery = Delivery(stats, Batch(tenant_id))
        for mailbox in list(self._figures.get(tenant_id, ())):
            mailbox.offer(delivery)
