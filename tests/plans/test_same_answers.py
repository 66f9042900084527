"""The compiled read path's promise: every request gets exactly the response (status and
body, byte for byte) the executor gives. Two servers share one database, one answering
with plans and one without; each case is sent to both and the answers compared."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from db.database import open_database
from domain.global_ids import to_global_id
from resolvers.pagination import encode_cursor
from settings import Settings
from tests.plans.conftest import PlansDatabase, Twins, difference, twin_servers, twins_for
from tests.plans.corpus import (
    DIRECTIONS,
    EVERY_LEAD_FIELD,
    ORDER_FIELDS,
    PAGE_INFO,
    Name,
    RandomDocuments,
    literal,
)

GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}

T = TypeVar("T")


@pytest.fixture(scope="module")
async def twins(plans_database: PlansDatabase, settings: Settings) -> AsyncIterator[Twins]:
    async with (
        twin_servers(settings, plans_database.url) as servers,
        twins_for(servers, plans_database.dataset.admin_key) as twins,
    ):
        yield twins


@pytest.fixture(scope="module")
async def lead_ids(plans_database: PlansDatabase) -> list[str]:
    """Every lead's global ID, oldest row first."""
    db = open_database(plans_database.url, pool_size=1)
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                text("SELECT id FROM leads WHERE tenant_id = :t ORDER BY id"),
                {"t": plans_database.tenant_id},
            )
            return [to_global_id("Lead", row[0]) for row in rows]
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def odd(plans_database: PlansDatabase) -> list[str]:
    """The hand-made leads (tests/plans/conftest.py): odd characters, cents, a hidden sale."""
    return [to_global_id("Lead", lead_id) for lead_id in plans_database.odd_lead_ids]


# ------------------------------------------------------------------ every field, every lead


async def test_every_lead_by_id_with_every_field(twins: Twins, lead_ids: list[str]) -> None:
    query = "query One($id: ID!) { lead(id: $id) { " + EVERY_LEAD_FIELD + " } }"
    for batch in _batches(lead_ids):
        answers = await asyncio.gather(*(twins.same(query, {"id": i}) for i in batch))
        assert [answer["data"]["lead"]["id"] for answer in answers] == batch


def _batches(items: list[T], size: int = 10) -> list[list[T]]:
    """A few requests at a time: the suite runs alongside others."""
    return [items[start : start + size] for start in range(0, len(items), size)]


async def test_every_lead_listed_with_every_field(
    twins: Twins, plans_database: PlansDatabase
) -> None:
    query = (
        "query All($after: String) { leads(first: 100, after: $after) { __typename "
        "edges { __typename cursor node { " + EVERY_LEAD_FIELD + " } } " + PAGE_INFO + " } }"
    )
    after, seen = None, 0
    while True:
        page = (await twins.same(query, {"after": after}))["data"]["leads"]
        seen += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == plans_database.dataset.leads + len(plans_database.odd_lead_ids)


# ------------------------------------------------------------------ shapes of documents

SHAPES = {
    "aliases everywhere": """{ newest: leads(first: 5) { items: edges { at: cursor
        lead: node { key: id who: name state: stage kind: __typename
          latest: latestAnalysis { value: score kind: __typename }
          deal: sale { money: amount kind: __typename } } }
        page: pageInfo { more: hasNextPage last: endCursor } } }""",
    "one field under two aliases": "{ leads(first: 3) { edges { node { a: id b: id c: name } } } }",
    "a field twice, sub-selections merged": """query($id: ID!) { lead(id: $id) {
        id latestAnalysis { score } name latestAnalysis { id reason score }
        sale { amount } sale { stage __typename } id } }""",
    "edges twice, merged": """{ leads(first: 4) {
        edges { node { id } } pageInfo { endCursor } edges { cursor node { name id } } } }""",
    "pageInfo under two keys": """{ leads(first: 2) {
        pageInfo { hasNextPage } p: pageInfo { endCursor startCursor } } }""",
    "only pageInfo": "{ leads(first: 3) { pageInfo { startCursor endCursor } } }",
    "only __typename": "{ leads { __typename } }",
    "edges without nodes": "{ leads(first: 3) { edges { cursor __typename } } }",
    "named fragments at every level": """query($id: ID!) { leads(first: 5) { ...Page }
        lead(id: $id) { ...LeadBits } }
        fragment Page on LeadConnection { edges { ...Edge } pageInfo { ...Info } }
        fragment Edge on LeadEdge { cursor node { ...LeadBits } }
        fragment Info on PageInfo { hasNextPage endCursor }
        fragment LeadBits on Lead { id name latestAnalysis { ...Score } sale { ...Deal } }
        fragment Score on LeadAnalysis { score recommendation }
        fragment Deal on Sale { amount currency }""",
    "inline fragments with and without a type": """query($id: ID!) { lead(id: $id) {
        ... on Lead { id stage } ... { name sale { ... on Sale { amount } ... { id } } } } }""",
    "a fragment merged with a field": """query($id: ID!) { lead(id: $id) {
        latestAnalysis { score } ...More } }
        fragment More on Lead { id latestAnalysis { reason } }""",
    "root fields in a fragment": """query($id: ID!) { ...Roots }
        fragment Roots on Query { lead(id: $id) { id } leads(first: 1) { edges { cursor } } }""",
    "two root fields": """query($id: ID!) { lead(id: $id) { id name sale { amount } }
        leads(first: 3, orderBy: {field: SCORE}) {
          edges { node { id latestAnalysis { score } } } } }""",
    "leads twice with other arguments": """{ a: leads(first: 2) { edges { node { id } } }
        b: leads(first: 3, orderBy: {field: MESSAGE_COUNT, direction: ASC}) {
          edges { cursor node { messageCount } } } }""",
    "lead twice under two aliases": """query($id: ID!, $other: ID!) {
        a: lead(id: $id) { id } b: lead(id: $other) { name } }""",
    # Not for plans: the executor answers, and so must the planned server.
    "a fragment on an interface": "query($id: ID!) { lead(id: $id) { ... on Node { id } name } }",
    "a directive on a field": "query($id: ID!) { lead(id: $id) { id name @include(if: false) } }",
    "a directive on a root field": "query($id: ID!) { lead(id: $id) @skip(if: true) { id } }",
    "a directive on a fragment": """query($id: ID!) { lead(id: $id) { ...F @include(if: true) } }
        fragment F on Lead { id }""",
    "a variable directive": """query($id: ID!, $yes: Boolean!) {
        lead(id: $id) { id name @include(if: $yes) } }""",
    "__typename at the root": "query($id: ID!) { __typename lead(id: $id) { __typename } }",
    "an uncovered Lead field": "query($id: ID!) { lead(id: $id) { id stageHistory { toStage } } }",
    "gates": "query($id: ID!) { lead(id: $id) { id transferEligibility { eligible } } }",
    "analyses connection": """query($id: ID!) { lead(id: $id) {
        analyses(first: 1) { edges { node { score } } } } }""",
    "totalCount": "{ leads(first: 2) { totalCount edges { node { id } } } }",
    "an uncovered analysis field": """query($id: ID!) { lead(id: $id) {
        latestAnalysis { factors { name } } } }""",
    "an uncovered sale field": "query($id: ID!) { lead(id: $id) { sale { lead { id } } } }",
    "another root field": "query($id: ID!) { lead(id: $id) { id } pipeline { transferRate } }",
    "edges under two keys": "{ leads(first: 2) { a: edges { cursor } b: edges { node { id } } } }",
}


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
async def test_shapes_of_documents(twins: Twins, odd: list[str], shape: str) -> None:
    query = SHAPES[shape]
    if "$" not in query:
        await twins.same(query)
        return
    for lead_id in odd:
        given = {"id": lead_id, "other": odd[0], "yes": True}
        await twins.same(
            query, {name: value for name, value in given.items() if f"${name}" in query}
        )


# ------------------------------------------------------------------ filters

FILTERS: list[dict[str, Any]] = [
    {},
    {"stage": ["NEW"]},
    {"stage": ["TRANSFERRED", "LOST"]},
    {"stage": []},
    {"stage": None},
    {"source": ["PARTNER", "EVENT"]},
    {"source": ["TELEGRAM"]},
    {"source": []},
    {"businessDomain": "fintech"},
    {"businessDomain": "FINTECH"},
    {"businessDomain": ""},
    {"businessDomain": "nowhere"},
    {"businessDomain": "x" * 201},
    {"businessDomain": "fin\x00tech"},
    {"hasBusinessDomain": True},
    {"hasBusinessDomain": False},
    {"minScore": 0.5},
    {"minScore": 1},
    {"minScore": 0},
    {"minScore": -3},
    {"maxScore": 0.3},
    {"maxScore": 0},
    {"maxScore": 2},
    {"minScore": 0.2, "maxScore": 0.6},
    {"minScore": 0.7, "maxScore": 0.6},
    {"minScore": 0.333333333333333},
    {"createdAfter": "2024-01-01T01:00:00Z"},
    {"createdAfter": "2024-01-01T03:00:00+02:00"},
    {"createdAfter": "2024-01-01T01:00:00"},
    {"createdAfter": "0001-01-01T00:00:00+01:00"},
    {"createdAfter": "9999-12-31T23:59:59-01:00"},
    {"createdAfter": "not a moment"},
    {"createdBefore": "2024-01-01T01:00:00+00:00"},
    {"createdBefore": "2024-01-01T02:00:00.5Z"},
    {"createdBefore": "2023-12-31T23:00:00-01:30"},
    {"createdAfter": "2024-01-01T01:00:00Z", "createdBefore": "2024-01-01T02:00:00Z"},
    {"createdAfter": "2024-01-01T02:00:00Z", "createdBefore": "2024-01-01T01:00:00Z"},
    {"search": "Lead 1"},
    {"search": "lead 2"},
    {"search": "100%"},
    {"search": "%"},
    {"search": "_"},
    {"search": "\\"},
    {"search": "under_"},
    {"search": "Off_Sale \\ Co"},
    {"search": "  zoë  "},
    {"search": "ÜRBAN"},
    {"search": "@example"},
    {"search": "   "},
    {"search": ""},
    {"search": "s" * 201},
    {"search": "a\x00b"},
    {"search": None},
    {"color": "red"},
    {"stage": ["new"]},
    {"minScore": "high"},
    {
        "stage": ["NEW", "CONTACTED", "QUALIFIED", "TRANSFERRED"],
        "source": ["PARTNER", "WEBSITE", "OTHER", "EVENT"],
        "hasBusinessDomain": True,
        "businessDomain": "retail",
        "minScore": 0.1,
        "maxScore": 0.9,
        "createdAfter": "2024-01-01T00:10:00Z",
        "createdBefore": "2024-01-01T02:30:00Z",
        "search": "lead",
    },
]

_LIST = (
    "edges { cursor node { id name stage source businessDomain createdAt "
    "latestAnalysis { score } } } " + PAGE_INFO
)
_ENUM_FIELDS = {"stage", "source"}


def _as_literal(given: dict[str, Any]) -> str:
    written = {
        key: [Name(v) for v in value] if key in _ENUM_FIELDS and isinstance(value, list) else value
        for key, value in given.items()
    }
    return literal(written)


@pytest.mark.parametrize("given", FILTERS, ids=[repr(f)[:60] for f in FILTERS])
async def test_each_filter(twins: Twins, given: dict[str, Any]) -> None:
    by_variable = "query($f: LeadFilter) { leads(first: 100, filter: $f) { " + _LIST + " } }"
    await twins.same(by_variable, {"f": given})
    if "color" in given or given.get("minScore") == "high":
        return  # no literal of these passes validation
    by_literal = "{ leads(first: 100, filter: " + _as_literal(given) + ") { " + _LIST + " } }"
    await twins.same(by_literal)


async def test_no_filter_and_a_null_one(twins: Twins) -> None:
    await twins.same("{ leads(first: 100, filter: null) { " + _LIST + " } }")
    await twins.same("query($f: LeadFilter) { leads(first: 100, filter: $f) { " + _LIST + " } }")
    await twins.same("{ leads(first: 100, filter: {minScore: 1e400}) { " + _LIST + " } }")


# ------------------------------------------------------------------ orders and pages

ORDERS = [(field, direction) for field in ORDER_FIELDS for direction in DIRECTIONS]
_ORDERED = (
    """query($first: Int, $after: String, $order: LeadOrder, $filter: LeadFilter) {
  leads(first: $first, after: $after, orderBy: $order, filter: $filter) {
    edges { cursor node { id createdAt updatedAt messageCount latestAnalysis { score } } }
    """
    + PAGE_INFO
    + " } }"
)


@pytest.mark.parametrize(("field", "direction"), ORDERS)
async def test_four_pages_of_each_order(twins: Twins, field: str, direction: str) -> None:
    order = {"field": field, "direction": direction}
    for filter_ in (None, {"stage": ["TRANSFERRED", "LOST"], "search": "e"}):
        after = None
        for _page in range(4):
            variables = {"first": 7, "after": after, "order": order, "filter": filter_}
            page = (await twins.same(_ORDERED, variables))["data"]["leads"]
            assert len(page["edges"]) == 7
            after = page["pageInfo"]["endCursor"]


async def test_orders_written_in_every_way(twins: Twins) -> None:
    for order in ("{field: SCORE}", "{direction: ASC}", "{}", "null"):
        await twins.same("{ leads(first: 30, orderBy: " + order + ") { " + _LIST + " } }")
    await twins.same(_ORDERED, {"order": {"field": "SCORE"}})
    await twins.same(_ORDERED, {"order": {"field": "score"}})
    await twins.same(_ORDERED, {"order": {"field": None}})
    await twins.same(_ORDERED, {"order": {}})


@pytest.mark.parametrize("first", [0, 1, 100, 101, -1, None, 2**31, "ten", 1.5])
async def test_page_sizes(twins: Twins, first: Any) -> None:
    await twins.same(_ORDERED, {"first": first})
    if isinstance(first, int):
        await twins.same("{ leads(first: " + literal(first) + ") { " + _LIST + " } }")


async def test_backward_paging_is_the_executors(twins: Twins) -> None:
    first_page = (await twins.same(_ORDERED, {"first": 5}))["data"]["leads"]
    cursor = first_page["pageInfo"]["endCursor"]
    for arguments in (
        "last: 5",
        f'last: 3, before: "{cursor}"',
        f'before: "{cursor}"',
        "first: 2, last: 2",
        f'first: 2, after: "{cursor}", before: "{cursor}"',
    ):
        await twins.same("{ leads(" + arguments + ") { " + _LIST + " } }")


def _cursors() -> dict[str, str]:
    moment = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    return {
        "garbage": "garbage",
        "empty": "",
        "not base64": "%%%",
        "a message_count cursor": encode_cursor("lead:message_count", 5, 10),
        "a sale cursor": encode_cursor("sale:created_at", moment, 10),
        "a wrong value type": encode_cursor("lead:created_at", 5, 10),
        "an id of zero": encode_cursor("lead:created_at", moment, 0),
        "a missing row": encode_cursor("lead:created_at", moment, 10**15),
        "a tie on created_at": encode_cursor("lead:created_at", moment, 1),
        "a naive moment": "WyJsZWFkOmNyZWF0ZWRfYXQiLHsidCI6IjIwMjQtMDEtMDFUMDE6MDA6MDAifSwxXQ",
        "an integer score": encode_cursor("lead:score", 0, 50),
        "a score of -1": encode_cursor("lead:score", -1.0, 50),
        "a huge count": encode_cursor("lead:message_count", 2**40, 50),
        "a far future": encode_cursor("lead:updated_at", datetime(9999, 12, 31, tzinfo=UTC), 5),
    }


@pytest.mark.parametrize("name", list(_cursors()))
async def test_cursors_of_every_kind(twins: Twins, name: str) -> None:
    cursor = _cursors()[name]
    for field in ORDER_FIELDS:
        await twins.same(_ORDERED, {"first": 5, "after": cursor, "order": {"field": field}})


async def test_a_cursor_of_another_ordering(twins: Twins) -> None:
    page = (await twins.same(_ORDERED, {"first": 3}))["data"]["leads"]
    cursor = page["pageInfo"]["endCursor"]
    for field in ORDER_FIELDS:
        await twins.same(_ORDERED, {"first": 3, "after": cursor, "order": {"field": field}})


# ------------------------------------------------------------------ lead(id:)

_ONE = "query One($id: ID!) { lead(id: $id) { id name latestAnalysis { score } sale { amount } } }"


def _odd_ids() -> dict[str, Any]:
    lead_one = to_global_id("Lead", 1)
    return {
        "missing lead": to_global_id("Lead", 10**15),
        "largest id": to_global_id("Lead", 2**63 - 1),
        "beyond bigint": to_global_id("Lead", 2**63),
        "a sale's id": to_global_id("Sale", 1),
        "an analysis's id": to_global_id("LeadAnalysis", 1),
        "a user's id": to_global_id("User", 1),
        "an unknown type": to_global_id("Planet", 1),
        "garbage": "nope",
        "empty": "",
        "padded": lead_one + "==",
        "id zero": to_global_id("Lead", 0),
        "leading zero": to_global_id("Lead", 1).replace("MQ", "MDE"),
        "an integer": 5,
        "a boolean": True,
        "null": None,
        "a list": ["x"],
        "very long": "A" * 5000,
    }


@pytest.mark.parametrize("name", list(_odd_ids()))
async def test_ids_of_every_kind(twins: Twins, name: str) -> None:
    given = _odd_ids()[name]
    await twins.same(_ONE, {"id": given})
    if isinstance(given, str):
        await twins.same("{ lead(id: " + literal(given) + ") { id name } }")


async def test_a_missing_required_variable(twins: Twins) -> None:
    await twins.same(_ONE, {})
    await twins.same(_ONE)
    await twins.same(_ONE, {"id": to_global_id("Lead", 1), "extra": 1})
    await twins.same("query($f: Int = 3) { leads(first: $f) { " + _LIST + " } }", {})
    await twins.same("query($f: Int! = 3) { leads(first: $f) { " + _LIST + " } }", {"f": None})


# ------------------------------------------------------------------ operations and transports

_TWO_OPERATIONS = """
query Newest { leads(first: 2) { edges { node { id name } } } }
query Oldest { leads(first: 2, orderBy: {direction: ASC}) { edges { node { id } } } }
mutation Rename { updateLead(input: {leadId: "x", name: "y"}) { lead { id } } }
"""


@pytest.mark.parametrize("operation", ["Newest", "Oldest", None, "Missing", "Rename"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_choosing_the_operation(twins: Twins, operation: str | None, method: str) -> None:
    await twins.same(_TWO_OPERATIONS, operation_name=operation, method=method)
    await twins.same(_TWO_OPERATIONS, operation_name=operation, headers=GRAPHQL_RESPONSE)


@pytest.mark.parametrize("operation", ["Named", "Other", "", None])
async def test_a_single_named_operation(twins: Twins, operation: str | None) -> None:
    query = "query Named { leads(first: 2) { edges { node { id } } } }"
    await twins.same(query, operation_name=operation)
    await twins.same("{ leads(first: 2) { edges { node { id } } } }", operation_name=operation)


async def test_get_requests(twins: Twins, odd: list[str]) -> None:
    await twins.same(_ONE, {"id": odd[0]}, method="GET")
    await twins.same(_ORDERED, {"first": 7, "order": {"field": "SCORE"}}, method="GET")
    await twins.same(_ORDERED, {"first": 101}, method="GET", headers=GRAPHQL_RESPONSE)
    await twins.same(_ONE, {"id": "nope"}, method="GET", headers=GRAPHQL_RESPONSE)
    await twins.same(_ONE, {"id": 5}, method="GET", headers=GRAPHQL_RESPONSE)


async def test_request_errors_with_the_graphql_response_media_type(
    twins: Twins, odd: list[str]
) -> None:
    await twins.same(_ONE, {"id": odd[1]}, headers=GRAPHQL_RESPONSE)
    await twins.same(_ONE, {}, headers=GRAPHQL_RESPONSE)
    await twins.same(_ORDERED, {"first": "ten"}, headers=GRAPHQL_RESPONSE)
    await twins.same(_ORDERED, {"after": "garbage"}, headers=GRAPHQL_RESPONSE)


# ------------------------------------------------------------------ random documents

RANDOM_CASES = 260


async def test_random_documents(twins: Twins, lead_ids: list[str], odd: list[str]) -> None:
    documents = RandomDocuments(seed=20240601, lead_ids=[*lead_ids[::17], *odd])
    cases = [documents.case() for _ in range(RANDOM_CASES)]
    failures = []
    for batch in _batches(cases):
        answers = await asyncio.gather(
            *(twins.both(case.query, case.variables, method=case.method) for case in batch)
        )
        failures += [
            (case, planned, executed)
            for case, (planned, executed) in zip(batch, answers, strict=True)
            if planned != executed
        ]
    if failures:
        case, planned, executed = min(failures, key=lambda failure: len(failure[0].query))
        raise AssertionError(
            f"{len(failures)} of {RANDOM_CASES} differ; the shortest:"
            + difference(case.query, case.variables, {"method": case.method}, planned, executed)
        )
