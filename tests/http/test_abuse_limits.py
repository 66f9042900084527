"""Abuse limits over real HTTP: rate, query cost, statement timeout, introspection, CORS.

Each limit that needs other settings than the suite's gets a live server of its own on
the same test database (`start_server` with `dataclasses.replace(settings, ...)`).
"""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

import resolvers.pipeline
from db.database import Database
from domain.access import Role
from services.scope import Scope
from settings import Settings
from tests.conftest import (
    AUTHENTICATION_STATEMENTS,
    GraphQLClient,
    LiveServer,
    StatementCounter,
    UserClient,
    bearer,
    start_server,
)
from web.negotiation import GRAPHQL_RESPONSE, JSON

APP = "https://app.example"
CREATE_LEAD = 'mutation { createLead(input: {name: "Ada", source: PARTNER}) { lead { id } } }'
PIPELINE = "{ pipeline { paidAmount } }"


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    accept: str = GRAPHQL_RESPONSE,
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await client.post("/graphql", json=body, headers={"accept": accept})


@contextmanager
def counting_statements(server: LiveServer) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(server.engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(server.engine.sync_engine, "before_cursor_execute", counter)


async def lead_count(gql: GraphQLClient) -> int:
    count: int = (await gql.data("{ leads { totalCount } }"))["leads"]["totalCount"]
    return count


# --- Rate limit


@pytest.fixture
async def rate_limited(settings: Settings, migrated: str) -> AsyncIterator[LiveServer]:
    """A server allowing each credential a burst of 3, then one request a second."""
    limited = dataclasses.replace(settings, rate_limit_per_minute=60, rate_limit_burst=3)
    server = await start_server(limited, migrated)
    yield server
    await server.stop()


async def test_a_key_over_its_rate_gets_429_before_any_graphql_work(
    rate_limited: LiveServer, admin_key: str, gql: GraphQLClient
) -> None:
    async with httpx.AsyncClient(base_url=rate_limited.url, headers=bearer(admin_key)) as client:
        # given a key that has used its burst
        for _ in range(3):
            assert (await post(client, "{ __typename }")).status_code == 200
        # when it sends a mutation at once
        with counting_statements(rate_limited) as statements:
            response = await post(client, CREATE_LEAD)
    # then it is told to wait, in whole seconds, and nothing but its key check ran
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert statements.count == AUTHENTICATION_STATEMENTS
    assert await lead_count(gql) == 0


async def test_one_key_over_its_rate_does_not_slow_another(
    rate_limited: LiveServer, admin_key: str, gql_as: UserClient
) -> None:
    # given the admin's key out of requests
    other = await gql_as("other@example.com", Role.VIEWER)
    async with httpx.AsyncClient(base_url=rate_limited.url, headers=bearer(admin_key)) as admin:
        statuses = [(await post(admin, "{ __typename }")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # when another key calls the same server
    headers = {"authorization": other.http.headers["authorization"]}
    async with httpx.AsyncClient(base_url=rate_limited.url, headers=headers) as client:
        statuses = [(await post(client, "{ __typename }")).status_code for _ in range(3)]
    # then it has its whole burst
    assert statuses == [200, 200, 200]


# --- Query cost (the suite's server has the default limits)

ONE_HUNDRED_LEADS_WITH_MESSAGES = """query($leads: Int, $messages: Int) {
  leads(first: $leads) { edges { node { messages(first: $messages) {
    edges { node { id } } } } } } }"""


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), (JSON, 200)])
async def test_a_query_over_the_cost_limit_is_refused_unrun_with_its_cost(
    http: httpx.AsyncClient, count_statements: StatementCounter, accept: str, status: int
) -> None:
    # when 100 leads with 100 messages each are asked for (1 + 100 * (3 + 2 * 100))
    variables = {"leads": 100, "messages": 100}
    response = await post(http, ONE_HUNDRED_LEADS_WITH_MESSAGES, variables, accept=accept)
    # then the request is refused like any limit, naming the cost and the limit
    assert response.status_code == status
    body = response.json()
    assert "data" not in body
    error = body["errors"][0]
    assert "costs 20301" in error["message"]
    assert "at most 10000" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert count_statements.count == AUTHENTICATION_STATEMENTS


async def test_a_query_of_exactly_the_cost_limit_runs_and_one_more_does_not(
    http: httpx.AsyncClient,
) -> None:
    # given 100 leads with 48 messages each (9,901) and 49 more leads (99): 10,000
    query = """{
      a: leads(first: 100) { edges { node { messages(first: 48) { edges { node { id } } } } } }
      b: leads(first: 49) { edges { node { id } } } }"""
    response = await post(http, query)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"a": {"edges": []}, "b": {"edges": []}}}
    # when one more object is asked for
    response = await post(
        http, query.replace("first: 49) {", "first: 49) { pageInfo { hasNextPage }")
    )
    # then it is over
    assert response.status_code == 400
    assert "costs 10001" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variables", "status"),
    [
        ({"leads": 100, "messages": 48}, 200),  # 9,901
        ({"leads": 100, "messages": 50}, 400),  # 10,301
        ({"leads": 100}, 200),  # messages default to 20: 4,301
        ({"leads": 100, "messages": None}, 200),  # null is the default page too
        ({"leads": 100, "messages": 5000}, 400),  # counted as 100, the largest page
    ],
)
async def test_page_sizes_in_variables_are_costed_per_request(
    http: httpx.AsyncClient, variables: dict[str, Any], status: int
) -> None:
    # when one cached document is sent with different page sizes
    response = await post(http, ONE_HUNDRED_LEADS_WITH_MESSAGES, variables)
    # then each request is costed with its own variables
    assert response.status_code == status, response.text
    if status == 400:
        assert "at most 10000" in response.json()["errors"][0]["message"]


async def test_a_variable_default_counts_when_the_variable_is_not_sent(
    http: httpx.AsyncClient,
) -> None:
    query = ONE_HUNDRED_LEADS_WITH_MESSAGES.replace("$messages: Int", "$messages: Int = 100")
    response = await post(http, query, {"leads": 100})
    assert response.status_code == 400
    assert "costs 20301" in response.json()["errors"][0]["message"]


async def test_thirty_aliased_analyses_cost_more_than_allowed_and_none_runs(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # given a lead
    created = await gql.data(CREATE_LEAD)
    lead_id = created["createLead"]["lead"]["id"]
    # when 30 analyses are asked for in one request (within the alias limit)
    fields = " ".join(
        f"a{i}: analyzeLead(input: {{leadId: $id}}) {{ analysis {{ id }} }}" for i in range(30)
    )
    response = await post(http, f"mutation($id: ID!) {{ {fields} }}", {"id": lead_id})
    # then the request is refused for its cost (30 * 1002), and the model is never asked
    assert response.status_code == 400
    assert "costs 30060" in response.json()["errors"][0]["message"]
    latest = await gql.data(
        "query($id: ID!) { lead(id: $id) { latestAnalysis { id } } }", {"id": lead_id}
    )
    assert latest == {"lead": {"latestAnalysis": None}}


async def test_introspection_costs_nothing_so_graphiql_still_loads(
    http: httpx.AsyncClient,
) -> None:
    # given introspection that would cost 12,111 as ordinary fields (lists counted as 10)
    query = "{ __schema { types { fields { args { type { fields { name } } } } } } }"
    # when it is sent, then it runs
    response = await post(http, query)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


# --- A server locked down as for production: statement timeout, no introspection, CORS


@pytest.fixture(scope="module")
async def locked_down(settings: Settings, migrated: str) -> AsyncIterator[LiveServer]:
    strict = dataclasses.replace(
        settings, statement_timeout_ms=200, introspection=False, cors_origins=(APP,)
    )
    server = await start_server(strict, migrated)
    yield server
    await server.stop()


@pytest.fixture
async def locked_client(
    locked_down: LiveServer, admin_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=locked_down.url, headers=bearer(admin_key)) as client:
        yield client


async def test_the_app_role_connections_carry_the_statement_timeout(
    live_server: LiveServer, locked_down: LiveServer
) -> None:
    for server, expected in ((live_server, "5s"), (locked_down, "200ms")):
        async with server.engine.connect() as conn:
            assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == expected


async def _slow_pipeline(*, db: Database, scope: Scope) -> Any:
    async with db.read() as conn:
        await conn.execute(text("SELECT pg_sleep(1)"))
    raise AssertionError("the statement timeout should have stopped pg_sleep")


async def test_a_query_over_the_statement_timeout_is_a_clear_error_not_a_500(
    locked_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a resolver whose SQL runs for a second, on a server that allows 200 ms
    monkeypatch.setattr(resolvers.pipeline, "pipeline_stats", _slow_pipeline)
    # when it is asked for
    response = await post(locked_client, PIPELINE)
    # then PostgreSQL stops it and the client is told why, in the field's error
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["path"] == ["pipeline"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "statement timeout" in error["message"]
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    # and the server goes on serving
    monkeypatch.undo()
    response = await post(locked_client, PIPELINE)
    assert response.status_code == 200
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("{ __schema { queryType { name } } }", "__schema"),
        ('{ __type(name: "Lead") { fields { name } } }', "__type"),
        ("query { ...F } fragment F on Query { __schema { types { name } } }", "__schema"),
    ],
)
async def test_with_introspection_off_schema_questions_are_refused(
    locked_client: httpx.AsyncClient, query: str, field: str
) -> None:
    response = await post(locked_client, query)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["message"] for e in errors] == [
        f"Introspection is turned off on this server: `{field}`."
    ]
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


async def test_with_introspection_off_typename_still_works(
    locked_client: httpx.AsyncClient,
) -> None:
    response = await post(locked_client, "{ __typename leads { __typename } }")
    assert response.status_code == 200
    assert response.json() == {
        "data": {"__typename": "Query", "leads": {"__typename": "LeadConnection"}}
    }


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


async def test_an_allowed_origin_passes_the_preflight_and_reads_the_answer(
    locked_client: httpx.AsyncClient,
) -> None:
    # when the SPA's browser asks first
    preflight = await locked_client.options("/graphql", headers={"origin": APP, **PREFLIGHT})
    # then it may post with a bearer key and a JSON body
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= {h.strip() for h in allowed.split(",")}
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    # and the answer itself is readable, with its request id
    response = await locked_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": APP}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example:8443", "null"])
async def test_a_foreign_origin_gets_no_cors_headers(
    locked_client: httpx.AsyncClient, origin: str
) -> None:
    preflight = await locked_client.options("/graphql", headers={"origin": origin, **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = await locked_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_without_an_allowlist_there_are_no_cors_headers(http: httpx.AsyncClient) -> None:
    preflight = await http.options("/graphql", headers={"origin": APP, **PREFLIGHT})
    assert preflight.status_code == 405
    response = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": APP}
    )
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]
