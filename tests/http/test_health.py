"""/healthz tells a load balancer whether this process can reach its database."""

import httpx

from settings import Settings
from tests.conftest import LiveServer, start_server
from tests.databases import url_of


async def test_healthz_is_ok_while_the_database_answers(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_healthz_is_unavailable_when_the_database_is_not(
    settings: Settings, database_url: str
) -> None:
    # given a server whose database does not exist
    server = await start_server(settings, url_of(database_url, "crm_no_such_database"))
    try:
        # when a load balancer asks; then it hears 503, and no stack trace
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.get("/healthz")
        assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
    finally:
        await server.stop()
