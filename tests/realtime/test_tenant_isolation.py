"""A subscriber sees only its own tenant's events."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.api.operations import change_stage, create_lead, ok
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.realtime.conftest import Connect
from tests.tenants import second_tenant

LEAD_STAGES = """
subscription($leadId: ID) { leadStageChanged(leadId: $leadId) { lead { id name } toStage } }
"""


@dataclass(frozen=True)
class OtherTenant:
    tenant_id: int
    key: str
    client: GraphQLClient


@pytest.fixture
async def other_tenant(migrated: str, live_server: LiveServer) -> AsyncIterator[OtherTenant]:
    """A second company on the same database, with an admin of its own."""
    async with (
        second_tenant(migrated, "Watchers") as other,
        httpx.AsyncClient(base_url=live_server.url, headers=bearer(other.admin_key)) as http,
    ):
        yield OtherTenant(other.tenant_id, other.admin_key, GraphQLClient(http))


async def test_a_subscriber_never_sees_another_tenants_events(
    gql: GraphQLClient, connect_ws: Connect, other_tenant: OtherTenant
) -> None:
    # given a subscriber of tenant B, following every lead and, by ID, one of tenant A's
    theirs = await create_lead(gql, name="Tenant A's lead")
    watcher = await connect_ws(key=other_tenant.key)
    every_lead = await watcher.subscribe(LEAD_STAGES)
    by_id = await watcher.subscribe(LEAD_STAGES, {"leadId": theirs["id"]})
    # when tenant A changes its lead and creates another, and then tenant B creates one
    ok(await change_stage(gql, theirs["id"], "CONTACTED"))
    await create_lead(gql, name="Another of A")
    ours = await create_lead(other_tenant.client, name="Tenant B's lead")
    # then B's first (and only) delivery is its own lead, on the unfiltered subscription;
    # A's lead ID was a well-formed filter that simply matches nothing of B's
    message = await watcher.receive()
    assert message["id"] == every_lead
    assert message["payload"]["data"]["leadStageChanged"]["lead"] == {
        "id": ours["id"],
        "name": "Tenant B's lead",
    }
    await watcher.send({"id": by_id, "type": "complete"})
    await watcher.send({"type": "ping"})
    assert await watcher.receive() == {"type": "pong"}
