"""Query depth, token and alias limits: over a limit nothing runs; introspection still works."""

from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from settings import Settings
from tests.conftest import AUTHENTICATION_STATEMENTS, GraphQLClient, LiveServer, StatementCounter

GQL_RESPONSE = {"accept": "application/graphql-response+json"}
CREATE_LEAD = 'createLead(input: {name: "Ada", source: PARTNER}) { lead { id } }'


@pytest.fixture
def limits(live_server: LiveServer) -> Settings:
    settings: Settings = live_server.app.state.services.settings
    return settings


def deep_query(depth: int) -> str:
    """`depth` levels: leads > edges > node, then sale > lead > sale ..., then id."""
    chain = [("sale", "lead")[i % 2] for i in range(depth - 4)]
    opening = "".join(f"{field} {{ " for field in ["leads", "edges", "node", *chain])
    return "{ " + opening + "id" + " }" * (len(chain) + 3) + " }"


async def post(http: httpx.AsyncClient, query: str) -> tuple[int, dict[str, Any]]:
    response = await http.post("/graphql", json={"query": query}, headers=GQL_RESPONSE)
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def lead_count(gql: GraphQLClient) -> int:
    count: int = (await gql.data("{ leads { totalCount } }"))["leads"]["totalCount"]
    return count


async def test_a_query_at_the_depth_limit_runs(
    http: httpx.AsyncClient, limits: Settings, count_statements: StatementCounter
) -> None:
    status, body = await post(http, deep_query(limits.max_query_depth))
    assert (status, body) == (200, {"data": {"leads": {"edges": []}}})
    assert count_statements.count >= 1


async def test_a_query_over_the_depth_limit_is_refused_unrun(
    http: httpx.AsyncClient, limits: Settings, count_statements: StatementCounter
) -> None:
    # when a query is one level deeper than allowed
    status, body = await post(http, deep_query(limits.max_query_depth + 1))
    # then it is refused with the numbers, and never reaches the database
    assert status == 400
    assert "data" not in body
    message = body["errors"][0]["message"]
    assert f"{limits.max_query_depth + 1} levels deep" in message
    assert f"at most {limits.max_query_depth}" in message
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert count_statements.count == AUTHENTICATION_STATEMENTS


def aliased_mutation(aliases: int) -> str:
    return "mutation { " + " ".join(f"a{i}: {CREATE_LEAD}" for i in range(aliases)) + " }"


async def test_aliases_up_to_the_limit_run(
    http: httpx.AsyncClient, gql: GraphQLClient, limits: Settings
) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(limits.max_aliases)) + " }"
    status, body = await post(http, query)
    assert status == 200
    assert len(body["data"]) == limits.max_aliases


async def test_too_many_aliases_are_refused_and_nothing_is_created(
    http: httpx.AsyncClient, gql: GraphQLClient, limits: Settings
) -> None:
    # when a mutation repeats createLead under one alias more than allowed
    status, body = await post(http, aliased_mutation(limits.max_aliases + 1))
    # then it is refused before any of them runs
    assert status == 400
    message = body["errors"][0]["message"]
    assert f"{limits.max_aliases + 1} aliases; at most {limits.max_aliases}" in message
    assert await lead_count(gql) == 0


async def test_aliases_inside_fragments_count_too(
    http: httpx.AsyncClient, limits: Settings
) -> None:
    fields = " ".join(f"a{i}: __typename" for i in range(limits.max_aliases // 2 + 1))
    query = f"{{ ...F ... on Query {{ ...F }} }} fragment F on Query {{ {fields} }}"
    status, body = await post(http, query)
    assert status == 400
    assert "aliases" in body["errors"][0]["message"]


async def test_too_many_tokens_are_refused_and_nothing_is_created(
    http: httpx.AsyncClient, gql: GraphQLClient, limits: Settings
) -> None:
    # when a mutation is padded past the token limit (each __typename is one token)
    padding = " __typename" * limits.max_query_tokens
    status, body = await post(http, f"mutation {{ {CREATE_LEAD}{padding} }}")
    # then parsing stops at the limit and the mutation never runs
    assert status == 400
    assert f"more than {limits.max_query_tokens} tokens" in body["errors"][0]["message"]
    assert await lead_count(gql) == 0


async def test_a_query_of_exactly_the_token_limit_runs(
    http: httpx.AsyncClient, limits: Settings
) -> None:
    # given 16 tokens around a list of stages that fills the rest of the limit
    stages = " NEW" * (limits.max_query_tokens - 16)
    query = f"{{ leads(filter: {{stage: [{stages}]}}) {{ totalCount }} }}"
    # then it parses and runs
    status, body = await post(http, query)
    assert status == 200, body
    assert body["data"] == {"leads": {"totalCount": 0}}
    status, body = await post(http, query.replace("[", "[NEW "))
    assert status == 400


async def test_graphiql_full_introspection_works_under_the_default_limits(
    http: httpx.AsyncClient, limits: Settings
) -> None:
    # given the introspection query GraphiQL sends, with every option it can enable
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    assert limits == Settings(
        **{**limits.__dict__, "max_query_depth": 12, "max_query_tokens": 3000, "max_aliases": 30}
    ), "this test is about the default limits"
    # when it is sent
    status, body = await post(http, query)
    # then the whole schema comes back
    assert status == 200, body
    assert "errors" not in body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Lead", "Sale", "LeadAnalysis", "Query", "Mutation"} <= names


async def test_introspection_that_fans_out_level_after_level_is_refused(
    http: httpx.AsyncClient,
) -> None:
    # given introspection nesting field lists (each level multiplies the response)
    levels = 4
    query = "{ __schema { types { " + "fields { type { " * levels + "name" + " } }" * levels
    query += " } } }"
    # then validation refuses it before it runs
    status, body = await post(http, query)
    assert status == 400
    assert "introspection depth" in body["errors"][0]["message"]
