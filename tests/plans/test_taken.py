"""Plans are used where they are promised and nowhere else, as seen on the wire.

Both servers talk to PostgreSQL through one wire counter (bench/pg_wire.py). A request
the executor answers without the database (`{ __typename }`) costs only authentication:
the baseline, measured in each test, so a cache of callers may lower it freely. A planned
read costs one statement per root field beyond it, in one round trip; a request the plan
leaves alone costs exactly what the same request costs the server without plans.

Requests are repeated and the cheapest kept: the event listener's keepalive may fall into
one of them, and the first use of a pooled connection names its tenant and prepares its
statements.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bench.pg_wire import PgWireCounter, WireCounts
from domain.access import Role
from domain.global_ids import to_global_id
from resolvers.pagination import encode_cursor
from settings import Settings
from tests.plans.conftest import (
    FIRST_ODD_LEAD,
    PlansDatabase,
    TwinServers,
    client_of,
    key_for,
    send,
    twin_servers,
)

REPEATS = 4
LEAD = "query One($id: ID!) { lead(id: $id) { id name latestAnalysis { score } sale { amount } } }"
LEADS = """query Page($first: Int, $after: String, $last: Int, $before: String) {
  leads(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id stage sale { stage } } } pageInfo { hasNextPage endCursor } } }"""


@dataclass(frozen=True)
class Wire:
    counter: PgWireCounter
    servers: TwinServers
    admin_key: str
    viewer_key: str


@pytest.fixture(scope="module")
async def wire(plans_database: PlansDatabase, settings: Settings) -> AsyncIterator[Wire]:
    viewer = await key_for(
        plans_database.url, plans_database.tenant_id, "viewer@plans.example", Role.VIEWER
    )
    async with (
        PgWireCounter(plans_database.url) as counter,
        twin_servers(settings, counter.url) as servers,
    ):
        assert counter.reliable
        yield Wire(counter, servers, plans_database.dataset.admin_key, viewer)


_LEAD_ID = to_global_id("Lead", FIRST_ODD_LEAD)
_CURSOR = encode_cursor("lead:created_at", datetime(2024, 1, 1, 1, tzinfo=UTC), FIRST_ODD_LEAD)
_SCORE_CURSOR = encode_cursor("lead:score", 0.5, FIRST_ODD_LEAD)

# name: (document, variables, operation name, root fields that run a statement)
TAKEN: dict[str, tuple[str, Any, str | None, int]] = {
    "lead(id:)": (LEAD, {"id": _LEAD_ID}, None, 1),
    "leads": (LEADS, {"first": 5}, None, 1),
    "leads after a cursor": (LEADS, {"first": 5, "after": _CURSOR}, None, 1),
    "leads with a filter and an order": (
        """{ leads(first: 7, filter: {stage: [NEW, LOST], search: "lead"},
          orderBy: {field: SCORE, direction: ASC}) { edges { node { id } } } }""",
        None,
        None,
        1,
    ),
    "two root fields": (
        """query($id: ID!) { lead(id: $id) { id } a: leads(first: 1) { edges { cursor } }
          b: leads(first: 2) { pageInfo { endCursor } } }""",
        {"id": _LEAD_ID},
        None,
        3,
    ),
    "fragments and aliases": (
        """query($id: ID!) { one: lead(id: $id) { ...Bits ... on Lead { who: name } } }
          fragment Bits on Lead { id latestAnalysis { score } }""",
        {"id": _LEAD_ID},
        None,
        1,
    ),
    "the operation a name picks": (
        """query A { leads(first: 1) { edges { cursor } } }
          query B($id: ID!) { lead(id: $id) { id } }
          mutation C { deactivateUser(input: {userId: "x"}) { userErrors { code } } }""",
        {"id": _LEAD_ID},
        "B",
        1,
    ),
    "an ID of another type": (LEAD, {"id": to_global_id("Sale", 1)}, None, 0),
}

# name: (document, variables, operation name); answered by the executor alone.
LEFT_ALONE: dict[str, tuple[str, Any, str | None]] = {
    "last": (LEADS, {"last": 5}, None),
    "before": (LEADS, {"first": 5, "before": _CURSOR}, None),
    "first over 100": (LEADS, {"first": 101}, None),
    "a garbage cursor": (LEADS, {"after": "garbage"}, None),
    "a cursor of another ordering": (LEADS, {"after": _SCORE_CURSOR}, None),
    "an invalid ID": (LEAD, {"id": "nope"}, None),
    "an ID given as a number": (LEAD, {"id": 5}, None),
    "a variable of the wrong type": (LEADS, {"first": "ten"}, None),
    "a missing variable": (LEAD, {}, None),
    "totalCount": ("{ leads(first: 2) { totalCount } }", None, None),
    "a directive": (
        "query($id: ID!) { lead(id: $id) { id name @include(if: true) } }",
        {"id": _LEAD_ID},
        None,
    ),
    "a fragment on an interface": (
        "query($id: ID!) { lead(id: $id) { ... on Node { id } } }",
        {"id": _LEAD_ID},
        None,
    ),
    "an uncovered field": (
        "query($id: ID!) { lead(id: $id) { id stageHistory { toStage } } }",
        {"id": _LEAD_ID},
        None,
    ),
    "__typename at the root": (
        "query($id: ID!) { __typename lead(id: $id) { id } }",
        {"id": _LEAD_ID},
        None,
    ),
    "another root field": (
        "query($id: ID!) { lead(id: $id) { id } pipeline { transferRate } }",
        {"id": _LEAD_ID},
        None,
    ),
    "no operation name among several": (
        "query A { leads { edges { cursor } } } query B { leads { edges { cursor } } }",
        None,
        None,
    ),
}


@dataclass(frozen=True)
class Costs:
    baseline: WireCounts  # `{ __typename }`: authentication only
    planned: WireCounts  # on the server with plans
    executed: WireCounts  # on the server without

    def beyond_authentication(self) -> tuple[WireCounts, WireCounts]:
        return self.planned - self.baseline, self.executed - self.baseline


async def _cost(wire: Wire, client: httpx.AsyncClient, query: str, **options: Any) -> WireCounts:
    """What one request costs on the wire, the cheapest of a few."""
    spent = []
    for _ in range(REPEATS):
        before = wire.counter.snapshot()
        answered = await send(client, query, **options)
        spent.append(wire.counter.snapshot() - before)
        assert answered.status == 200, answered.body
    assert wire.counter.reliable
    return min(spent, key=lambda counts: (counts.statements, counts.round_trips))


async def _costs(wire: Wire, key: str, query: str, **options: Any) -> Costs:
    async with (
        client_of(wire.servers.planned, key) as planned,
        client_of(wire.servers.executed, key) as executed,
    ):
        return Costs(
            baseline=await _cost(wire, planned, "{ __typename }"),
            planned=await _cost(wire, planned, query, **options),
            executed=await _cost(wire, executed, query, **options),
        )


@pytest.mark.parametrize("name", list(TAKEN))
async def test_a_planned_read_costs_one_statement_per_root_field(wire: Wire, name: str) -> None:
    query, variables, operation, statements = TAKEN[name]

    costs = await _costs(wire, wire.admin_key, query, variables=variables, operation_name=operation)

    planned, executed = costs.beyond_authentication()
    assert planned == WireCounts(round_trips=statements, statements=statements)
    assert executed.statements > planned.statements or statements == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_viewer_gets_planned_reads(wire: Wire, method: str) -> None:
    query, variables, _, _ = TAKEN["lead(id:)"]

    costs = await _costs(wire, wire.viewer_key, query, variables=variables, method=method)

    assert costs.beyond_authentication()[0] == WireCounts(round_trips=1, statements=1)


@pytest.mark.parametrize("name", list(LEFT_ALONE))
async def test_the_executor_answers_what_a_plan_does_not_cover(wire: Wire, name: str) -> None:
    query, variables, operation = LEFT_ALONE[name]

    costs = await _costs(wire, wire.admin_key, query, variables=variables, operation_name=operation)

    assert costs.planned == costs.executed
