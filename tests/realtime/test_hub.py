"""The hub's fan-out rules, in memory: once each, per tenant, bounded."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from db.records import EventRecord
from realtime.hub import Delivery, Hub, Mailbox, Overflowed
from services.pipeline import PipelineStats

TENANT, OTHER = 1, 2


def lead_created(event_id: int, tenant_id: int = TENANT, lead_id: int = 7) -> EventRecord:
    return EventRecord(
        event_id,
        tenant_id,
        "lead.created",
        lead_id,
        None,
        None,
        {"fromStage": None, "toStage": "new"},
        datetime.now(UTC),
    )


def everything(_event: EventRecord) -> bool:
    return True


async def taken(mailbox: Mailbox, count: int) -> list[int]:
    """The ids of the next `count` deliveries (which must be there already)."""
    deliveries: list[Delivery] = [await asyncio.wait_for(anext(mailbox), 1) for _ in range(count)]
    return [d.root.id for d in deliveries if isinstance(d.root, EventRecord)]


async def test_each_event_is_delivered_once_in_id_order() -> None:
    # given a subscriber
    hub = Hub(queue_size=10)
    mailbox = hub.open_events(TENANT, everything)
    # when overlapping runs of events are published (a replay meeting live notifications)
    hub.publish(TENANT, [lead_created(1), lead_created(2)])
    hub.publish(TENANT, [lead_created(3), lead_created(2), lead_created(1)])
    hub.publish(TENANT, [lead_created(4)])
    # then each arrives once, oldest first
    assert await taken(mailbox, 4) == [1, 2, 3, 4]
    assert hub.seen_through(TENANT) == 4


async def test_a_tenant_receives_only_its_own_events() -> None:
    hub = Hub(queue_size=10)
    mine = hub.open_events(TENANT, everything)
    hub.publish(OTHER, [lead_created(5, tenant_id=OTHER)])
    hub.publish(TENANT, [lead_created(6)])
    assert await taken(mine, 1) == [6]


async def test_one_delivery_object_reaches_every_subscriber_with_shared_state() -> None:
    # given two subscribers of a tenant
    hub = Hub(queue_size=10)
    first, second = hub.open_events(TENANT, everything), hub.open_events(TENANT, everything)
    # when an event is published
    hub.publish(TENANT, [lead_created(1)])
    one, two = await anext(first), await anext(second)
    # then both get the same delivery, so what one computes the other reuses
    assert one is two
    assert one.shared("result", lambda: object()) is two.shared("result", lambda: object())


async def test_a_full_mailbox_ends_the_subscription_naming_the_last_delivered_event() -> None:
    # given a subscriber with room for two that has taken event 1
    hub = Hub(queue_size=2)
    mailbox = hub.open_events(TENANT, everything)
    hub.publish(TENANT, [lead_created(1)])
    assert await taken(mailbox, 1) == [1]
    # when three more arrive before it takes any
    hub.publish(TENANT, [lead_created(2), lead_created(3), lead_created(4)])
    # then it is ended at once, naming event 1, and nothing more is queued for it
    with pytest.raises(Overflowed) as overflow:
        await anext(mailbox)
    assert overflow.value.last_event_id == 1
    hub.publish(TENANT, [lead_created(5)])
    with pytest.raises(Overflowed):
        await anext(mailbox)


async def test_an_overflow_before_any_delivery_names_where_the_subscription_began() -> None:
    hub = Hub(queue_size=1)
    hub.note(TENANT, 41)  # the journal stood at 41 when it subscribed
    mailbox = hub.open_events(TENANT, everything)
    hub.publish(TENANT, [lead_created(42), lead_created(43)])
    with pytest.raises(Overflowed) as overflow:
        await anext(mailbox)
    assert overflow.value.last_event_id == 41


def figures(new_leads: int) -> PipelineStats:
    return PipelineStats([], [], None, float(new_leads), Decimal(0))


async def test_pipeline_figures_never_overflow_the_newest_replaces_older() -> None:
    # given a figures subscriber that has not taken anything
    hub = Hub(queue_size=1)
    mailbox = hub.open_figures(TENANT)
    # when three sets of figures are published
    for n in range(3):
        hub.publish_figures(TENANT, figures(n))
    # then it gets only the newest
    delivery = await anext(mailbox)
    assert isinstance(delivery.root, PipelineStats)
    assert delivery.root.average_latest_score == 2.0


async def test_a_closed_mailbox_is_forgotten_and_ending_stops_iteration() -> None:
    hub = Hub(queue_size=5)
    closed = hub.open_events(TENANT, everything)
    ended = hub.open_events(OTHER, everything)
    await closed.aclose()
    assert hub.followed_tenants() == [OTHER]
    hub.end_all()
    with pytest.raises(StopAsyncIteration):
        await anext(ended)


async def test_tenants_nobody_follows_are_forgotten_after_a_gap() -> None:
    # given a followed tenant and one only noted
    hub = Hub(queue_size=5)
    hub.open_events(TENANT, everything)
    hub.publish(TENANT, [lead_created(3)])
    hub.note(OTHER, 9)
    # when notifications may have been missed
    hub.forget_unfollowed()
    # then the followed tenant keeps its position; the other must be read again
    assert (hub.seen_through(TENANT), hub.seen_through(OTHER)) == (3, None)


async def test_a_resumed_mailbox_delivers_its_backlog_before_what_was_published_since() -> None:
    # given a mailbox opened when the journal stood at 5, that got event 6 live
    hub = Hub(queue_size=5)
    hub.note(TENANT, 5)
    mailbox = hub.open_events(TENANT, everything)
    hub.publish(TENANT, [lead_created(6)])
    # when it resumes after event 2 with the backlog 3..5
    mailbox.resume(2, [lead_created(3), lead_created(4), lead_created(5)])
    # then everything comes in order
    assert await taken(mailbox, 4) == [3, 4, 5, 6]


async def test_a_backlog_larger_than_the_queue_overflows_at_the_resume_point() -> None:
    hub = Hub(queue_size=2)
    mailbox = hub.open_events(TENANT, everything)
    mailbox.resume(10, [lead_created(11), lead_created(12), lead_created(13)])
    with pytest.raises(Overflowed) as overflow:
        await anext(mailbox)
    assert overflow.value.last_event_id == 10


async def test_a_client_resuming_ahead_of_this_process_gets_only_what_follows_its_after() -> None:
    # given a mailbox opened when this process had published up to event 5, though the
    # journal already holds 6 to 9 (its listener is behind)
    hub = Hub(queue_size=10)
    hub.note(TENANT, 5)
    mailbox = hub.open_events(TENANT, everything)
    # when the client resumes after event 8 (nothing to read: the process is not there
    # yet), and the listener then publishes 6 to 9
    mailbox.resume(8, [])
    hub.publish(TENANT, [lead_created(n) for n in range(6, 10)])
    # then only 9 comes: the client had everything up to 8
    assert await taken(mailbox, 1) == [9]
    hub.publish(TENANT, [lead_created(10)])
    assert await taken(mailbox, 1) == [10]


async def test_what_was_queued_before_the_resume_at_or_below_its_after_is_dropped() -> None:
    # given a mailbox opened at 5 that got 6 to 9 live while its backlog was being read
    hub = Hub(queue_size=10)
    hub.note(TENANT, 5)
    mailbox = hub.open_events(TENANT, everything)
    hub.publish(TENANT, [lead_created(n) for n in range(6, 10)])
    # when it resumes after 8
    mailbox.resume(8, [])
    # then 9 is the first delivery
    assert await taken(mailbox, 1) == [9]


async def test_an_overflow_before_any_delivery_after_a_resume_names_the_resume_point() -> None:
    hub = Hub(queue_size=1)
    hub.note(TENANT, 5)
    mailbox = hub.open_events(TENANT, everything)
    mailbox.resume(8, [])
    hub.publish(TENANT, [lead_created(n) for n in range(6, 12)])
    with pytest.raises(Overflowed) as overflow:
        await anext(mailbox)
    assert overflow.value.last_event_id == 8


async def test_an_overflow_of_a_tenant_without_events_names_none_read_from_the_oldest() -> None:
    # given a subscriber of a tenant that had no events when it subscribed
    hub = Hub(queue_size=1)
    hub.note(TENANT, 0)
    mailbox = hub.open_events(TENANT, everything)
    # when it overflows before its first delivery
    hub.publish(TENANT, [lead_created(1), lead_created(2)])
    # then there is no event to name: everything it missed is the journal from its start
    with pytest.raises(Overflowed) as overflow:
        await anext(mailbox)
    assert overflow.value.last_event_id is None
