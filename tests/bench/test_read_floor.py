"""The read benchmark's parts, at a small scale: the data set builds (and is reused), and
the floor answers exactly what the GraphQL server answers for the same documents, so a
ratio between them compares equal work."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bench.agreement import same_data
from bench.dataset import Dataset, ensure_dataset
from bench.operations import SEARCH_TERM, deep_position, read_operations
from bench.read_floor import (
    DEEP_QUERY,
    LEAD_QUERY,
    LIST_QUERY,
    PIPELINE_QUERY,
    SEARCH_QUERY,
    STAGE_QUERY,
    create_floor_app,
)
from settings import Settings
from tests.conftest import LiveServer, bearer, loopback_socket, start_server
from tests.databases import throwaway_database
from worker.runner import libpq_url

LEADS = 300


@pytest.fixture(scope="module")
async def dataset(database_url: str) -> AsyncIterator[Dataset]:
    async with throwaway_database(database_url, "crm_bench_reads_test") as url:
        yield await ensure_dataset(url, leads=LEADS)


@pytest.fixture(scope="module")
async def servers(
    dataset: Dataset, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    ours = await start_server(settings, dataset.database_url)
    floor_server = await _start_floor(dataset)
    async with (
        httpx.AsyncClient(
            base_url=ours.url, timeout=30, headers=bearer(dataset.admin_key)
        ) as graphql,
        httpx.AsyncClient(base_url=floor_server.url, timeout=30) as raw,
    ):
        yield graphql, raw
    await floor_server.stop()
    await ours.stop()


async def _start_floor(dataset: Dataset) -> LiveServer:
    server = LiveServer(
        create_floor_app(libpq_url(dataset.database_url), dataset.tenant_id), loopback_socket()
    )
    await server.start()
    return server


async def _graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_data_set_is_built_once_then_reused(dataset: Dataset) -> None:
    again = await ensure_dataset(dataset.database_url, leads=LEADS)
    assert (again.tenant_id, again.leads) == (dataset.tenant_id, LEADS)


async def test_the_floor_lists_exactly_what_graphql_lists(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    graphql, raw = servers
    ours = await _graphql(graphql, LIST_QUERY)
    floor = (await raw.get("/leads")).json()
    assert floor == ours
    nodes = [edge["node"] for edge in ours["data"]["leads"]["edges"]]
    assert len(nodes) == 50
    # the page has what the benchmark means to measure: analyses and sales in it
    assert any(node["latestAnalysis"] for node in nodes)
    assert any(node["sale"] and node["sale"]["amount"] for node in nodes)


async def test_the_floor_looks_one_lead_up_exactly_as_graphql_does(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    graphql, raw = servers
    listed = await _graphql(graphql, LIST_QUERY)
    for edge in listed["data"]["leads"]["edges"][:10]:
        lead_id = edge["node"]["id"]
        ours = await _graphql(graphql, LEAD_QUERY, id=lead_id)
        floor = (await raw.get(f"/leads/{lead_id}")).json()
        assert floor == ours


async def test_the_floor_filters_by_stage_exactly_as_graphql_does(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    graphql, raw = servers
    ours = await _graphql(graphql, STAGE_QUERY)
    floor = (await raw.get("/leads", params={"stage": "qualified"})).json()
    assert floor == ours
    stages = {edge["node"]["stage"] for edge in ours["data"]["leads"]["edges"]}
    assert stages == {"QUALIFIED"}
    assert len(ours["data"]["leads"]["edges"]) == 50


async def test_the_floor_searches_exactly_as_graphql_does(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    graphql, raw = servers
    for term in (SEARCH_TERM, "LEAD 1", "example.com", "50%_\\"):
        ours = await _graphql(graphql, SEARCH_QUERY, search=term)
        floor = (await raw.get("/leads", params={"search": term})).json()
        assert floor == ours, term
    # the benchmark's own term finds something at this size too
    found = await _graphql(graphql, SEARCH_QUERY, search=SEARCH_TERM)
    assert found["data"]["leads"]["edges"]


async def test_the_deep_page_cursor_is_the_one_our_api_gives_at_that_lead(
    dataset: Dataset, servers: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    graphql, _ = servers
    # given the operations built for this data set
    operations = await read_operations(dataset)
    # when our API pages from the first lead to the deep page's position
    cursor, passed = None, 0
    while passed < deep_position(LEADS):
        size = min(100, deep_position(LEADS) - passed)
        page = await _graphql(graphql, _CURSORS, first=size, after=cursor)
        cursor, passed = page["data"]["leads"]["pageInfo"]["endCursor"], passed + size
    # then its cursor there is the one the benchmark starts the deep page after
    assert operations["deep"].requests[0].variables == {"after": cursor}


async def test_the_floor_pages_after_a_cursor_exactly_as_graphql_does(
    dataset: Dataset, servers: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    graphql, raw = servers
    first = await _graphql(graphql, _CURSORS, first=100, after=None)
    middle = first["data"]["leads"]["pageInfo"]["endCursor"]
    deep = (await read_operations(dataset))["deep"].requests[0].variables["after"]
    for cursor, more_follow in ((middle, True), (deep, False)):
        ours = await _graphql(graphql, DEEP_QUERY, after=cursor)
        floor = (await raw.get("/leads", params={"after": cursor})).json()
        assert floor == ours
        assert ours["data"]["leads"]["pageInfo"]["hasNextPage"] is more_follow


async def test_the_floor_sums_up_the_pipeline_as_graphql_does(
    servers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    graphql, raw = servers
    ours = await _graphql(graphql, PIPELINE_QUERY)
    floor = (await raw.get("/pipeline")).json()
    assert same_data(ours, floor)
    figures = ours["data"]["pipeline"]
    assert sum(stage["count"] for stage in figures["leadsByStage"]) == LEADS
    assert figures["paidAmount"] != "0.00"


_CURSORS = """query Cursors($first: Int!, $after: String) {
  leads(first: $first, after: $after) { pageInfo { endCursor } }
}"""


async def test_the_strict_floor_answers_as_the_floor(
    dataset: Dataset, servers: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    _graphql_client, floor = servers
    server = LiveServer(
        create_floor_app(libpq_url(dataset.database_url), dataset.tenant_id, "queue"),
        loopback_socket(),
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as strict:
            for path in ("/leads", "/leads?stage=qualified", "/pipeline"):
                assert (await strict.get(path)).json() == (await floor.get(path)).json()
    finally:
        await server.stop()
