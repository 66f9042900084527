"""A tenant's events go only to its own endpoints, and its endpoints are its own business."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.tenants import second_tenant
from tests.webhooks.conftest import (
    UPDATE_WEBHOOK,
    WEBHOOKS,
    Receiver,
    RunWorker,
    create_lead,
    create_webhook,
    deliveries,
    settled,
)


@dataclass(frozen=True)
class OtherTenant:
    tenant_id: int
    admin: GraphQLClient


@pytest.fixture
async def other_tenant(migrated: str, webhook_server: LiveServer) -> AsyncIterator[OtherTenant]:
    """A second company on the same database, with an admin of its own."""
    async with (
        second_tenant(migrated, "Hooks Co") as other,
        httpx.AsyncClient(base_url=webhook_server.url, headers=bearer(other.admin_key)) as http,
    ):
        yield OtherTenant(other.tenant_id, GraphQLClient(http))


async def test_a_tenants_endpoint_never_gets_another_tenants_events(
    admin: GraphQLClient, other_tenant: OtherTenant, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint of each tenant, for the same event type
    await create_webhook(admin, receiver.endpoint("/ours"))
    await create_webhook(other_tenant.admin, receiver.endpoint("/theirs"))
    # when each tenant creates leads
    ours = {await create_lead(admin, "Ours 1"), await create_lead(admin, "Ours 2")}
    theirs = {await create_lead(other_tenant.admin, "Theirs")}
    async with run_worker():
        await settled(admin, 2)
        await settled(other_tenant.admin, 1)
    # then each endpoint heard only of its own tenant's leads
    assert {r.event["data"]["leadId"] for r in receiver.at("/ours")} == ours
    assert {r.event["data"]["leadId"] for r in receiver.at("/theirs")} == theirs


async def test_another_tenants_endpoints_and_deliveries_are_not_found(
    admin: GraphQLClient, other_tenant: OtherTenant, receiver: Receiver
) -> None:
    # given another tenant's endpoint with a delivery
    theirs, _secret = await create_webhook(other_tenant.admin, receiver.endpoint("/theirs"))
    await create_lead(other_tenant.admin)
    [their_delivery] = await deliveries(other_tenant.admin)
    # when our admin lists, looks up and tries to change them
    listed = (await admin.data(WEBHOOKS))["webhooks"]
    ours_delivered = await deliveries(admin)
    found = await admin.data(
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": theirs["id"], "b": their_delivery["id"]},
    )
    changed = (
        await admin.data(UPDATE_WEBHOOK, {"input": {"webhookId": theirs["id"], "enabled": False}})
    )["updateWebhook"]
    # then nothing of theirs shows, and their endpoint is untouched
    assert (listed, ours_delivered) == ([], [])
    assert found == {"a": None, "b": None}
    assert [e["code"] for e in changed["userErrors"]] == ["NOT_FOUND"]
    [still] = (await other_tenant.admin.data(WEBHOOKS))["webhooks"]
    assert still["enabled"] is True
