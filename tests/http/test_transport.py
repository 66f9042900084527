"""GraphQL over HTTP: media types, status codes, methods and headers of /graphql."""

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route

import web.graphql_http
from db.database import Database
from domain.access import Role
from resolvers.context import AppServices
from services.scope import Scope
from services.scorer_choice import ScorerSelection
from settings import Settings
from web.documents import DocumentCache, Limits
from web.graphql_http import GraphQLEndpoint
from web.negotiation import GRAPHQL_RESPONSE, JSON, prefers_html, response_media_type

POST_JSON = {"content-type": "application/json"}
GQL_RESPONSE = {**POST_JSON, "accept": GRAPHQL_RESPONSE}
LEGACY_JSON = {**POST_JSON, "accept": JSON}

PARSE_ERROR: dict[str, Any] = {"query": "{"}
VALIDATION_ERROR: dict[str, Any] = {"query": "{ noSuchField }"}
VARIABLE_ERROR: dict[str, Any] = {
    "query": "query($id: ID!) { lead(id: $id) { id } }",
    "variables": {"id": None},
}
UNKNOWN_OPERATION: dict[str, Any] = {"query": "query A { __typename }", "operationName": "B"}
REQUEST_ERRORS = [PARSE_ERROR, VALIDATION_ERROR, VARIABLE_ERROR, UNKNOWN_OPERATION]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE.upper()}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("application/json;q=0, */*", None),
        ("text/html", None),
        ("application/xml", None),
        ("application/json;q=nonsense", None),
    ],
)
def test_accept_header_chooses_the_response_media_type(
    accept: str | None, expected: str | None
) -> None:
    assert response_media_type(accept) == expected


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_for_graphql_response_json(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # when a request no operation can run for asks for application/graphql-response+json
    response = await http.post("/graphql", json=body, headers=GQL_RESPONSE)
    # then it is a 400 of that type, with errors marked BAD_REQUEST and no data entry
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"]
    assert {error["extensions"]["code"] for error in payload["errors"]} == {"BAD_REQUEST"}


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_request_errors_are_200_without_data_for_legacy_json(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # when the same requests ask for application/json
    response = await http.post("/graphql", json=body, headers=LEGACY_JSON)
    # then the spec wants 200 for every well-formed request; still no data entry
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("headers", [GQL_RESPONSE, LEGACY_JSON])
async def test_a_field_error_is_200_with_data(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    # when an operation runs and one field fails (a garbage ID)
    body = {"query": '{ __typename lead(id: "garbage") { id } }'}
    response = await http.post("/graphql", json=body, headers=headers)
    # then data holds what resolved, whatever the media type
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] == {"__typename": "Query", "lead": None}
    assert payload["errors"][0]["path"] == ["lead"]


async def test_a_successful_post_has_data_and_no_errors(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=GQL_RESPONSE)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_runs_a_query_with_json_encoded_variables(http: httpx.AsyncClient) -> None:
    params = {
        "query": "query Q($name: String!) { __type(name: $name) { name } }",
        "variables": '{"name": "Lead"}',
        "operationName": "Q",
    }
    response = await http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__type": {"name": "Lead"}}}


@pytest.mark.parametrize(
    "params",
    [
        {"query": "mutation { __typename }"},
        {"query": "query A { __typename } mutation B { __typename }", "operationName": "B"},
    ],
)
async def test_a_mutation_over_get_is_405_and_not_run(
    http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


async def test_an_unacceptable_accept_header_is_406(http: httpx.AsyncClient) -> None:
    headers = {**POST_JSON, "accept": "application/xml"}
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 406
    assert "application/graphql-response+json" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("text/plain", 415),
        ("application/graphql", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=latin1", 415),
        ("application/json; charset=utf-8", 200),
        ('application/json; charset="UTF-8"', 200),
        ("Application/JSON", 200),
    ],
)
async def test_post_bodies_must_be_utf8_json(
    http: httpx.AsyncClient, content_type: str | None, status: int
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = '{"query": "{ __type(name: \\"Run🏃\\") { name } }"}'.encode()
    response = await http.post("/graphql", content=body, headers=headers)
    assert response.status_code == status, response.text


async def test_get_with_text_html_serves_graphiql(http: httpx.AsyncClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = await http.get("/graphql", headers={"accept": browser})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_shared_graphiql_link_opens_graphiql(http: httpx.AsyncClient) -> None:
    # given the address GraphiQL writes into the address bar, opened by a browser
    browser = "text/html,*/*;q=0.8"
    params = {"query": "{ __typename }"}
    response = await http.get("/graphql", params=params, headers={"accept": browser})
    # then GraphiQL opens (and reads the query from the address), not raw JSON
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("text/*, application/json;q=0.5", True),
        (None, False),
        ("*/*", False),
        ("application/json, text/html", False),
        (f"text/html;q=0.5, {GRAPHQL_RESPONSE}", False),
    ],
)
def test_only_clients_ranking_html_first_get_graphiql(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html


@pytest.mark.parametrize("accept", ["*/*", "application/json", GRAPHQL_RESPONSE])
async def test_an_api_get_without_a_query_is_a_400_not_graphiql(
    http: httpx.AsyncClient, accept: str
) -> None:
    response = await http.get("/graphql", headers={"accept": accept})
    assert response.status_code == 400
    assert "`query`" in response.json()["errors"][0]["message"]


async def test_healthz_reports_ok(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_other_methods_and_paths_are_405_and_404(http: httpx.AsyncClient) -> None:
    put = await http.put("/graphql", json={"query": "{ __typename }"})
    assert put.status_code == 405
    assert set(put.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert (await http.post("/graphql/more", json={"query": "{ __typename }"})).status_code == 404


async def test_fresh_request_ids_differ(http: httpx.AsyncClient) -> None:
    ids = {(await http.post("/graphql", content=b"{", headers=POST_JSON)).headers["x-request-id"]}
    ids.add((await http.post("/graphql", content=b"{", headers=POST_JSON)).headers["x-request-id"])
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("given", "echoed"),
    [
        ("abc-123.DEF_4", True),
        ("has spaces", False),
        ("x" * 65, False),
        ("<script>", False),
        (None, False),
    ],
)
async def test_every_response_carries_a_request_id(
    http: httpx.AsyncClient, given: str | None, echoed: bool
) -> None:
    # given a caller's X-Request-ID, sane or not (it ends up in our logs)
    headers = {"x-request-id": given} if given is not None else {}
    # when any request is made, even a malformed one
    response = await http.post("/graphql", content=b"{", headers={**POST_JSON, **headers})
    # then the response names a request id: the caller's when sane, else a fresh one
    request_id = response.headers["x-request-id"]
    assert (request_id == given) is echoed
    assert 1 <= len(request_id) <= 64


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_plain_http_is_refused_not_run(
    http: httpx.AsyncClient, method: str
) -> None:
    # Subscriptions live on WebSocket; over HTTP one must not run as if it were a query.
    query = "subscription { pipelineUpdated { paidAmount } }"
    headers = {"accept": GRAPHQL_RESPONSE}
    if method == "GET":
        response = await http.get("/graphql", params={"query": query}, headers=headers)
    else:
        response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@strawberry.type
class _ToyQuery:
    ping: str = "pong"


@strawberry.type
class _ToySubscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncIterator[int]:
        yield 1


async def _toy_caller(*_args: Any) -> Scope:
    return Scope(tenant_id=1, actor="toy", role=Role.VIEWER)


async def test_the_subscription_guard_holds_on_a_schema_with_subscriptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an endpoint over a schema that has a Subscription root (nothing else is reached)
    monkeypatch.setattr(web.graphql_http, "authenticate", _toy_caller)
    toy = strawberry.Schema(query=_ToyQuery, subscription=_ToySubscription)
    services = AppServices(
        db=cast(Database, None), settings=Settings(), scorers=cast(ScorerSelection, None)
    )
    limits = Limits(max_tokens=100, max_depth=5, max_aliases=5)
    endpoint = GraphQLEndpoint(
        schema=toy, services=services, documents=DocumentCache(toy._schema, limits)
    )
    app = Starlette(routes=[Route("/graphql", endpoint.handle, methods=["GET", "POST"])])
    transport = httpx.ASGITransport(app=app)
    # when a valid subscription is posted over plain HTTP
    async with httpx.AsyncClient(transport=transport, base_url="http://toy") as client:
        body = {"query": "subscription { ticks }"}
        response = await client.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    # then it is refused, pointing at WebSocket
    assert response.status_code == 400, response.text
    assert "WebSocket" in response.json()["errors"][0]["message"]
