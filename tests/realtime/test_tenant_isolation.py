"""A subscriber sees only its own tenant's events."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from db.database import Database, create_engine
from services import users
from tests.api.operations import change_stage, create_lead, ok
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.databases import delete_tenant
from tests.realtime.conftest import Connect

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
    owner = Database(create_engine(migrated, pool_size=2))
    async with owner.transaction() as conn:
        tenant_id = (
            await conn.execute(text("INSERT INTO tenants (name) VALUES ('Watchers') RETURNING id"))
        ).scalar_one()
    key = await users.admin_key(db=owner, tenant_id=tenant_id, email="admin@watchers.example")
    http = httpx.AsyncClient(base_url=live_server.url, headers=bearer(key))
    yield OtherTenant(tenant_id, key, GraphQLClient(http))
    await http.aclose()
    async with owner.transaction() as conn:
        await delete_tenant(conn, tenant_id)
    await owner.dispose()


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
