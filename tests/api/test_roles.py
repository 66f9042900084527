"""Each role may use exactly the root operations the table below allows.

A refused field is a GraphQL error with `extensions.code: FORBIDDEN`; its resolver never
runs, so a refused mutation changes nothing (an admin re-reads the whole pipeline to
check). The table is written out by hand, not derived from domain/access.py, so a wrong
grant there fails here.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import build_schema
from sqlalchemy import text
from strawberry.types.base import StrawberryObjectDefinition

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.records import UserRecord
from domain.access import Role
from domain.global_ids import to_global_id
from schema.root import schema
from services import api_keys, users
from services.scope import Scope
from settings import PROJECT_ROOT
from tests.api.operations import Json, create_lead
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.factories import closed_history, eligible_lead, transferred_lead

ADMIN_SCOPE = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
CONTRACT = PROJECT_ROOT.parent / "shared" / "api.graphql"

ROLES = (Role.ADMIN, Role.MANAGER, Role.SALES, Role.VIEWER)
Y, N = True, False

# fmt: off
MATRIX: dict[str, tuple[bool, bool, bool, bool]] = {
    #                     ADMIN MANAGER SALES VIEWER
    "leads":             (Y,    Y,      Y,    Y),
    "lead":              (Y,    Y,      Y,    Y),
    "sales":             (Y,    Y,      Y,    Y),
    "sale":              (Y,    Y,      Y,    Y),
    "pipeline":          (Y,    Y,      Y,    Y),
    "node":              (Y,    Y,      Y,    Y),
    "createLead":        (Y,    Y,      N,    N),
    "updateLead":        (Y,    Y,      N,    N),
    "changeLeadStage":   (Y,    Y,      N,    N),
    "recordLeadMessage": (Y,    Y,      N,    N),
    "analyzeLead":       (Y,    Y,      N,    N),
    "transferLead":      (Y,    Y,      N,    N),
    "changeSaleStage":   (Y,    N,      Y,    N),
    # Beyond the contract: webhooks, for admins only (MANAGE_WEBHOOKS).
    "webhooks":              (Y,    N,      N,    N),
    "webhookDeliveries":     (Y,    N,      N,    N),
    "createWebhook":         (Y,    N,      N,    N),
    "updateWebhook":         (Y,    N,      N,    N),
    "deleteWebhook":         (Y,    N,      N,    N),
    "rotateWebhookSecret":   (Y,    N,      N,    N),
    "redeliverWebhookEvent": (Y,    N,      N,    N),
    # Beyond the contract: what AI scoring cost, for admins and managers (VIEW_AI_USAGE).
    "aiUsage":               (Y,    Y,      N,    N),
    # Beyond the contract: the tenant's scorer (VIEW_AI_USAGE to read, MANAGE_SCORING to set).
    "scorerSettings":        (Y,    Y,      N,    N),
    "chooseScorer":          (Y,    N,      N,    N),
    "trainScorer":           (Y,    N,      N,    N),
    # Beyond the contract: bringing leads in from CSV (IMPORT_LEADS).
    "importLeads":           (Y,    Y,      N,    N),
}
# fmt: on


def allowed(role: Role, field: str) -> bool:
    return MATRIX[field][ROLES.index(role)]


# ---------------------------------------------------------------- the operations

# Everything a mutation can change, as an admin sees it.
WORLD = """
{
  leads(first: 100) {
    totalCount
    edges {
      node {
        id name version stage messageCount updatedAt
        latestAnalysis { id }
        sale { id stage version updatedAt }
      }
    }
  }
  webhooks { id url description previousSecretExpiresAt }
  webhookDeliveries(first: 100) { totalCount }
  scorerSettings { chosen learnedModel { version } }
}
"""
# Root fields this API adds to the contract; the table covers them too.
ADDITIONS = {
    "webhooks",
    "webhookDeliveries",
    "createWebhook",
    "updateWebhook",
    "deleteWebhook",
    "rotateWebhookSecret",
    "redeliverWebhookEvent",
    "aiUsage",
    "scorerSettings",
    "chooseScorer",
    "trainScorer",
    "importLeads",
}
# example.com's address: public, so the session's server accepts it as a webhook URL.
# Nothing is sent there: no worker runs in these tests.
PUBLIC_URL = "https://93.184.215.14/hooks/crm"

Prepare = Callable[[GraphQLClient], Awaitable[Json]]


async def _nothing(_gql: GraphQLClient) -> Json:
    return {}


async def _history(gql: GraphQLClient) -> Json:
    """Just enough closed leads to train the learned scorer on."""
    await closed_history(gql, wins=5, losses=5)
    return {}


async def _a_lead(gql: GraphQLClient) -> Json:
    return {"id": (await create_lead(gql))["id"]}


async def _a_sale(gql: GraphQLClient) -> Json:
    _lead, sale = await transferred_lead(gql, messages=1)
    return {"id": sale["id"]}


async def _a_webhook(gql: GraphQLClient) -> Json:
    made = await gql.data(
        "mutation($url: String!) { createWebhook(input: {url: $url, eventTypes: [LEAD_CREATED]}) "
        "{ webhook { id } } }",
        {"url": PUBLIC_URL},
    )
    webhook: Json = made["createWebhook"]["webhook"]
    return webhook


async def _a_delivery(gql: GraphQLClient) -> Json:
    await _a_webhook(gql)
    await create_lead(gql)
    found = await gql.data("{ webhookDeliveries(first: 1) { edges { node { id } } } }")
    delivery: Json = found["webhookDeliveries"]["edges"][0]["node"]
    return delivery


def _input(target: Prepare, id_as: str | None = None, **values: Any) -> Prepare:
    """The mutation's `input`: `values`, plus the id of what `target` made as `id_as`."""

    async def prepare(gql: GraphQLClient) -> Json:
        made = await target(gql)
        return {"input": {**({id_as: made["id"]} if id_as else {}), **values}}

    return prepare


def _for_lead(**values: Any) -> Prepare:
    return _input(_a_lead, "leadId", **values)


async def _an_eligible_lead(gql: GraphQLClient) -> Json:
    return {"id": (await eligible_lead(gql, messages=1))["id"]}


@dataclass(frozen=True)
class Operation:
    field: str
    document: str
    prepare: Prepare  # run by an admin: the variables, and whatever they point at

    @property
    def is_mutation(self) -> bool:
        return self.document.lstrip().startswith("mutation")


def _mutation(field: str, input_type: str, prepare: Prepare) -> Operation:
    document = (
        f"mutation ($input: {input_type}!) "
        f"{{ {field}(input: $input) {{ userErrors {{ code message field }} }} }}"
    )
    return Operation(field, document, prepare)


OPERATIONS = [
    Operation("leads", "{ leads(first: 10) { totalCount edges { node { id } } } }", _a_lead),
    Operation("lead", "query ($id: ID!) { lead(id: $id) { id } }", _a_lead),
    Operation("sales", "{ sales(first: 10) { totalCount edges { node { id } } } }", _a_sale),
    Operation("sale", "query ($id: ID!) { sale(id: $id) { id } }", _a_sale),
    Operation("pipeline", "{ pipeline { leadsByStage { stage count } } }", _nothing),
    Operation("node", "query ($id: ID!) { node(id: $id) { id } }", _a_lead),
    _mutation(
        "createLead", "CreateLeadInput", _input(_nothing, name="Ada Lovelace", source="PARTNER")
    ),
    _mutation("updateLead", "UpdateLeadInput", _for_lead(name="Grace Hopper")),
    _mutation("changeLeadStage", "ChangeLeadStageInput", _for_lead(stage="CONTACTED")),
    _mutation(
        "recordLeadMessage", "RecordLeadMessageInput", _for_lead(direction="INBOUND", text="Hi")
    ),
    _mutation("analyzeLead", "AnalyzeLeadInput", _for_lead()),
    _mutation("transferLead", "TransferLeadInput", _input(_an_eligible_lead, "leadId")),
    _mutation("changeSaleStage", "ChangeSaleStageInput", _input(_a_sale, "saleId", stage="KYC")),
    Operation("aiUsage", "{ aiUsage(period: LAST_7_DAYS) { scorers { calls } } }", _nothing),
    Operation("scorerSettings", "{ scorerSettings { active } }", _nothing),
    Operation(
        "chooseScorer",
        "mutation { chooseScorer(input: {scorer: HEURISTIC}) { userErrors { code } } }",
        _nothing,
    ),
    Operation("trainScorer", "mutation { trainScorer { userErrors { code } } }", _history),
    Operation(
        "importLeads",
        'mutation { importLeads(input: {csv: "name,source\\nAda,partner\\n"}) '
        "{ report { created } userErrors { code } } }",
        _nothing,
    ),
    Operation("webhooks", "{ webhooks { id } }", _a_webhook),
    Operation(
        "webhookDeliveries",
        "{ webhookDeliveries { totalCount edges { node { id } } } }",
        _a_delivery,
    ),
    _mutation(
        "createWebhook",
        "CreateWebhookInput",
        _input(_nothing, url=PUBLIC_URL, eventTypes=["LEAD_CREATED"]),
    ),
    _mutation(
        "updateWebhook", "UpdateWebhookInput", _input(_a_webhook, "webhookId", description="x")
    ),
    _mutation("deleteWebhook", "DeleteWebhookInput", _input(_a_webhook, "webhookId")),
    _mutation("rotateWebhookSecret", "RotateWebhookSecretInput", _input(_a_webhook, "webhookId")),
    _mutation(
        "redeliverWebhookEvent", "RedeliverWebhookEventInput", _input(_a_delivery, "deliveryId")
    ),
]


# ---------------------------------------------------------------- one user per role


class RoleClients:
    """A user of each role with a key, made through the services once per module."""

    def __init__(self, db: Database, server_url: str) -> None:
        self.db = db
        self._url = server_url
        self._user_ids: list[int] = []
        self._http: list[httpx.AsyncClient] = []
        self.by_role: dict[Role, GraphQLClient] = {}

    async def user(self, email: str, role: Role) -> tuple[UserRecord, GraphQLClient]:
        user = await users.create_user(db=self.db, scope=ADMIN_SCOPE, email=email, role=role)
        self._user_ids.append(user.id)
        own = Scope(tenant_id=user.tenant_id, actor=email, user_id=user.id, role=role)
        issued = await api_keys.issue_key(db=self.db, scope=own, name="roles")
        client = httpx.AsyncClient(base_url=self._url, timeout=30, headers=bearer(issued.secret))
        self._http.append(client)
        return user, GraphQLClient(client)

    async def close(self) -> None:
        for client in self._http:
            await client.aclose()
        ids = {"ids": self._user_ids}
        async with self.db.transaction() as conn:
            await conn.execute(text("DELETE FROM api_keys WHERE user_id = ANY(:ids)"), ids)
            await conn.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), ids)


@pytest.fixture(scope="module")
async def clients(live_server: LiveServer, migrated: str) -> AsyncIterator[RoleClients]:
    made = RoleClients(open_database(migrated, pool_size=1), live_server.url)
    for role in ROLES:
        _user, made.by_role[role] = await made.user(f"{role.value}@roles.example.com", role)
    yield made
    await made.close()
    await made.db.dispose()


def assert_forbidden(body: Json, field: str) -> None:
    """One FORBIDDEN error at the field, and nothing of the field's value comes back."""
    assert "errors" in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", error
    assert error["path"] == [field]
    assert (body["data"] or {}).get(field) is None


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize(
    ("operation", "role"),
    [(operation, role) for operation in OPERATIONS for role in ROLES],
    ids=[f"{operation.field}-{role.name}" for operation in OPERATIONS for role in ROLES],
)
async def test_a_role_may_use_an_operation_only_as_the_table_says(
    gql: GraphQLClient, clients: RoleClients, operation: Operation, role: Role
) -> None:
    # given what the operation acts on, made by an admin
    variables = await operation.prepare(gql)
    before = await gql.data(WORLD)
    # when a user of the role sends it
    body = await clients.by_role[role](operation.document, variables)
    # then it runs if the table allows it, and is FORBIDDEN otherwise
    after = await gql.data(WORLD)
    if allowed(role, operation.field):
        assert "errors" not in body, body["errors"]
        result = body["data"][operation.field]
        assert result
        if operation.is_mutation:
            assert result["userErrors"] == []
            assert after != before
    else:
        assert_forbidden(body, operation.field)
        assert after == before


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER], ids=lambda role: role.name)
async def test_a_refusal_does_not_tell_whether_the_lead_exists(
    clients: RoleClients, role: Role
) -> None:
    # given a role that may not work leads, and a lead id that does not exist
    missing = {"input": {"leadId": to_global_id("Lead", 9_999_999), "name": "Mallory"}}
    update = next(operation for operation in OPERATIONS if operation.field == "updateLead")
    # when it tries to update that lead
    body = await clients.by_role[role](update.document, missing)
    # then it hears FORBIDDEN, not NOT_FOUND
    assert_forbidden(body, "updateLead")


@pytest.mark.parametrize(
    ("was", "becomes"),
    [(Role.VIEWER, Role.MANAGER), (Role.MANAGER, Role.VIEWER)],
    ids=["promoted", "demoted"],
)
async def test_a_role_change_applies_to_the_next_request(
    gql: GraphQLClient, clients: RoleClients, was: Role, becomes: Role
) -> None:
    # given a user of one role, and a lead to change
    user, client = await clients.user(f"{was.value}-to-{becomes.value}@roles.example.com", was)
    move = next(operation for operation in OPERATIONS if operation.field == "changeLeadStage")
    variables = await move.prepare(gql)
    # when an admin changes the user's role
    await users.update_user_role(db=clients.db, scope=ADMIN_SCOPE, user_id=user.id, role=becomes)
    # then the same key's next request is judged by the new role
    body = await client(move.document, variables)
    if allowed(becomes, move.field):
        assert "errors" not in body, body["errors"]
        assert body["data"][move.field]["userErrors"] == []
    else:
        assert_forbidden(body, move.field)


# ---------------------------------------------------------------- the table is complete


def test_the_table_has_a_row_for_every_root_field_of_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    roots = [contract.query_type, contract.mutation_type]
    fields = {name for root in roots if root is not None for name in root.fields}
    assert set(MATRIX) == fields | ADDITIONS
    assert {operation.field for operation in OPERATIONS} == fields | ADDITIONS


def test_every_root_field_declares_the_permission_it_needs() -> None:
    # A root field without one would be open to every caller with a key, a viewer too.
    open_fields = []
    for name in ("Query", "Mutation"):
        root = schema.get_type_by_name(name)
        assert isinstance(root, StrawberryObjectDefinition)
        open_fields += [
            f"{name}.{field.name}" for field in root.fields if not field.permission_classes
        ]
    assert open_fields == []
