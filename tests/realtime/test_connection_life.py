"""Keep-alive and shutdown: dead clients are let go, live ones are told goodbye properly."""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvicorn

from server import create_app
from settings import Settings
from tests.api.operations import create_lead
from tests.conftest import GraphQLClient, LiveServer
from tests.realtime.conftest import Client
from web.graceful_server import GracefulServer

LEAD_STAGES = "subscription { leadStageChanged { toStage } }"
StartServer = Callable[..., Awaitable[LiveServer]]
ConnectTo = Callable[..., Awaitable[Client]]


async def test_a_client_that_never_pongs_is_closed_and_holds_up_nobody(
    realtime_server: StartServer, connect_to: ConnectTo, admin_key: str, gql: GraphQLClient
) -> None:
    # given a server that pings every 0.2 s and waits 0.3 s for the pong; a subscriber
    # that never answers (nor reads), and one that does
    server = await realtime_server(ping_interval_seconds=0.2, pong_timeout_seconds=0.3)
    silent = await connect_to(server, key=admin_key, answer_pings=False)
    await silent.subscribe(LEAD_STAGES)
    lively = await connect_to(server, key=admin_key)
    subscription = await lively.subscribe(LEAD_STAGES)
    # when time passes (several ping intervals) and a lead is created
    await asyncio.sleep(1.0)
    await create_lead(gql)
    # then the lively subscriber still gets it, having answered pings all along
    assert (await lively.next_data(subscription))["leadStageChanged"] == {"toStage": "NEW"}
    assert lively.pings >= 2
    # and the silent one was pinged, then closed for not answering
    closed = await silent.closed()
    assert silent.pings >= 1
    assert (closed.code, closed.reason) == (4499, "Keep-alive timeout: no pong")


async def test_stopping_the_server_completes_each_subscription_then_closes_1001(
    settings: Settings, migrated: str, connect_to: ConnectTo, admin_key: str
) -> None:
    # given `python -m server`'s kind of server, and a client with two subscriptions
    app = create_app(settings, migrated)
    server = GracefulServer(
        uvicorn.Config(app, log_level="warning", lifespan="on"),
        before_shutdown=app.state.subscriptions.shutdown,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()
    client = await connect_to(_At(f"http://{host}:{port}"), key=admin_key)
    first = await client.subscribe(LEAD_STAGES)
    second = await client.subscribe(LEAD_STAGES)
    # when the server stops
    server.should_exit = True
    # then the client hears `complete` for each subscription, then a 1001 close
    goodbyes = [await client.receive() for _ in range(2)]
    closed = await client.closed()
    await serving
    assert sorted(goodbyes, key=lambda m: m["id"]) == [
        {"id": first, "type": "complete"},
        {"id": second, "type": "complete"},
    ]
    assert (closed.code, closed.reason) == (1001, "Server shutting down")


@dataclass(frozen=True)
class _At:
    url: str
