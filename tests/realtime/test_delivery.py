"""Delivery across processes, across a lost listener connection, and to many subscribers."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, text

from db.database import Database, create_engine
from db.models import DEFAULT_TENANT_ID
from domain.enums import LeadSource
from realtime.listener import APPLICATION_NAME, EventListener
from services import leads
from services.scope import Scope
from settings import PROJECT_ROOT
from tests.api.operations import change_stage, create_lead, ok
from tests.conftest import TENANT_STATEMENTS, GraphQLClient, LiveServer, StatementCounter
from tests.realtime.conftest import Client, Json

LEAD_STAGES = """
subscription { leadStageChanged { eventId fromStage toStage lead { id name } } }
"""
StartServer = Callable[..., Awaitable[LiveServer]]
ConnectTo = Callable[..., Awaitable[Client]]


def listener_of(server: LiveServer) -> EventListener:
    listener: EventListener = server.app.state.services.live.listener
    return listener


async def terminate_listener(database_url: str, listener: EventListener) -> None:
    """End the listener's PostgreSQL backend as the owner, as an operator (or a failover)
    would; its process sees the connection drop."""
    pid = listener.backend_pid
    assert pid is not None
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid = :pid AND application_name = :name"
                ),
                {"pid": pid, "name": APPLICATION_NAME},
            )
    finally:
        await engine.dispose()
    assert ended is True


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
    # given a server whose listener waits a second before reconnecting, and a subscriber
    server = await realtime_server(listener_retry_seconds=1.0)
    listener = listener_of(server)
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Before")
    assert stage_change(await client.next_data(subscription)) == ("Before", None, "NEW")
    connected = listener.connections
    # when its listening connection is terminated, and changes are made while it is down
    await terminate_listener(migrated, listener)
    during = await create_lead(gql, name="During")
    ok(await change_stage(gql, during["id"], "CONTACTED"))
    await create_lead(gql, name="Also during")
    assert listener.connections == connected, "the listener reconnected before the changes"
    # then, once it is back, the subscriber receives all of them, in order
    received = [stage_change(await client.next_data(subscription)) for _ in range(3)]
    assert received == [
        ("During", None, "NEW"),
        ("During", "NEW", "CONTACTED"),
        ("Also during", None, "NEW"),
    ]
    assert listener.connections == connected + 1
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
    server = await realtime_server(queue_size=2, listener_retry_seconds=1.0)
    listener = listener_of(server)
    client = await connect_to(server, key=admin_key)
    subscription = await client.subscribe(LEAD_STAGES)
    await create_lead(gql, name="Seen")
    seen = (await client.next_data(subscription))["leadStageChanged"]["eventId"]
    # when four events reach it at once (replayed together after a listener outage)
    await terminate_listener(migrated, listener)
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


async def test_one_event_for_many_subscribers_costs_the_database_as_much_as_for_one(
    realtime_server: StartServer, connect_to: ConnectTo, admin_key: str, migrated: str
) -> None:
    # given a server, and a way to count the statements it sends while one new lead is
    # delivered to some subscribers (two different selections, both loading the lead)
    server = await realtime_server()
    owner = Database(create_engine(migrated, pool_size=1))
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def second_process(migrated: str, tmp_path: Path) -> Iterator[Remote]:
    """`python -m server` on the test database, in a process of its own."""
    port = _free_port()
    own = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "OPENAI_"))}
    env = {
        **own,
        "DATABASE_URL": migrated,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CRM_LOG_LEVEL": "WARNING",
        "CRM_RATE_LIMIT_PER_MINUTE": "0",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _until_healthy(url, process, log)
        yield Remote(url)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise AssertionError("the second server did not become healthy within 60 s")


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
