"""A graphql-transport-ws client over a real WebSocket, and servers with their own settings."""

import asyncio
import contextlib
import dataclasses
import itertools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import orjson
import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from db.database import create_engine
from realtime.listener import APPLICATION_NAME, EventListener
from settings import JWTSettings, RealtimeSettings, Settings
from tests.conftest import LiveServer, start_server

Json = dict[str, Any]
PROTOCOL = "graphql-transport-ws"
WAIT = 15.0  # generous: two noisy cores


class Closed(Exception):
    """The server closed the socket."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class Client:
    """One WebSocket speaking graphql-transport-ws. Like graphql-ws clients, it reads all
    the time: server pings are answered (unless told not to) as they arrive, and every
    other message waits in order for `receive`."""

    def __init__(self, ws: ClientConnection, *, answer_pings: bool = True) -> None:
        self.ws = ws
        self.answer_pings = answer_pings
        self.pings = 0
        self._pinged = asyncio.Event()
        self._ids = itertools.count(1)
        self._inbox: asyncio.Queue[Json | Closed] = asyncio.Queue()
        self._early: deque[Json] = deque()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message: Json = orjson.loads(raw)
                if message.get("type") != "ping":
                    self._inbox.put_nowait(message)
                    continue
                self.pings += 1
                self._pinged.set()
                if self.answer_pings:
                    await self.send({"type": "pong"})
        except ConnectionClosed:
            pass
        rcvd = self.ws.protocol.close_rcvd
        self._inbox.put_nowait(Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else ""))

    async def aclose(self) -> None:
        await self.ws.close()
        self._reader.cancel()

    async def pinged(self, times: int, wait: float = WAIT) -> None:
        """Wait until the server has pinged this many times in all."""
        async with asyncio.timeout(wait):
            while self.pings < times:
                self._pinged.clear()
                await self._pinged.wait()

    async def send(self, message: Json) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def init(self, key: str | None, *, field: str = "Authorization") -> Json:
        payload = {} if key is None else {field: f"Bearer {key}"}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self,
        query: str,
        variables: Json | None = None,
        *,
        id: str | None = None,
        confirm: bool = True,
    ) -> str:
        """Send a `subscribe`; with `confirm`, return once the server has handled it."""
        operation_id = id or f"op{next(self._ids)}"
        payload: Json = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})
        if confirm:
            await self.round_trip()
        return operation_id

    async def round_trip(self) -> None:
        """A ping answered: the server has handled everything sent before it (so a
        subscription is receiving, or its error is on the way). What arrived meanwhile
        stays to be received, in order."""
        await self.send({"type": "ping", "payload": {"round": "trip"}})
        arrived: list[Json] = []
        while (message := await self.receive()) != {"type": "pong", "payload": {"round": "trip"}}:
            arrived.append(message)
        self._early.extendleft(reversed(arrived))

    async def receive(self, wait: float = WAIT) -> Json:
        """The next message that is not a server ping; Closed once the socket is."""
        if self._early:
            return self._early.popleft()
        item = await asyncio.wait_for(self._inbox.get(), wait)
        if isinstance(item, Closed):
            self._inbox.put_nowait(item)  # closed stays closed
            raise item
        return item

    async def next_data(self, operation_id: str, wait: float = WAIT) -> Json:
        """The data of the next message, which must be a `next` for this operation."""
        message = await self.receive(wait)
        assert (message.get("id"), message["type"]) == (operation_id, "next"), message
        assert "errors" not in message["payload"], message["payload"]
        data: Json = message["payload"]["data"]
        return data

    async def closed_at_once(self, wait: float = WAIT) -> Closed:
        """The server's close, which must come before any other message."""
        try:
            message = await self.receive(wait)
        except Closed as closed:
            return closed
        raise AssertionError(f"expected the socket to be closed, got {message}")

    async def closed(self, wait: float = WAIT) -> Closed:
        """Wait for the server to close the socket; what it said."""
        try:
            while True:
                await self.receive(wait)
        except Closed as closed:
            return closed


Connect = Callable[..., Awaitable[Client]]


class Served(Protocol):
    """A running server: the in-process LiveServer, or another process."""

    url: str


def ws_url(server: Served) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


@pytest.fixture
async def connect_to() -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """`await connect_to(server, key=..., protocols=..., answer_pings=...)`: a client,
    after `connection_init` and its ack when a key is given; all closed at the end."""
    clients: list[Client] = []

    async def open_client(
        server: Served,
        *,
        key: str | None = None,
        protocols: list[str] | None = None,
        answer_pings: bool = True,
    ) -> Client:
        offered = [PROTOCOL] if protocols is None else protocols
        ws = await connect(
            ws_url(server),
            subprotocols=[Subprotocol(name) for name in offered] or None,
            proxy=None,
            ping_interval=None,
        )
        client = Client(ws, answer_pings=answer_pings)
        clients.append(client)
        if key is not None:
            ack = await client.init(key)
            assert ack == {"type": "connection_ack"}, ack
        return client

    yield open_client
    for client in clients:
        await client.aclose()


@pytest.fixture
async def connect_ws(
    connect_to: Callable[..., Awaitable[Client]], live_server: LiveServer, admin_key: str
) -> Connect:
    """`await connect_ws()`: a client of the shared live server, acknowledged as the tests'
    admin (or `key=...`; `key=None` sends no `connection_init`)."""
    missing = object()

    async def open_client(key: Any = missing, **options: Any) -> Client:
        return await connect_to(live_server, key=admin_key if key is missing else key, **options)

    return open_client


@pytest.fixture
async def realtime_server(
    settings: Settings, migrated: str
) -> AsyncIterator[Callable[..., Awaitable[LiveServer]]]:
    """`await realtime_server(queue_size=2, ...)`: an app of its own on the test database,
    with these realtime settings (and `jwt=JWTSettings(...)` if given); stopped at the end."""
    servers: list[LiveServer] = []

    async def start(*, jwt: JWTSettings | None = None, **realtime: Any) -> LiveServer:
        changed = dataclasses.replace(
            settings, realtime=RealtimeSettings(**realtime), jwt=jwt or settings.jwt
        )
        server = await start_server(changed, migrated)
        servers.append(server)
        await asyncio.wait_for(listener_of(server).connected.wait(), WAIT)
        return server

    yield start
    for server in servers:
        await server.stop()


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


@contextlib.asynccontextmanager
async def listener_down(server: LiveServer, database_url: str) -> AsyncIterator[EventListener]:
    """Inside: the server's listener has lost its connection and is held from reconnecting,
    so whatever commits meanwhile reaches it only by its replay. On leaving: it is let
    reconnect, and has replayed, before the block's code goes on."""
    listener = listener_of(server)
    connections = listener.connections
    hold = listener.hold_reconnect()
    await terminate_listener(database_url, listener)
    await asyncio.wait_for(hold.reached.wait(), WAIT)
    assert not listener.connected.is_set()
    try:
        yield listener
    finally:
        hold.release()
    await asyncio.wait_for(listener.connected.wait(), WAIT)
    assert listener.connections == connections + 1
