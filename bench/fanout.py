"""Fan-out of live updates: one event to N subscribers, over real graphql-transport-ws.

    make bench-fanout        # or: .venv/bin/python -m bench.fanout --subscribers 1000 5000

A `python -m server` process of its own serves a fresh database. For each N, this process
opens N WebSocket clients (one `leadStageChanged` subscription each), then measures:

- **latency**: a lead is created over HTTP, ROUNDS times; for each client, the time from
  just before the mutation was sent until that lead's event arrived. So it includes the
  write and commit, NOTIFY, the listener, the GraphQL execution, the socket and this
  client's own event loop. p50, p99 and max over all deliveries, and how many never
  arrived (must be 0).
- **the floor**, side by side: the same N clients on bench/raw_broadcast.py (a bare
  Starlette WebSocket broadcast on the same uvicorn stack: no protocol, auth, database or
  GraphQL), one message per round sent from just before the HTTP request. The ratio
  service/floor is what everything above the transport costs.
- **memory**: the server's resident memory before and after the N clients subscribed,
  divided by N.
- **throughput**: a burst of events committed at once (one SQL transaction, as the
  owner; BURST_MESSAGES messages in all, so fewer events for more subscribers), and how
  long until every client has all of them: events per second the process published, and
  messages per second it wrote. Messages still missing after WAIT_SECONDS are counted.

Clients and servers share the machine's cores, so the latencies are upper bounds.
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import websockets
from sqlalchemy import text

from bench.service import Floor, Service, fresh_database, running_floor, running_service
from db.database import create_engine
from db.models import DEFAULT_TENANT_ID

SUBSCRIPTION = "subscription { leadStageChanged { eventId toStage lead { id } } }"
CREATE_LEAD = 'mutation { createLead(input: {name: "Bench", source: WEBSITE}) { lead { id } } }'
ROUNDS = 5
BURST_MESSAGES = 200_000  # a burst is this many messages in all, at most MAX_BURST events
MAX_BURST = 200
OPEN_AT_ONCE = 100
WAIT_SECONDS = 60.0
PROTOCOL = websockets.Subprotocol("graphql-transport-ws")

Key = Callable[[dict[str, Any]], str | None]


@dataclass
class Client:
    """One WebSocket client: when each keyed message arrived."""

    socket: websockets.ClientConnection
    key: Key
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None

    def start(self) -> "Client":
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for raw in self.socket:
            message = orjson.loads(raw)
            if message.get("type") == "ping":
                await self.socket.send('{"type":"pong"}')
                continue
            key = self.key(message)
            if key is not None:
                self.arrivals.setdefault(key, []).append(time.perf_counter())

    def count(self, key: str) -> int:
        return len(self.arrivals.get(key, ()))


def _lead_of_next(message: dict[str, Any]) -> str | None:
    if message.get("type") != "next":
        return None
    lead_id: str = message["payload"]["data"]["leadStageChanged"]["lead"]["id"]
    return lead_id


def _round_of(message: dict[str, Any]) -> str | None:
    round_id: str = message["round"]
    return round_id


async def subscriber(service: Service) -> Client:
    socket = await websockets.connect(
        service.ws_url, subprotocols=[PROTOCOL], ping_interval=None, max_queue=None
    )
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {service.key}"}}
    await socket.send(orjson.dumps(init).decode())
    ack = orjson.loads(await socket.recv())
    if ack["type"] != "connection_ack":
        raise RuntimeError(f"connection_init refused: {ack}")
    request = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    await socket.send(orjson.dumps(request).decode())
    return Client(socket, _lead_of_next).start()


async def floor_client(floor_url: str) -> Client:
    socket = await websockets.connect(
        floor_url.replace("http://", "ws://") + "/ws", ping_interval=None, max_queue=None
    )
    return Client(socket, _round_of).start()


async def open_clients(count: int, connect: Callable[[], Any]) -> list[Client]:
    opened: list[Client] = []
    while len(opened) < count:
        batch = min(OPEN_AT_ONCE, count - len(opened))
        opened += await asyncio.gather(*(connect() for _ in range(batch)))
    return opened


async def close_all(clients: Sequence[Client]) -> None:
    for client in clients:
        if client.reader is not None:
            client.reader.cancel()
    await asyncio.gather(*(c.socket.close() for c in clients), return_exceptions=True)


async def until_all_have(clients: Sequence[Client], key: str, count: int) -> int:
    """Wait until every client has `count` messages of `key`; how many are still missing
    when WAIT_SECONDS run out (0: none)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if all(c.count(key) >= count for c in clients):
            return 0
        await asyncio.sleep(0.005)
    return sum(max(count - c.count(key), 0) for c in clients)


@dataclass
class Latencies:
    samples_ms: list[float] = field(default_factory=list)
    missing: int = 0

    def add_round(self, clients: Sequence[Client], key: str, started: float) -> None:
        for client in clients:
            arrived = client.arrivals.get(key)
            if arrived:
                self.samples_ms.append((arrived[0] - started) * 1000)
            else:
                self.missing += 1

    def percentile(self, share: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else 0.0


async def create_lead(http: httpx.AsyncClient) -> str:
    response = await http.post("/graphql", json={"query": CREATE_LEAD})
    lead_id: str = response.json()["data"]["createLead"]["lead"]["id"]
    return lead_id


@dataclass
class Figures:
    subscribers: int
    service: Latencies
    floor: Latencies
    bytes_per_subscription: float
    floor_bytes_per_connection: float
    events_per_second: float
    messages_per_second: float
    burst_missing: int
    server_busy: float  # the server's CPU time during the burst, per second of it

    def row(self) -> str:
        s, f = self.service, self.floor
        return (
            f"| {self.subscribers:,} | {s.p50:.0f} / {s.percentile(0.99):.0f} / "
            f"{s.percentile(1.0):.0f} ms | {s.missing} / {self.burst_missing} "
            f"| {f.p50:.0f} / {f.percentile(0.99):.0f}"
            f" ms | {s.p50 / max(f.p50, 0.001):.1f}x / "
            f"{s.percentile(0.99) / max(f.percentile(0.99), 0.001):.1f}x "
            f"| {self.bytes_per_subscription / 1024:.0f} KiB "
            f"| {self.floor_bytes_per_connection / 1024:.0f} KiB "
            f"| {self.events_per_second:,.0f} | {self.messages_per_second:,.0f} "
            f"| {self.server_busy:.0%} |"
        )


HEADER = (
    "| subscribers | service p50 / p99 / max | missing (rounds / burst) | floor p50 / p99 "
    "| ratio p50 / p99 "
    "| memory per subscription | floor memory per connection "
    "| events/s published | messages/s written | server CPU in the burst |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


async def measure_service(service: Service, http: httpx.AsyncClient, count: int) -> Figures:
    before = service.rss_bytes()
    clients = await open_clients(count, lambda: subscriber(service))
    try:
        # Warm-up: a subscription is live once it has delivered one event.
        await until_all_have(clients, await create_lead(http), 1)
        memory = (service.rss_bytes() - before) / count
        latencies = Latencies()
        for _ in range(ROUNDS):
            started = time.perf_counter()
            lead_id = await create_lead(http)
            await until_all_have(clients, lead_id, 1)
            latencies.add_round(clients, lead_id, started)
            await asyncio.sleep(0.2)
        events, messages, burst_missing, busy = await burst(service, http, clients)
    finally:
        await close_all(clients)
    return Figures(
        count, latencies, Latencies(), memory, 0.0, events, messages, burst_missing, busy
    )


async def measure_floor(floor: Floor, figure: Figures) -> None:
    """The floor's latencies and memory for as many clients as `figure` had."""
    before = floor.rss_bytes()
    clients = await open_clients(figure.subscribers, lambda: floor_client(floor.url))
    figure.floor_bytes_per_connection = (floor.rss_bytes() - before) / figure.subscribers
    latencies = figure.floor
    try:
        async with httpx.AsyncClient(base_url=floor.url, trust_env=False, timeout=60) as http:
            for number in range(ROUNDS + 1):
                key = f"round-{number}"
                started = time.perf_counter()
                await http.post("/publish", content=orjson.dumps({"round": key}))
                await until_all_have(clients, key, 1)
                if number > 0:  # the first round warms up
                    latencies.add_round(clients, key, started)
                await asyncio.sleep(0.2)
    finally:
        await close_all(clients)


def burst_size(subscribers: int) -> int:
    return max(1, min(MAX_BURST, BURST_MESSAGES // subscribers))


async def burst(
    service: Service, http: httpx.AsyncClient, clients: Sequence[Client]
) -> tuple[float, float, int, float]:
    """Events of one lead committed in one transaction: the rate they reach everyone
    (events/s, messages/s), how many messages never arrived, and the share of one core
    the server used meanwhile (near 100%: the server is the limit, not the clients)."""
    size = burst_size(len(clients))
    lead_id = await create_lead(http)
    await until_all_have(clients, lead_id, 1)
    owner = create_engine(service.database_url, pool_size=1)
    try:
        async with owner.begin() as conn:
            newest = await conn.execute(text("SELECT max(id) FROM leads"))
            await conn.execute(
                text(
                    "INSERT INTO events (tenant_id, type, lead_id, data) "
                    "SELECT :tenant, 'lead.stage_changed', :lead, "
                    """'{"fromStage": "new", "toStage": "new"}' """
                    "FROM generate_series(1, :count)"
                ),
                {"tenant": DEFAULT_TENANT_ID, "lead": newest.scalar_one(), "count": size},
            )
            started, cpu_before = time.perf_counter(), service.cpu_seconds()
        missing = await until_all_have(clients, lead_id, size + 1)
        elapsed = time.perf_counter() - started
        busy = (service.cpu_seconds() - cpu_before) / elapsed
    finally:
        await owner.dispose()
    return size / elapsed, size * len(clients) / elapsed, missing, busy


async def run_service(service: Service, counts: Sequence[int]) -> list[Figures]:
    async with httpx.AsyncClient(
        base_url=service.url,
        headers={"Authorization": f"Bearer {service.key}"},
        trust_env=False,
        timeout=60,
    ) as http:
        return [await measure_service(service, http, count) for count in counts]


async def run_floor(floor: Floor, figures: Sequence[Figures]) -> None:
    for figure in figures:
        await measure_floor(floor, figure)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 5000])
    counts = parser.parse_args().subscribers
    with (
        fresh_database("crm_bench_fanout") as database_url,
        running_service(
            database_url,
            CRM_DEMO_DATA="false",
            CRM_WS_QUEUE_SIZE=str(2 * MAX_BURST),
        ) as service,
    ):
        figures = asyncio.run(run_service(service, counts))
    with running_floor() as floor:
        asyncio.run(run_floor(floor, figures))
    print(HEADER)
    for figure in figures:
        print(figure.row())


if __name__ == "__main__":
    main()
