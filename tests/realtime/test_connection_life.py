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
from tests.realtime.conftest import WAIT, Client
from web.graceful_server import GracefulServer

LEAD_STAGES = "subscription { leadStageChanged { toStage } }"
StartServer = Callable[..., Awaitable[LiveServer]]
ConnectTo = Callable[..., Awaitable[Client]]


async def test_a_client_that_never_pongs_is_closed_and_holds_up_nobody(
    realtime_server: StartServer, connect_to: ConnectTo, admin_key: str, gql: GraphQLClient
) -> None:
    # given a server that pings every 0.2 s and waits 1 s for the pong; a subscriber
    # that never answers, and one that does
    server = await realtime_server(ping_interval_seconds=0.2, pong_timeout_seconds=1.0)
    lively = await connect_to(server, key=admin_key)
    subscription = await lively.subscribe(LEAD_STAGES)
    silent = await connect_to(server, key=admin_key, answer_pings=False)
    await silent.subscribe(LEAD_STAGES)
    # when a lead is created while both are subscribed
    await create_lead(gql)
    # then the lively subscriber gets it
    assert (await lively.next_data(subscription))["leadStageChanged"] == {"toStage": "NEW"}
    # and the silent one is closed for not answering the server's ping
    closed = await silent.closed()
    assert silent.pings >= 1
    assert (closed.code, closed.reason) == (4499, "Keep-alive timeout: no pong")
    # while the lively one, pinged again (so its pong was heard), still gets changes
    await lively.pinged(lively.pings + 1)
    await create_lead(gql)
    assert (await lively.next_data(subscription))["leadStageChanged"] == {"toStage": "NEW"}


async def test_stopping_the_server_closes_1001_without_completing_the_subscriptions(
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
    async with asyncio.timeout(WAIT):
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.01)
    host, port = sock.getsockname()
    client = await connect_to(_At(f"http://{host}:{port}"), key=admin_key)
    for _ in range(2):
        await client.subscribe(LEAD_STAGES)
    # when the server stops
    server.should_exit = True
    # then the client's socket is closed with 1001 and nothing before it: a `complete`
    # would tell graphql-ws clients those streams ended for good, and they would not
    # subscribe again after reconnecting
    closed = await client.closed_at_once()
    await serving
    assert (closed.code, closed.reason) == (1001, "Server shutting down")


@dataclass(frozen=True)
class _At:
    url: str
