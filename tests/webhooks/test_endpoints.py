"""Admins manage endpoints: the secret is shown once, every change is audited, bad input is
a userError, and nobody else may see or touch them."""

import asyncio
from typing import Any

import pytest

from domain.access import Role
from services.webhooks.endpoints import MAX_WEBHOOKS_PER_TENANT
from tests.conftest import GraphQLClient, UserClient
from tests.webhooks.conftest import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    ROTATE_SECRET,
    UPDATE_WEBHOOK,
    WEBHOOKS,
    Json,
    Receiver,
    create_lead,
    create_webhook,
    deliveries,
    ok,
)

AUDIT = """
query { auditLog(first: 50, filter: {entityType: "Webhook"}) {
  edges { node { action entityId actor changes } }
} }
"""


def codes(payload: Json) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def _create(gql: GraphQLClient, **given: Any) -> Json:
    fields = {"url": "http://127.0.0.1:9/hook", "eventTypes": ["LEAD_CREATED"], **given}
    payload: Json = (await gql.data(CREATE_WEBHOOK, {"input": fields}))["createWebhook"]
    return payload


async def test_the_secret_is_shown_once_and_never_again(admin: GraphQLClient) -> None:
    # when an admin creates an endpoint
    payload = ok(await _create(admin, description="CRM sync"))
    secret = payload["secret"]
    # then the payload has its secret, and the endpoint as asked
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    webhook = payload["webhook"]
    assert webhook["eventTypes"] == ["LEAD_CREATED"]
    assert (webhook["enabled"], webhook["description"]) == (True, "CRM sync")
    # and no field of the API shows it again: not the list, not node(), not the audit log
    fields = await admin.data('{ __type(name: "Webhook") { fields { name } } }')
    names = [f["name"] for f in fields["__type"]["fields"]]
    assert [name for name in names if "secret" in name.lower()] == ["previousSecretExpiresAt"]
    listed = await admin("{ webhooks { id url } }")
    found = await admin("query($id: ID!) { node(id: $id) { id } }", {"id": webhook["id"]})
    audited = await admin(AUDIT)
    for body in (listed, found, audited):
        assert secret not in str(body)


async def test_rotating_gives_a_new_secret_once_and_keeps_the_old_one_signing_a_day(
    admin: GraphQLClient,
) -> None:
    # given an endpoint
    webhook, old = await create_webhook(admin, "http://127.0.0.1:9/hook")
    # when its secret is rotated
    rotated = ok(
        (await admin.data(ROTATE_SECRET, {"input": {"webhookId": webhook["id"]}}))[
            "rotateWebhookSecret"
        ]
    )
    # then a new secret comes back once, and the old one signs for about a day more
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != old
    assert rotated["webhook"]["previousSecretExpiresAt"] > rotated["webhook"]["createdAt"]
    # and the audit log tells when the old one stops, but neither secret
    [rotation] = [e["node"] for e in (await admin.data(AUDIT))["auditLog"]["edges"]][:1]
    assert rotation["action"] == "webhook.secret_rotated"
    assert set(rotation["changes"]) == {"previousSecretExpiresAt"}
    assert old not in str(rotation)
    assert rotated["secret"] not in str(rotation)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"eventTypes": []}, "eventTypes"),
        ({"url": ""}, "url"),
        ({"url": "   "}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "http://127.0.0.1:9/" + "x" * 2000}, "url"),
        ({"url": "http://127.0.0.1:99999/"}, "url"),
        ({"description": "x" * 501}, "description"),
        ({"description": "two\nlines"}, "description"),
    ],
    ids=[
        "no-event-types",
        "empty-url",
        "blank-url",
        "not-a-url",
        "ftp",
        "too-long-url",
        "bad-port",
        "long-description",
        "multiline-description",
    ],
)
async def test_bad_input_is_a_userError_and_creates_nothing(
    admin: GraphQLClient, given: Json, field: str
) -> None:
    # when an admin creates an endpoint with bad input
    payload = await _create(admin, **given)
    # then it is refused at that field, and there is no endpoint
    assert codes(payload) == [("VALIDATION_FAILED", ["input", field])]
    assert (payload["webhook"], payload["secret"]) == (None, None)
    assert (await admin.data(WEBHOOKS))["webhooks"] == []


async def test_a_tenant_has_a_bounded_number_of_endpoints(admin: GraphQLClient) -> None:
    # given as many endpoints as a tenant may have
    for number in range(MAX_WEBHOOKS_PER_TENANT):
        ok(await _create(admin, url=f"http://127.0.0.1:9/hook/{number}"))
    # when one more is asked for, then it is refused
    assert codes(await _create(admin)) == [("VALIDATION_FAILED", None)]


async def test_creates_at_once_never_take_a_tenant_past_its_bound(admin: GraphQLClient) -> None:
    # given a tenant five endpoints short of its bound
    room, asked = 5, 12
    for number in range(MAX_WEBHOOKS_PER_TENANT - room):
        ok(await _create(admin, url=f"http://127.0.0.1:9/hook/{number}"))
    # when more creates than that arrive at once
    payloads = await asyncio.gather(
        *(_create(admin, url=f"http://127.0.0.1:9/race/{number}") for number in range(asked))
    )
    # then five are made, the rest refused, and the tenant has exactly its bound
    made = [p for p in payloads if p["userErrors"] == []]
    refused = [p for p in payloads if codes(p) == [("VALIDATION_FAILED", None)]]
    assert (len(made), len(refused)) == (room, asked - room)
    assert len((await admin.data(WEBHOOKS))["webhooks"]) == MAX_WEBHOOKS_PER_TENANT


async def test_an_update_changes_only_what_it_names_and_is_audited(admin: GraphQLClient) -> None:
    # given an endpoint with a description
    webhook, _secret = await create_webhook(admin, "http://127.0.0.1:9/hook", description="First")
    # when its URL and event types change, and then its description is cleared
    changed = ok(
        (
            await admin.data(
                UPDATE_WEBHOOK,
                {
                    "input": {
                        "webhookId": webhook["id"],
                        "url": "http://127.0.0.1:9/other",
                        "eventTypes": ["SALE_CREATED", "LEAD_CREATED", "SALE_CREATED"],
                    }
                },
            )
        )["updateWebhook"]
    )["webhook"]
    cleared = ok(
        (
            await admin.data(
                UPDATE_WEBHOOK, {"input": {"webhookId": webhook["id"], "description": None}}
            )
        )["updateWebhook"]
    )["webhook"]
    # then each change took, in the order of the EventType enum, without duplicates
    assert changed["url"] == "http://127.0.0.1:9/other"
    assert changed["eventTypes"] == ["LEAD_CREATED", "SALE_CREATED"]
    assert changed["description"] == "First"
    assert cleared["description"] is None
    # and the audit log has the creation and both changes, by the admin
    entries = [e["node"] for e in (await admin.data(AUDIT))["auditLog"]["edges"]]
    assert [e["action"] for e in entries] == [
        "webhook.updated",
        "webhook.updated",
        "webhook.created",
    ]
    assert entries[1]["changes"]["eventTypes"] == {
        "before": "lead.created",
        "after": "lead.created, sale.created",
    }
    assert {e["entityId"] for e in entries} == {webhook["id"]}
    assert {e["actor"] for e in entries} == {"tests@crm.localhost"}


async def test_a_disabled_endpoint_gets_no_deliveries_until_enabled(admin: GraphQLClient) -> None:
    # given an endpoint an admin disabled
    webhook, _secret = await create_webhook(admin, "http://127.0.0.1:9/hook")
    disabled = ok(
        (
            await admin.data(
                UPDATE_WEBHOOK, {"input": {"webhookId": webhook["id"], "enabled": False}}
            )
        )["updateWebhook"]
    )["webhook"]
    assert disabled["disabledReason"] == "Disabled by tests@crm.localhost."
    # when an event happens, then no delivery is made for it
    await create_lead(admin, "While disabled")
    assert await deliveries(admin) == []
    # when it is enabled again, then the next event is delivered
    ok(
        (
            await admin.data(
                UPDATE_WEBHOOK, {"input": {"webhookId": webhook["id"], "enabled": True}}
            )
        )["updateWebhook"]
    )
    await create_lead(admin, "After")
    assert [d["status"] for d in await deliveries(admin)] == ["PENDING"]


async def test_deleting_an_endpoint_removes_it_and_its_deliveries(admin: GraphQLClient) -> None:
    # given an endpoint with a delivery
    webhook, _secret = await create_webhook(admin, "http://127.0.0.1:9/hook")
    await create_lead(admin)
    assert len(await deliveries(admin)) == 1
    # when it is deleted
    deleted = ok(
        (await admin.data(DELETE_WEBHOOK, {"input": {"webhookId": webhook["id"]}}))["deleteWebhook"]
    )
    # then it and its deliveries are gone, and deleting it again finds nothing
    assert deleted["deletedWebhookId"] == webhook["id"]
    assert (await admin.data(WEBHOOKS))["webhooks"] == []
    assert await deliveries(admin) == []
    again = (await admin.data(DELETE_WEBHOOK, {"input": {"webhookId": webhook["id"]}}))[
        "deleteWebhook"
    ]
    assert codes(again) == [("NOT_FOUND", ["input", "webhookId"])]
    actions = [e["node"]["action"] for e in (await admin.data(AUDIT))["auditLog"]["edges"]]
    assert actions == ["webhook.deleted", "webhook.created"]


@pytest.mark.parametrize(
    "operation",
    [UPDATE_WEBHOOK, DELETE_WEBHOOK, ROTATE_SECRET],
    ids=["update", "delete", "rotate"],
)
async def test_an_id_of_another_type_is_a_userError(
    admin: GraphQLClient, receiver: Receiver, operation: str
) -> None:
    # given the ID of a lead, not a webhook
    lead_id = await create_lead(admin)
    # when a webhook mutation gets it
    body = await admin(operation, {"input": {"webhookId": lead_id}})
    # then it is refused at that field, with no GraphQL error
    assert "errors" not in body
    [payload] = body["data"].values()
    assert codes(payload) == [("VALIDATION_FAILED", ["input", "webhookId"])]


async def test_a_malformed_filter_of_the_delivery_list_is_a_bad_request(
    admin: GraphQLClient,
) -> None:
    body = await admin(
        "query($id: ID) { webhookDeliveries(webhookId: $id) { totalCount } }", {"id": "nope"}
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES, Role.VIEWER], ids=lambda r: r.name)
async def test_only_admins_see_endpoints_even_by_id(
    admin: GraphQLClient, gql_as: UserClient, role: Role
) -> None:
    # given an endpoint with a delivery, and a user of another role
    webhook, _secret = await create_webhook(admin, "http://127.0.0.1:9/hook")
    await create_lead(admin)
    [delivery] = await deliveries(admin)
    user = await gql_as(f"{role.value}@hooks.example", role)
    # when the user lists endpoints, or asks node() for one or its delivery
    listed = await user("{ webhooks { id } }")
    by_id = await user.data(
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": webhook["id"], "b": delivery["id"]},
    )
    # then the list is FORBIDDEN and neither is found
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_id == {"a": None, "b": None}
