"""The wire counter: every byte passes unchanged, and what a client asks of PostgreSQL is
counted exactly, whichever driver asks (raw asyncpg, SQLAlchemy, libpq), over many
connections at once, across clients that vanish, and from a synchronous program."""

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest
from sqlalchemy import text

from bench.pg_wire import (
    FrontendStream,
    PgWireCounter,
    WireCounts,
    proxied_url,
    running_wire_counter,
    upstream_of,
)
from db.database import create_engine
from worker.runner import libpq_url

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


@pytest.fixture
async def counter(database_url: str) -> AsyncIterator[PgWireCounter]:
    async with PgWireCounter(database_url) as started:
        yield started


async def _connect(counter: PgWireCounter, **server_settings: str) -> asyncpg.Connection:
    return await asyncpg.connect(libpq_url(counter.url), server_settings=server_settings)


def _message(message_type: bytes, body: bytes = b"") -> bytes:
    return message_type + struct.pack("!i", 4 + len(body)) + body


def _startup_packet(**parameters: str) -> bytes:
    pairs = b"".join(f"{key}\0{value}\0".encode() for key, value in parameters.items())
    body = struct.pack("!i", 3 << 16) + pairs + b"\0"
    return struct.pack("!i", 4 + len(body)) + body


# ------------------------------------------------------------------ URLs


def test_a_unix_socket_url_becomes_the_proxys_tcp_address() -> None:
    url = "postgresql://postgres@/crm_test?host=/srv/pg%20data&application_name=bench"

    assert upstream_of(url).socket_path == "/srv/pg data/.s.PGSQL.5432"
    assert proxied_url(url, 6000) == (
        "postgresql://postgres@127.0.0.1:6000/crm_test?application_name=bench"
    )


def test_a_tcp_url_keeps_its_driver_and_login() -> None:
    url = "postgresql+asyncpg://crm:s%40cret@db.example:6543/crm"

    upstream = upstream_of(url)
    assert (upstream.socket_path, upstream.host, upstream.port) == (None, "db.example", 6543)
    assert proxied_url(url, 6000) == "postgresql+asyncpg://crm:s%40cret@127.0.0.1:6000/crm"


def test_a_port_in_the_query_names_the_socket_and_is_dropped() -> None:
    url = "postgres://postgres@/crm?port=5433&host=%2Frun%2Fpostgresql"

    assert upstream_of(url).socket_path == "/run/postgresql/.s.PGSQL.5433"
    assert proxied_url(url, 6000) == "postgres://postgres@127.0.0.1:6000/crm"


# ------------------------------------------------------------------ reading the client's side


CONVERSATION = (
    SSL_REQUEST,
    _startup_packet(user="postgres", database="crm"),
    _message(b"Q", b"SELECT 1\0"),
    _message(b"P", b"\0SELECT 1\0\0\0"),
    _message(b"D", b"S\0"),
    _message(b"H"),
    _message(b"B", b"\0\0" + b"\0" * 6),
    _message(b"E", b"\0\0\0\0\0"),
    _message(b"S"),
    _message(b"X"),
)


def _read(chunks: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Feed the client's chunks, the server refusing SSL after the first one."""
    messages: list[bytes] = []
    lost: list[str] = []
    stream = FrontendStream(messages.append, lost.append)
    stream.client_sent(chunks[0])
    stream.server_sent(b"N")
    for chunk in chunks[1:]:
        stream.client_sent(chunk)
    return messages, lost


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_messages_split_across_reads_or_packed_into_one_are_read_alike(size: int) -> None:
    rest = b"".join(CONVERSATION[1:])
    chunks = [SSL_REQUEST] + [rest[i : i + size] for i in range(0, len(rest), size)]

    messages, lost = _read(chunks)

    assert messages == [b"", b"Q", b"P", b"D", b"H", b"B", b"E", b"S", b"X"]
    assert lost == []


def test_a_message_cut_off_by_a_vanished_client_is_not_reported() -> None:
    query = _message(b"Q", b"SELECT 1\0")

    messages, _ = _read([SSL_REQUEST, CONVERSATION[1] + query[:-1]])

    assert messages == [b""]


def test_a_server_that_accepts_ssl_leaves_the_rest_unread() -> None:
    messages: list[bytes] = []
    lost: list[str] = []
    stream = FrontendStream(messages.append, lost.append)

    stream.client_sent(SSL_REQUEST)
    stream.server_sent(b"S")
    stream.client_sent(_message(b"Q", b"SELECT 1\0"))

    assert messages == []
    assert len(lost) == 1


# ------------------------------------------------------------------ a real PostgreSQL


async def test_asyncpg_prepares_a_new_statement_in_its_own_round_trip(
    counter: PgWireCounter,
) -> None:
    start = counter.snapshot()
    conn = await _connect(counter)
    connected = counter.snapshot()

    first = await conn.fetchval("SELECT 1")
    after_first = counter.snapshot()
    second = await conn.fetchval("SELECT 1")
    after_second = counter.snapshot()
    await conn.close()

    assert (first, second) == (1, 1)
    # Startup and authentication are no round trips by this count.
    assert connected - start == WireCounts(round_trips=0, statements=0)
    # asyncpg does not send Parse/Describe/Sync: it sends Parse/Describe/Flush and waits
    # for the statement's description, then Bind/Execute/Sync. That is two waits for the
    # server (the Flush counts as a round trip) and one statement executed.
    assert after_first - connected == WireCounts(round_trips=2, statements=1)
    # Now in asyncpg's statement cache: Bind/Execute/Sync only.
    assert after_second - after_first == WireCounts(round_trips=1, statements=1)


async def test_a_simple_query_is_one_round_trip_however_many_statements_it_holds(
    counter: PgWireCounter,
) -> None:
    conn = await _connect(counter)
    before = counter.snapshot()

    await conn.execute("SELECT 1; SELECT 2")

    # One Query message: the server runs both and answers once.
    assert counter.snapshot() - before == WireCounts(round_trips=1, statements=1)
    await conn.close()


async def test_begin_and_commit_are_counted_like_any_statement(counter: PgWireCounter) -> None:
    conn = await _connect(counter)
    await conn.execute("CREATE TEMPORARY TABLE wire_test (n int)")
    before = counter.snapshot()

    async with conn.transaction():
        await conn.execute("INSERT INTO wire_test VALUES ($1)", 7)

    spent = counter.snapshot() - before
    assert await conn.fetchval("SELECT sum(n) FROM wire_test") == 7
    # BEGIN (Query) + prepare (Flush) + Bind/Execute/Sync + COMMIT (Query).
    assert spent == WireCounts(round_trips=4, statements=3)
    await conn.close()


async def test_a_sqlalchemy_engine_works_through_the_counter(counter: PgWireCounter) -> None:
    engine = create_engine(counter.url, pool_size=1)
    async with engine.begin() as conn:  # connecting: the dialect's own set-up queries
        await conn.execute(text("SELECT CAST(:n AS int)"), {"n": 1})
    before = counter.snapshot()

    async with engine.begin() as conn:
        answer = (await conn.execute(text("SELECT CAST(:n AS int)"), {"n": 41})).scalar()

    spent = counter.snapshot() - before
    await engine.dispose()
    assert answer == 41
    # BEGIN + the cached statement (Bind/Execute/Sync) + COMMIT.
    assert spent == WireCounts(round_trips=3, statements=3)


async def test_megabytes_pass_intact_both_ways(counter: PgWireCounter) -> None:
    conn = await _connect(counter)
    before = counter.snapshot()
    sent = uuid.uuid4().hex * 100_000  # 3.2 MB up in one Bind message

    received = await conn.fetchval("SELECT repeat('x', 1000000)")
    echoed = await conn.fetchval("SELECT $1::text", sent)

    assert received == "x" * 1_000_000
    assert echoed == sent
    assert counter.snapshot() - before == WireCounts(round_trips=4, statements=2)
    await conn.close()


async def test_many_concurrent_connections_are_kept_apart_and_all_counted(
    counter: PgWireCounter,
) -> None:
    connections, queries = 25, 5
    before = counter.snapshot()

    async def client(number: int) -> list[int]:
        conn = await _connect(counter)
        try:
            return [await conn.fetchval("SELECT $1::int", number) for _ in range(queries)]
        finally:
            await conn.close()

    answers = await asyncio.gather(*(client(number) for number in range(connections)))

    assert answers == [[number] * queries for number in range(connections)]
    # Per connection: one prepare (Flush), then one Bind/Execute/Sync per query.
    assert counter.snapshot() - before == WireCounts(
        round_trips=connections * (1 + queries), statements=connections * queries
    )


async def test_a_client_vanishing_mid_query_closes_its_server_connection(
    counter: PgWireCounter, database_url: str
) -> None:
    name = f"wire-test-{uuid.uuid4().hex[:8]}"
    # Lets the server notice the vanished client while pg_sleep runs.
    vanishing = await _connect(
        counter, application_name=name, client_connection_check_interval="100"
    )
    sleeping = asyncio.create_task(vanishing.execute("SELECT pg_sleep(60)"))
    await _wait_for_backends(database_url, name, count=1)

    vanishing.terminate()  # drops the socket: no Terminate message, a query in flight

    await _wait_for_backends(database_url, name, count=0)
    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await sleeping
    survivor = await _connect(counter)
    before = counter.snapshot()
    assert await survivor.fetchval("SELECT 2") == 2
    assert counter.snapshot() - before == WireCounts(round_trips=2, statements=1)
    assert counter.reliable
    await survivor.close()


async def _wait_for_backends(database_url: str, application_name: str, count: int) -> None:
    """Wait (a few seconds at most) until the server has `count` backends of that name."""
    direct = await asyncpg.connect(libpq_url(database_url))
    try:
        for _ in range(100):
            found = await direct.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                application_name,
            )
            if found == count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{found} backends named {application_name}, not {count}")
    finally:
        await direct.close()


def test_a_synchronous_program_counts_through_a_counter_in_its_own_thread(
    database_url: str,
) -> None:
    with running_wire_counter(database_url) as counter:
        before = counter.snapshot()
        with psycopg.connect(libpq_url(counter.url)) as conn:
            answer = conn.execute("SELECT %s::int", (3,)).fetchone()
        spent = counter.snapshot() - before

    assert answer == (3,)
    # libpq: BEGIN (Query), then Parse/Bind/Describe/Execute/Sync in one go, then COMMIT.
    assert spent == WireCounts(round_trips=3, statements=3)


# ------------------------------------------------------------------ a server that wants TLS


async def test_a_connection_turning_to_tls_is_forwarded_blindly_and_flagged() -> None:
    received = bytearray()

    async def server_accepting_tls(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        received.extend(await reader.readexactly(len(SSL_REQUEST)))
        writer.write(b"S")
        await writer.drain()
        while data := await reader.read(1024):
            received.extend(data)
        writer.close()

    server = await asyncio.start_server(server_accepting_tls, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    looks_like_a_query = _message(b"Q", b"SELECT 1\0")
    async with PgWireCounter(f"postgresql://postgres@127.0.0.1:{port}/crm") as counter:
        reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(counter.url).port)
        writer.write(SSL_REQUEST)
        assert await reader.readexactly(1) == b"S"
        writer.write(looks_like_a_query)
        writer.write_eof()
        assert await reader.read() == b""  # the server has read all and hung up
        writer.close()

    server.close()
    await server.wait_closed()
    assert bytes(received) == SSL_REQUEST + looks_like_a_query
    assert counter.snapshot() == WireCounts(round_trips=0, statements=0)
    assert not counter.reliable


async def test_stopping_closes_the_connections_still_open(database_url: str) -> None:
    name = f"wire-test-{uuid.uuid4().hex[:8]}"
    counter = PgWireCounter(database_url)
    await counter.start()
    conn = await _connect(counter, application_name=name)
    await _wait_for_backends(database_url, name, count=1)

    await counter.stop()

    await _wait_for_backends(database_url, name, count=0)
    assert conn.is_closed()
