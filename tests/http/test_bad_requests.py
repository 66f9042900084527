"""Malformed and hostile requests get a clear 4xx or GraphQL error: never a 500, never a trace.

Three tables: broken HTTP requests (refused before GraphQL), operations with bad
arguments (GraphQL errors with BAD_REQUEST), and bad mutation input (userErrors).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from domain.global_ids import to_global_id
from tests.api.operations import create_lead, database_id, read_lead
from tests.conftest import GraphQLClient, LiveServer

GQL_RESPONSE = "application/graphql-response+json"
JSON_BODY = {"content-type": "application/json"}


@dataclass(frozen=True)
class HttpCase:
    id: str
    body: bytes
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_BODY))


HTTP_CASES = [
    HttpCase("truncated JSON", b'{"query": "{ __typename }"', 400, "not valid JSON"),
    HttpCase("empty body", b"", 400, "not valid JSON"),
    HttpCase("invalid UTF-8", b'{"query": "\xff\xfe"}', 400, "not valid JSON"),
    HttpCase("JSON nested past reason", b"[" * 5000 + b"]" * 5000, 400, "not valid JSON"),
    HttpCase("a batch (array)", b'[{"query": "{ __typename }"}]', 400, "JSON object"),
    HttpCase("a bare string", b'"{ __typename }"', 400, "JSON object"),
    HttpCase("null", b"null", 400, "JSON object"),
    HttpCase("no query", b"{}", 400, "`query` must be a non-empty string"),
    HttpCase("query misspelled", b'{"qeury": "{ __typename }"}', 400, "`query`"),
    HttpCase("query a number", b'{"query": 1}', 400, "`query`"),
    HttpCase("query blank", b'{"query": "  "}', 400, "`query`"),
    HttpCase(
        "variables a list",
        b'{"query": "{ __typename }", "variables": [1]}',
        400,
        "`variables` must be an object",
    ),
    HttpCase(
        "variables a JSON string",
        b'{"query": "{ __typename }", "variables": "{}"}',
        400,
        "`variables` must be an object",
    ),
    HttpCase(
        "operationName a number",
        b'{"query": "{ __typename }", "operationName": 3}',
        400,
        "`operationName` must be a string",
    ),
    HttpCase(
        "extensions a list",
        b'{"query": "{ __typename }", "extensions": []}',
        400,
        "`extensions` must be an object",
    ),
    HttpCase("form encoded", b"query=%7B__typename%7D", 415, "application/json", {}),
]


def _assert_clean_error(response: httpx.Response, status: int, message: str) -> None:
    """A JSON error body with a clear message and code: what every refusal must look like."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda case: case.id)
async def test_a_malformed_http_request_is_refused_before_graphql(
    http: httpx.AsyncClient, case: HttpCase
) -> None:
    response = await http.post("/graphql", content=case.body, headers=case.headers)
    _assert_clean_error(response, case.status, case.message)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "`query` must be a non-empty string"),
        ({"query": "{ __typename }", "variables": "{nope"}, "`variables` is not valid JSON"),
        ({"query": "{ __typename }", "variables": "[]"}, "`variables` must be an object"),
        ({"query": "{ __typename }", "extensions": "1"}, "`extensions` must be an object"),
    ],
)
async def test_a_malformed_get_is_refused(
    http: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await http.get("/graphql", params=params, headers={"accept": GQL_RESPONSE})
    _assert_clean_error(response, 400, message)


async def test_a_body_declared_too_large_is_413(
    http: httpx.AsyncClient, live_server: LiveServer
) -> None:
    limit = live_server.app.state.services.settings.max_body_bytes
    query = '{"query": "{ __typename }", "pad": "' + "x" * limit + '"}'
    response = await http.post("/graphql", content=query.encode(), headers=JSON_BODY)
    _assert_clean_error(response, 413, f"larger than {limit} bytes")


async def test_a_streamed_body_is_cut_off_once_too_large(
    http: httpx.AsyncClient, live_server: LiveServer
) -> None:
    # given a chunked body with no Content-Length, growing past the limit
    limit = live_server.app.state.services.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = await http.post("/graphql", content=chunks(), headers=JSON_BODY)
    _assert_clean_error(response, 413, f"larger than {limit} bytes")


@dataclass(frozen=True)
class OperationCase:
    id: str
    query: str
    message: str
    variables: dict[str, Any] = field(default_factory=dict)


LEADS = "{ leads(%s) { totalCount } }"
CREATE = "mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }"

OPERATION_CASES = [
    OperationCase(
        "unknown field in an input literal",
        'mutation { createLead(input: {name: "A", source: PARTNER, admin: true}) { lead { id } } }',
        "not to include unknown field 'admin'",
    ),
    OperationCase(
        "unknown field in input variables",
        CREATE,
        "not to include unknown field 'admin'",
        {"input": {"name": "A", "source": "PARTNER", "admin": True}},
    ),
    OperationCase(
        "a wrong enum value", LEADS % "filter: {stage: [WON]}", "Value 'WON' does not exist"
    ),
    OperationCase("an Int past 32 bits", LEADS % "first: 99999999999", "non 32-bit"),
    OperationCase("garbage ID", '{ lead(id: "garbage!!") { id } }', "not a valid ID"),
    OperationCase("base64 of nonsense", '{ lead(id: "Zm9vOmJhcg") { id } }', "not a valid ID"),
    OperationCase(
        "an ID of an unknown type", '{ lead(id: "SW52b2ljZTox") { id } }', "not a valid ID"
    ),
    OperationCase("a negative row id", '{ lead(id: "TGVhZDotMQ") { id } }', "not a valid ID"),
    OperationCase(
        "an oversized ID",
        "query($id: ID!) { lead(id: $id) { id } }",
        "too long",
        {"id": "x" * 10**5},
    ),
    OperationCase("NUL in an ID", '{ lead(id: "\\u0000") { id } }', "not a valid ID"),
    OperationCase("first: 1000", LEADS % "first: 1000", "between 0 and 100, got 1000"),
    OperationCase("last: -1", LEADS % "last: -1", "between 0 and 100"),
    OperationCase("first and last", LEADS % "first: 1, last: 1", "either `first` or `last`"),
    OperationCase("garbage cursor", LEADS % 'after: "garbage"', "not a valid cursor"),
    OperationCase("NUL in a cursor", LEADS % 'after: "\\u0000"', "not a valid cursor"),
    OperationCase(
        "NUL in a search literal", LEADS % 'filter: {search: "a\\u0000b"}', "without NUL"
    ),
    OperationCase(
        "NUL in a search variable",
        "query($s: String) { leads(filter: {search: $s}) { totalCount } }",
        "without NUL",
        {"s": "a\x00b"},
    ),
    OperationCase(
        "an oversized search",
        "query($s: String) { leads(filter: {search: $s}) { totalCount } }",
        "at most 200 characters",
        {"s": "x" * 100_000},
    ),
    OperationCase(
        "a query nested past reason",
        "{" + " leads { edges { node { sale { lead {" * 300 + " id" + " } } } } }" * 300 + " }",
        "nested too deeply",
    ),
]


@pytest.mark.parametrize("case", OPERATION_CASES, ids=lambda case: case.id)
async def test_a_bad_argument_is_a_clear_bad_request_error(
    gql: GraphQLClient, case: OperationCase
) -> None:
    # when an operation carries an argument the API cannot accept
    body = await gql(case.query, case.variables)
    # then the first error says what is wrong, marked BAD_REQUEST, and nothing leaks
    error = body["errors"][0]
    assert case.message in error["message"], error
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "Traceback" not in str(body)
    assert not (body.get("data") or {}).get("createLead")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "x" * 10_000}, "name", "At most"),
        ({"company": "y" * 10_000}, "company", "At most"),
        ({"name": "Ada\x00Lovelace"}, "name", "Control characters"),
        ({"company": "Acme\x00"}, "company", "Control characters"),
        ({"name": "   "}, "name", "must not be empty"),
    ],
)
async def test_bad_mutation_input_is_a_user_error_with_its_field(
    gql: GraphQLClient, fields: dict[str, Any], field: str, message: str
) -> None:
    # when createLead gets a value the rules refuse
    values = {"name": "Ada", "source": "PARTNER", **fields}
    body = await gql(
        "mutation($input: CreateLeadInput!) { createLead(input: $input) "
        "{ lead { id } userErrors { code message field } } }",
        {"input": values},
    )
    # then it is a userError naming the field, and no lead is made
    payload = body["data"]["createLead"]
    assert payload["lead"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["field"] == ["input", field]
    assert message in error["message"]
    assert (await gql.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0


async def test_an_id_of_another_type_finds_nothing(gql: GraphQLClient) -> None:
    # given a lead, and a Sale ID with the same row id
    lead = await create_lead(gql)
    sale_id = to_global_id("Sale", database_id(lead["id"]))
    # when the Sale ID is passed to lead()
    body = await gql("query($id: ID!) { lead(id: $id) { id } }", {"id": sale_id})
    # then there is no such lead, and no error: a foreign ID is simply not a lead
    assert body == {"data": {"lead": None}}
    assert (await read_lead(gql, lead["id"]))["id"] == lead["id"]


SQL_LOOKING = [
    "Robert'); DROP TABLE leads;--",
    "' OR '1'='1",
    '"; DELETE FROM sales; --',
    "100% \\_real_\\ %s %(name)s $1",
]


async def test_sql_looking_strings_are_stored_verbatim_and_harmless(gql: GraphQLClient) -> None:
    # given leads whose names look like SQL
    for name in SQL_LOOKING:
        await create_lead(gql, name=name, company=name)
    # then each reads back exactly as sent, and every row is still there
    data = await gql.data("{ leads(first: 10) { totalCount edges { node { name company } } } }")
    assert data["leads"]["totalCount"] == len(SQL_LOOKING)
    names = {edge["node"]["name"] for edge in data["leads"]["edges"]}
    assert names == set(SQL_LOOKING)
    assert all(e["node"]["name"] == e["node"]["company"] for e in data["leads"]["edges"])


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("' OR '1'='1", {"' OR '1'='1"}),
        ("%", {"100% \\_real_\\ %s %(name)s $1"}),
        ("_", {"100% \\_real_\\ %s %(name)s $1"}),
        ("\\", {"100% \\_real_\\ %s %(name)s $1"}),
        ("' OR 1=1 --", set()),
    ],
)
async def test_search_treats_sql_and_wildcards_as_plain_text(
    gql: GraphQLClient, search: str, found: set[str]
) -> None:
    for name in SQL_LOOKING:
        await create_lead(gql, name=name)
    data = await gql.data(
        "query($s: String) { leads(filter: {search: $s}) { edges { node { name } } } }",
        {"s": search},
    )
    assert {edge["node"]["name"] for edge in data["leads"]["edges"]} == found
