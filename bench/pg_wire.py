"""Counts what a process asks of PostgreSQL, on the wire: round trips and statements.

    async with PgWireCounter(database_url) as counter:
        ...  # point the process under test at counter.url
        before = counter.snapshot()
        ...  # one request
        spent = counter.snapshot() - before

A TCP proxy on 127.0.0.1 in front of the server forwards every byte unchanged both ways and
reads only the client's side of each connection, so it sees everything a process sends,
whichever driver sent it (SQLAlchemy, raw asyncpg, libpq), BEGIN and COMMIT included:

- a round trip is a simple-protocol Query ('Q'), an extended-protocol Sync ('S') or a
  Flush ('H'): the messages after which a client waits for the server. asyncpg prepares
  a statement it has not cached with Parse, Describe, Flush and waits for the answer
  before it sends Bind, Execute, Sync: two round trips, and both are counted;
- a statement is a Query or an Execute ('E').

A Query holding several statements ("SELECT 1; SELECT 2") is one of each. Connecting and
authenticating count nothing. When a connection turns to TLS or GSSAPI encryption its
bytes can no longer be read: it is forwarded blindly and the counter is no longer
`reliable`.

`running_wire_counter` runs one in a thread of its own, for synchronous programs.
"""

import asyncio
import contextlib
import enum
import logging
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

log = logging.getLogger(__name__)

_READ_SIZE = 256 * 1024
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102
_PROTOCOL_MAJOR_3 = 3
# PostgreSQL refuses longer startup packets (MAX_STARTUP_PACKET_LENGTH); anything longer
# is not a startup packet at all (a TLS ClientHello sent directly, say).
_MAX_STARTUP_LENGTH = 10_000


@dataclass(frozen=True)
class WireCounts:
    round_trips: int
    statements: int

    def __sub__(self, other: "WireCounts") -> "WireCounts":
        return WireCounts(self.round_trips - other.round_trips, self.statements - other.statements)


class _Tally:
    """The running totals of all connections (written by the proxy's loop only)."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.statements = 0
        self.reliable = True

    def count(self, message_type: bytes) -> None:
        if message_type in (b"Q", b"S", b"H"):
            self.round_trips += 1
        if message_type in (b"Q", b"E"):
            self.statements += 1

    def lose_sight(self, why: str) -> None:
        if self.reliable:
            log.warning("the wire counter no longer sees every message: %s", why)
        self.reliable = False


class _Phase(enum.Enum):
    STARTUP = enum.auto()  # untyped packets: StartupMessage, SSLRequest, ...
    NEGOTIATING = enum.auto()  # the server's one-byte answer to SSL/GSSENCRequest is due
    MESSAGES = enum.auto()  # typed messages: one type byte, then a length
    BLIND = enum.auto()  # encrypted, cancelled or unreadable: nothing more to read


class FrontendStream:
    """The client's side of one connection, read message by message as bytes arrive in
    pieces of any size. Each complete message is reported by its type byte (the startup
    packet by b""); when the rest can no longer be read, `lost_sight` is told why."""

    def __init__(
        self, on_message: Callable[[bytes], None], lost_sight: Callable[[str], None]
    ) -> None:
        self._on_message = on_message
        self._lost_sight = lost_sight
        self._phase = _Phase.STARTUP
        self._header = bytearray()
        self._body_left = 0
        self._message_type = b""

    def client_sent(self, data: bytes) -> None:
        position = 0
        while position < len(data) and self._phase not in (_Phase.BLIND, _Phase.NEGOTIATING):
            if self._body_left:
                skipped = min(self._body_left, len(data) - position)
                self._body_left -= skipped
                position += skipped
                if not self._body_left:
                    self._on_message(self._message_type)
                continue
            wanted = self._header_size() - len(self._header)
            self._header += data[position : position + wanted]
            position += wanted
            if len(self._header) == self._header_size():
                self._read_header()
        if position < len(data) and self._phase is _Phase.NEGOTIATING:
            self._go_blind("the client spoke before the server answered its SSL/GSS request")

    def server_sent(self, data: bytes) -> None:
        if self._phase is not _Phase.NEGOTIATING:
            return
        if data[:1] == b"N":  # no encryption: the client now sends its startup packet
            self._phase = _Phase.STARTUP
        else:
            self._go_blind(f"the server answered {data[:1]!r} to an SSL/GSS request")

    def _header_size(self) -> int:
        return 8 if self._phase is _Phase.STARTUP else 5

    def _read_header(self) -> None:
        header = bytes(self._header)
        self._header.clear()
        if self._phase is _Phase.STARTUP:
            self._read_startup(*struct.unpack("!ii", header))
        else:
            self._read_message_header(header[:1], struct.unpack("!i", header[1:])[0])

    def _read_startup(self, length: int, code: int) -> None:
        if not 8 <= length <= _MAX_STARTUP_LENGTH:
            self._go_blind(f"a startup packet of {length} bytes")
        elif code in (_SSL_REQUEST, _GSSENC_REQUEST):
            self._phase = _Phase.NEGOTIATING
        elif code == _CANCEL_REQUEST:
            self._phase = _Phase.BLIND  # the server closes the connection after it
        elif code >> 16 == _PROTOCOL_MAJOR_3:
            self._phase = _Phase.MESSAGES
            self._skip_body(b"", length - 8)
        else:
            self._go_blind(f"an unknown startup code {code}")

    def _read_message_header(self, message_type: bytes, length: int) -> None:
        if length < 4:
            self._go_blind(f"a message {message_type!r} of length {length}")
        else:
            self._skip_body(message_type, length - 4)

    def _skip_body(self, message_type: bytes, size: int) -> None:
        self._message_type = message_type
        self._body_left = size
        if not size:
            self._on_message(message_type)

    def _go_blind(self, why: str) -> None:
        self._phase = _Phase.BLIND
        self._lost_sight(why)


@dataclass(frozen=True)
class ServerAddress:
    """Where the real server listens: a UNIX socket path, or a TCP host and port."""

    socket_path: str | None
    host: str
    port: int

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.socket_path is not None:
            return await asyncio.open_unix_connection(self.socket_path)
        return await asyncio.open_connection(self.host, self.port)


@dataclass(frozen=True)
class _SplitUrl:
    """A postgresql:// URL (any driver prefix) cut where the proxy needs to change it."""

    scheme: str
    userinfo: str  # as written, "user:password@" or ""
    host: str
    port: int
    rest: str  # "/database"
    parameters: list[str]  # the query's "key=value" parameters as written, in order


def _split_url(database_url: str) -> _SplitUrl:
    scheme, separator, after = database_url.partition("://")
    if not separator or not scheme.startswith("postgres"):
        raise ValueError("the database URL must start with postgresql:// (or a driver form)")
    location, _, query = after.partition("?")
    authority, slash, database = location.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    host, port = _host_and_port(hostport)
    parameters = [parameter for parameter in query.split("&") if parameter]
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if unquote(key) == "host":
            host = unquote(value)
        elif unquote(key) == "port":
            port = int(unquote(value))
    return _SplitUrl(scheme, userinfo + at, host, port, slash + database, parameters)


def _names_the_server(parameter: str) -> bool:
    return unquote(parameter.partition("=")[0]) in ("host", "port")


def _host_and_port(hostport: str) -> tuple[str, int]:
    if "," in hostport:
        raise ValueError("the wire counter proxies one server; the URL names several")
    if hostport.startswith("["):  # [IPv6]:port
        host, _, port = hostport[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    return unquote(host), int(port or 5432)


def upstream_of(database_url: str) -> ServerAddress:
    """The server a URL names: a directory host means its UNIX socket in that directory."""
    url = _split_url(database_url)
    if url.host.startswith("/"):
        return ServerAddress(f"{url.host}/.s.PGSQL.{url.port}", "", url.port)
    return ServerAddress(None, url.host or "localhost", url.port)


def proxied_url(database_url: str, port: int) -> str:
    """The same URL (driver, login, database, options) naming 127.0.0.1:port instead."""
    url = _split_url(database_url)
    kept = [parameter for parameter in url.parameters if not _names_the_server(parameter)]
    query = "?" + "&".join(kept) if kept else ""
    return f"{url.scheme}://{url.userinfo}127.0.0.1:{port}{url.rest}{query}"


class PgWireCounter:
    """The proxy: listens on a free port of 127.0.0.1 once started, counts until stopped."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._upstream = upstream_of(database_url)
        self._tally = _Tally()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._ends: set[asyncio.StreamWriter] = set()  # both sockets of every open pipe
        self._stopping = False

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._stopping = True
        self._server.close()
        # Dropping the sockets ends each pipe's forwarding by itself (a cancelled handler
        # task would be logged as an error by Python 3.11's asyncio).
        for end in list(self._ends):
            end.transport.abort()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def __aenter__(self) -> "PgWireCounter":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the wire counter is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return proxied_url(self._database_url, port)

    @property
    def reliable(self) -> bool:
        """False once a connection could not be read (TLS, GSSAPI, garbage): counts are low."""
        return self._tally.reliable

    def snapshot(self) -> WireCounts:
        """The totals since start, over all connections."""
        return WireCounts(self._tally.round_trips, self._tally.statements)

    async def _pipe(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        pipe = asyncio.current_task()
        assert pipe is not None
        self._pipes.add(pipe)
        self._ends.add(client_writer)
        try:
            if not self._stopping:  # a connection accepted just as stop() began
                await self._pipe_to_server(client_reader, client_writer)
        finally:
            client_writer.close()
            self._ends.discard(client_writer)
            self._pipes.discard(pipe)

    async def _pipe_to_server(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await self._upstream.connect()
        except OSError as error:
            log.warning("the wire counter cannot reach PostgreSQL: %s", error)
            return
        self._ends.add(server_writer)
        stream = FrontendStream(self._tally.count, self._tally.lose_sight)
        try:
            async with asyncio.TaskGroup() as both_ways:
                both_ways.create_task(_forward(client_reader, server_writer, stream.client_sent))
                both_ways.create_task(_forward(server_reader, client_writer, stream.server_sent))
        finally:
            server_writer.close()
            self._ends.discard(server_writer)


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, inspect: Callable[[bytes], None]
) -> None:
    """Copy one direction until it ends, then close the other end: closing it ends the
    opposite direction too, so a connection never lingers half open."""
    try:
        while data := await reader.read(_READ_SIZE):
            # Inspected before it is written: the answer it may bring is read after.
            inspect(data)
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # one side went away abruptly (reset, broken pipe): the same as its closing
    finally:
        writer.close()


@contextlib.contextmanager
def running_wire_counter(database_url: str) -> Iterator[PgWireCounter]:
    """A started counter whose event loop runs in a daemon thread, for synchronous code;
    its snapshot() may be read from any thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pg-wire-counter", daemon=True)
    thread.start()
    counter = PgWireCounter(database_url)
    try:
        asyncio.run_coroutine_threadsafe(counter.start(), loop).result()
        yield counter
    finally:
        asyncio.run_coroutine_threadsafe(counter.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
