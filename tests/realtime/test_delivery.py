"""Delivery across processes, across a lost listener connection, and to many subscribers."""

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event

from db.database import open_database
from db.models import DEFAULT_TENANT_ID
from domain.enums import LeadSource
from services import leads
from services.scope import Scope
from tests.api.operations import change_stage, create_lead, ok
from tests.conftest import TENANT_STATEMENTS, GraphQLClient, LiveServer, StatementCounter
from tests.processes import server_process
from tests.realtime.conftest import Client, Json, listener_down

LEAD_STAGES = """
subscription { leadStageChanged { eventId fromStage toStage lead { id name } } }
"""
StartServer = Callable[..., Awaitable[LiveServer]]
ConnectTo = Callable[..., Awaitable[Client]]


def stage_change(data: Json) -> tuple[str, str | None, str]:
    change = data["leadStageChanged"]
    return change["lead"]["name"], change["fromStage"], change["toStage"]


async def test_no_event_is_lost_or_repeated_across_a_listener_reconnect(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
    migrated: str,
) -> None:
    # given a server and a subscriber that received one change
    server = await realtime_server()
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Before")
    assert stage_change(await client.next_data(subscription)) == ("Before", None, "NEW")
    # when changes are made while its listening connection is down (terminated, and
    # held from reconnecting until they are committed)
    async with listener_down(server, migrated):
        during = await create_lead(gql, name="During")
        ok(await change_stage(gql, during["id"], "CONTACTED"))
        await create_lead(gql, name="Also during")
    # then, once it is back, the subscriber receives all of them, in order
    received = [stage_change(await client.next_data(subscription)) for _ in range(3)]
    assert received == [
        ("During", None, "NEW"),
        ("During", "NEW", "CONTACTED"),
        ("Also during", None, "NEW"),
    ]
    # and nothing twice: the next delivery is the next change
    await create_lead(gql, name="After")
    assert stage_change(await client.next_data(subscription)) == ("After", None, "NEW")


CATCH_UP = "query($after: ID) { events(after: $after) { edges { node { type } } } }"


async def test_a_subscriber_that_falls_behind_is_told_where_to_catch_up(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
    migrated: str,
) -> None:
    # given a server that queues two events per subscription, and a subscriber that has
    # received one event
    server = await realtime_server(queue_size=2)
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Seen")
    seen = (await client.next_data(subscription))["leadStageChanged"]["eventId"]
    # when four events reach it at once (replayed together after a listener outage)
    async with listener_down(server, migrated):
        for n in range(4):
            await create_lead(gql, name=f"Missed {n}")
    # then the subscription ends with an error naming the last event it received
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error"), message
    [error] = message["payload"]
    assert error["extensions"] == {"code": "SUBSCRIPTION_OVERFLOW", "lastEventId": seen}
    assert "events(after: lastEventId)" in error["message"]
    # and catching up from there returns exactly what it missed
    missed = await gql.data(CATCH_UP, {"after": seen})
    assert [e["node"]["type"] for e in missed["events"]["edges"]] == ["LEAD_CREATED"] * 4
    # and the connection still serves a new subscription
    again = await client.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Again")
    assert stage_change(await client.next_data(again)) == ("Again", None, "NEW")


RESUMED = """
subscription($after: ID) { leadStageChanged(after: $after) { eventId lead { name } } }
"""


def resumed_name(data: Json) -> str:
    name: str = data["leadStageChanged"]["lead"]["name"]
    return name


async def test_resuming_ahead_of_a_lagging_listener_delivers_only_what_follows_after(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
    migrated: str,
) -> None:
    # given a server following the tenant (a subscriber got one change), whose listener
    # is down while three leads are created: it has not published them
    server = await realtime_server()
    watcher = await connect_to(server, key=admin_key)
    watching = await watcher.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Before")
    assert stage_change(await watcher.next_data(watching))[0] == "Before"
    async with listener_down(server, migrated):
        await create_lead(gql, name="First")
        await create_lead(gql, name="Second")
        seen = (await gql.data("{ latestEventId }"))["latestEventId"]
        await create_lead(gql, name="Third")
        # when a client that saw up to Second (from another process, say) resumes there
        client = await connect_to(server, key=admin_key)
        resumed = await client.subscribe(RESUMED, {"after": seen})
    # and the listener, back, replays the three, then another lead is created
    await create_lead(gql, name="After")
    # then it gets Third, then After: nothing it had, nothing twice, in order
    received = [resumed_name(await client.next_data(resumed)) for _ in range(2)]
    assert received == ["Third", "After"]


async def test_an_overflow_before_any_delivery_without_earlier_events_reads_from_the_oldest(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
    migrated: str,
) -> None:
    # given a tenant without events, and a subscriber with room for two on a server
    assert (await gql.data("{ latestEventId }"))["latestEventId"] is None
    server = await realtime_server(queue_size=2)
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    # when four events reach it at once, before it received any
    async with listener_down(server, migrated):
        for n in range(4):
            await create_lead(gql, name=f"Missed {n}")
    # then it is ended with no event to name, and told to read from the oldest kept one
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error"), message
    [error] = message["payload"]
    assert error["extensions"] == {"code": "SUBSCRIPTION_OVERFLOW", "lastEventId": None}
    assert "lastEventId null: from the oldest kept event" in error["message"]
    # and reading so, then subscribing after the last event read, misses nothing
    missed = await gql.data("{ events { edges { node { type } } pageInfo { endCursor } } }")
    assert [e["node"]["type"] for e in missed["events"]["edges"]] == ["LEAD_CREATED"] * 4
    again = await client.subscribe(RESUMED, {"after": missed["events"]["pageInfo"]["endCursor"]})
    await create_lead(gql, name="Next")
    assert resumed_name(await client.next_data(again)) == "Next"


PIPELINE = "subscription { pipelineUpdated { leadsByStage { stage count } } }"


def new_leads(data: Json) -> int:
    counts = {s["stage"]: s["count"] for s in data["pipelineUpdated"]["leadsByStage"]}
    return int(counts["NEW"])


async def test_pipeline_figures_follow_changes_made_while_the_listener_was_down(
    realtime_server: StartServer,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
    migrated: str,
) -> None:
    # given a subscriber of the pipeline figures only, which got its first snapshot
    server = await realtime_server(pipeline_interval_seconds=0.1)
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(PIPELINE)
    assert new_leads(await client.next_data(subscription)) == 0
    # when a lead is created while the listener is down
    async with listener_down(server, migrated):
        await create_lead(gql)
    # then, once it is back, fresh figures show it
    assert new_leads(await client.next_data(subscription)) == 1


async def test_one_event_for_many_subscribers_costs_the_database_as_much_as_for_one(
    realtime_server: StartServer, connect_to: ConnectTo, admin_key: str, migrated: str
) -> None:
    # given a server, and a way to count the statements it sends while one new lead is
    # delivered to some subscribers (two different selections, both loading the lead)
    server = await realtime_server()
    owner = open_database(migrated, pool_size=1)
    scope = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests")
    selections = [
        "subscription { leadStageChanged { lead { name company } } }",
        "subscription { leadStageChanged { toStage lead { id stage version } } }",
    ]

    async def create_and_deliver(
        clients: list[Client], subscriptions: list[tuple[Client, str]]
    ) -> None:
        await leads.create_lead(
            db=owner, scope=scope, new=leads.NewLead(name="Shared", source=LeadSource.EVENT)
        )
        for client in clients:
            mine = {id for holder, id in subscriptions if holder is client}
            assert {(await client.receive())["id"] for _ in mine} == mine

    async def statements_to_deliver(subscribers: int) -> int:
        clients = [await connect_to(server, key=admin_key) for _ in range(2)]
        subscriptions = [
            (client, await client.subscribe(selections[n % 2]))
            for n in range(subscribers)
            for client in [clients[n % 2]]
        ]
        # a first lead reaches everyone: every subscription is running, connections pooled
        await create_and_deliver(clients, subscriptions)
        counter = StatementCounter()
        event.listen(server.engine.sync_engine, "before_cursor_execute", counter)
        try:
            await create_and_deliver(clients, subscriptions)
        finally:
            event.remove(server.engine.sync_engine, "before_cursor_execute", counter)
        for client in clients:
            await client.aclose()
        return counter.count

    try:
        # when one lead is delivered to one subscriber, then to forty
        alone = await statements_to_deliver(1)
        together = await statements_to_deliver(40)
    finally:
        await owner.dispose()
    # then forty cost what one costs: the journal read and the lead read, each after
    # naming the tenant
    assert together == alone == 2 * (1 + TENANT_STATEMENTS)


# --------------------------------------------------------------------- another process


@dataclass(frozen=True)
class Remote:
    url: str


@pytest.fixture
def second_process(migrated: str, tmp_path: Path) -> Iterator[Remote]:
    """`python -m server` on the test database, in a process of its own."""
    with server_process(migrated, tmp_path / "server.log", CRM_RATE_LIMIT_PER_MINUTE="0") as url:
        yield Remote(url)


async def test_a_change_made_on_one_process_reaches_a_subscriber_of_another(
    second_process: Remote,
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
) -> None:
    # given a subscriber connected to a second server process
    client = await connect_to(second_process, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    # when a lead is created and moved through this process
    lead = await create_lead(gql, name="Elsewhere")
    ok(await change_stage(gql, lead["id"], "CONTACTED"))
    # then the other process delivers both changes
    assert stage_change(await client.next_data(subscription)) == ("Elsewhere", None, "NEW")
    assert stage_change(await client.next_data(subscription)) == ("Elsewhere", "NEW", "CONTACTED")
