"""Statements and round trips to PostgreSQL per request, counted on the wire
(bench/pg_wire.py) in a phase of its own, never timed: a second instance of each
contender talks to PostgreSQL through the counter, and each operation is sent PROBES
times, one request after another, after one warm-up pass.

What the counter sees with no request at all over as long a wait is taken off; the probe
server's listener is told to check its connection only hourly, so that is about nothing.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

import httpx

from bench.contenders import OUR_SETTINGS, running_read_floor
from bench.dataset import Dataset
from bench.operations import CHANGE_STAGE, CREATE_LEAD, RECORD_MESSAGE, ReadOperation
from bench.pg_wire import PgWireCounter, running_wire_counter
from bench.service import running_service

PROBES = 20
SETTLE_SECONDS = 0.3  # work a request leaves behind (after its answer) lands in its window


@dataclass(frozen=True)
class PerRequest:
    round_trips: float
    statements: float


@dataclass(frozen=True)
class Probed:
    ours: dict[str, PerRequest]  # by operation; "mutations" is the mean of the three
    floor: dict[str, PerRequest]
    mutations: dict[str, PerRequest]  # by mutation: createLead, changeLeadStage, ...


def probe(dataset: Dataset, operations: Sequence[ReadOperation], writes_key: str | None) -> Probed:
    """Counts for every read operation on both contenders, and for each mutation when
    `writes_key` (an admin of the writes tenant) is given."""
    with running_wire_counter(dataset.database_url) as counter:
        with _probe_server(counter, dataset.admin_key) as ours:
            reads = {
                op.name: _count_repeatable(counter, _graphql_calls(ours, op)) for op in operations
            }
            mutations = _probe_mutations(counter, ours, writes_key) if writes_key else {}
        with _probe_floor(counter, dataset.tenant_id) as floor:
            floors = {
                op.name: _count_repeatable(counter, _floor_calls(floor, op)) for op in operations
            }
    if mutations:
        reads["mutations"] = _mean(list(mutations.values()))
    return Probed(ours=reads, floor=floors, mutations=mutations)


@contextmanager
def _probe_server(counter: PgWireCounter, key: str) -> Iterator[httpx.Client]:
    """Our server on the counter, and a client with `key`."""
    settings = {**OUR_SETTINGS, "CRM_WS_LISTENER_KEEPALIVE_SECONDS": "3600"}
    with running_service(counter.url, **settings) as service:
        headers = _bearer(key)
        with httpx.Client(
            base_url=service.url, headers=headers, timeout=60, trust_env=False
        ) as client:
            yield client


@contextmanager
def _probe_floor(counter: PgWireCounter, tenant_id: int) -> Iterator[httpx.Client]:
    with (
        running_read_floor(counter.url, tenant_id) as floor,
        httpx.Client(base_url=floor.url, timeout=60, trust_env=False) as client,
    ):
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


Call = Callable[[], Any]


def _count(counter: PgWireCounter, warm_up: Sequence[Call], counted: Sequence[Call]) -> PerRequest:
    """`warm_up` calls, then the `counted` ones; less the background of as long a wait."""
    for call in warm_up:
        call()
    before, started = counter.snapshot(), time.monotonic()
    for call in counted:
        call()
    time.sleep(SETTLE_SECONDS)
    spent, elapsed = counter.snapshot() - before, time.monotonic() - started
    idle = counter.snapshot()
    time.sleep(elapsed)
    net = spent - (counter.snapshot() - idle)
    return PerRequest(net.round_trips / len(counted), net.statements / len(counted))


def _count_repeatable(counter: PgWireCounter, calls: Sequence[Call]) -> PerRequest:
    """Calls that may be made twice: the warm-up pass is the same calls."""
    return _count(counter, calls, calls)


def _graphql_calls(client: httpx.Client, operation: ReadOperation) -> list[Call]:
    requests = islice(cycle(operation.requests), PROBES)
    return [_poster(client, r.query, r.variables, {}) for r in requests]


def _floor_calls(client: httpx.Client, operation: ReadOperation) -> list[Call]:
    requests = islice(cycle(operation.requests), PROBES)
    return [_getter(client, request.floor_path) for request in requests]


def _poster(
    client: httpx.Client, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> Call:
    def post() -> Any:
        body = {"query": query, "variables": variables}
        response = client.post("/graphql", json=body, headers=headers)
        if response.status_code != 200 or not _succeeded(response.json()):
            raise RuntimeError(f"a probe's request failed: {response.text[:500]}")
        return response.json()["data"]

    return post


def _succeeded(body: dict[str, Any]) -> bool:
    """No errors, and no userErrors in any payload."""
    if "errors" in body or not body.get("data"):
        return False
    payloads = [value for value in body["data"].values() if isinstance(value, dict)]
    return not any(payload.get("userErrors") for payload in payloads)


def _getter(client: httpx.Client, path: str) -> Call:
    def get() -> Any:
        response = client.get(path)
        response.raise_for_status()
        return response.json()

    return get


def _probe_mutations(
    counter: PgWireCounter, client: httpx.Client, writes_key: str
) -> dict[str, PerRequest]:
    """Each mutation PROBES times after PROBES to warm up. A stage change needs a lead
    still NEW, so each one has a lead of its own: the warm-up's on the first PROBES leads
    made, the counted ones on the next; messages go to the same leads, as in the mix."""
    made: list[str] = []
    headers = _bearer(writes_key)

    def create(number: int) -> Call:
        post = _poster(client, CREATE_LEAD, {"name": f"Probe {number}"}, headers)
        return lambda: made.append(post()["createLead"]["lead"]["id"])

    calls = [create(number) for number in range(2 * PROBES)]
    counts = {"createLead": _count(counter, calls[:PROBES], calls[PROBES:])}
    for kind, document in (
        ("changeLeadStage", CHANGE_STAGE),
        ("recordLeadMessage", RECORD_MESSAGE),
    ):
        on_each = [_poster(client, document, {"leadId": lead}, headers) for lead in made]
        counts[kind] = _count(counter, on_each[:PROBES], on_each[PROBES:])
    return counts


def _mean(counts: list[PerRequest]) -> PerRequest:
    return PerRequest(
        round_trips=sum(c.round_trips for c in counts) / len(counts),
        statements=sum(c.statements for c in counts) / len(counts),
    )
