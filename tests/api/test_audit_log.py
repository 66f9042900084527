"""The audit log over HTTP: every change appends who made it, to what, and what changed;
only admins read it; it is the tenant's own; and the app cannot rewrite it."""

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database, create_engine
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from domain.access import Role
from domain.enums import LeadSource
from domain.global_ids import to_global_id
from services import leads
from services.scope import Scope
from tests.api.operations import (
    CREATE_LEAD,
    Json,
    analyze,
    change_sale_stage,
    change_stage,
    codes,
    create_lead,
    database_id,
    mutate,
    ok,
    record_message,
    transfer,
    update_lead,
)
from tests.conftest import TEST_ADMIN_EMAIL, GraphQLClient, LiveServer, UserClient, bearer
from tests.factories import eligible_lead, lead_at_stage, sale_at_stage
from tests.tenants import second_tenant

DOMAIN = "audit.test"  # users these tests make have an e-mail here; see _forget
ENTRY_FIELDS = "id action entityType entityId actor apiKeyPrefix requestId changes at"
AUDIT_LOG = f"""
query($first: Int, $after: String, $filter: AuditLogFilter) {{
  auditLog(first: $first, after: $after, filter: $filter) {{
    totalCount
    pageInfo {{ hasNextPage hasPreviousPage endCursor }}
    edges {{ cursor node {{ {ENTRY_FIELDS} }} }}
  }}
}}
"""
NODE = (
    f"query($id: ID!) {{ node(id: $id) {{ __typename ... on AuditEntry {{ {ENTRY_FIELDS} }} }} }}"
)
ERRORS = "userErrors { code }"
CREATE_USER = f"""
mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ user {{ id }} {ERRORS} }} }}
"""
UPDATE_USER_ROLE = f"""
mutation($input: UpdateUserRoleInput!) {{
  updateUserRole(input: $input) {{ user {{ id }} {ERRORS} }}
}}
"""
DEACTIVATE_USER = f"""
mutation($input: DeactivateUserInput!) {{
  deactivateUser(input: $input) {{ user {{ id }} {ERRORS} }}
}}
"""
CREATE_API_KEY = f"""
mutation($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{ secret apiKey {{ id prefix revokedAt }} {ERRORS} }}
}}
"""
REVOKE_API_KEY = f"""
mutation($input: RevokeApiKeyInput!) {{
  revokeApiKey(input: $input) {{ apiKey {{ id prefix revokedAt }} {ERRORS} }}
}}
"""
ME = "{ me { id } }"
# The session's admin and its key were logged when the first test began; leave them out.
LEADS_ONLY = {"entityType": "Lead"}

_request_ids = itertools.count(1)
_emails = itertools.count(1)


def _email() -> str:
    return f"person{next(_emails)}@{DOMAIN}"


@pytest.fixture(autouse=True)
async def _forget(migrated: str) -> AsyncIterator[None]:
    """Users and keys outlive the pipeline's truncation: drop the ones these tests made."""
    yield
    engine = create_engine(migrated, pool_size=1)
    made = {"made": f"%@{DOMAIN}"}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DELETE FROM api_keys WHERE name LIKE 'audit-test%' OR user_id IN "
                "(SELECT id FROM users WHERE email LIKE :made)"
            ),
            made,
        )
        await conn.execute(text("DELETE FROM users WHERE email LIKE :made"), made)
    await engine.dispose()


class Tagged(GraphQLClient):
    """A client whose every request carries one X-Request-ID."""

    def __init__(self, gql: GraphQLClient) -> None:
        super().__init__(gql.http)
        self.request_id = f"audit-test-{next(_request_ids)}"

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        return await super().__call__(
            query, variables, **{"X-Request-ID": self.request_id, **headers}
        )


async def audit_log(gql: GraphQLClient, **arguments: Any) -> Json:
    connection: Json = (await gql.data(AUDIT_LOG, arguments))["auditLog"]
    return connection


async def entries_of(gql: GraphQLClient, request_id: str) -> list[Json]:
    """The entries one request made, newest first."""
    edges = (await audit_log(gql, first=100))["edges"]
    return [edge["node"] for edge in edges if edge["node"]["requestId"] == request_id]


def change(before: Any, after: Any) -> Json:
    return {"before": before, "after": after}


@dataclass(frozen=True)
class Entry:
    """What one audit entry must say (who made it is checked for all alike)."""

    action: str
    entity_type: str
    entity_id: str
    changes: Json


# given, then when (with the tagged client): the entries expected, newest first
Act = Callable[[GraphQLClient, Tagged], Awaitable[list[Entry]]]


async def _create_lead(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await create_lead(when, name="Ada Lovelace", company="Analytical")
    return [
        Entry(
            "lead.created",
            "Lead",
            lead["id"],
            {
                "name": change(None, "Ada Lovelace"),
                "company": change(None, "Analytical"),
                "source": change(None, "partner"),
                "stage": change(None, "new"),
                "messageCount": change(None, 0),
                "version": change(None, 1),
            },
        )
    ]


async def _update_lead(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await create_lead(given, name="Ada Lovelace", email="ada@example.com")
    ok(await update_lead(when, lead["id"], name="Ada King", email=None, phone="+44 20 7946 0000"))
    return [
        Entry(
            "lead.updated",
            "Lead",
            lead["id"],
            {
                "name": change("Ada Lovelace", "Ada King"),
                "email": change("ada@example.com", None),
                "phone": change(None, "+44 20 7946 0000"),
                "version": change(1, 2),
            },
        )
    ]


async def _change_lead_stage(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await create_lead(given)
    ok(await change_stage(when, lead["id"], "CONTACTED"))
    changes = {"stage": change("new", "contacted"), "version": change(1, 2)}
    return [Entry("lead.stage_changed", "Lead", lead["id"], changes)]


async def _lose_lead(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await lead_at_stage(given, "CONTACTED")
    ok(await change_stage(when, lead["id"], "LOST", reason="No budget"))
    changes = {
        "stage": change("contacted", "lost"),
        "lostReason": change(None, "No budget"),
        "version": change(2, 3),
    }
    return [Entry("lead.stage_changed", "Lead", lead["id"], changes)]


async def _record_lead_message(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await create_lead(given)
    ok(await record_message(when, lead["id"]))
    changes = {"messageCount": change(0, 1), "version": change(1, 2)}
    return [Entry("lead.message_recorded", "Lead", lead["id"], changes)]


async def _analyze_lead(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await create_lead(given, businessDomain="fintech")
    analysis = ok(await analyze(when, lead["id"]))["analysis"]
    changes = {
        "score": change(None, analysis["score"]),
        "recommendation": change(None, analysis["recommendation"].lower()),
        "scorer": change(None, analysis["scorer"]),
    }
    return [Entry("lead.analyzed", "Lead", lead["id"], changes)]


async def _transfer_lead(given: GraphQLClient, when: Tagged) -> list[Entry]:
    lead = await eligible_lead(given, messages=1)
    sale = ok(await transfer(when, lead["id"]))["sale"]
    version = lead["version"]
    return [
        Entry(
            "sale.created",
            "Sale",
            sale["id"],
            {"stage": change(None, "new"), "version": change(None, 1)},
        ),
        Entry(
            "lead.transferred",
            "Lead",
            lead["id"],
            {"stage": change("qualified", "transferred"), "version": change(version, version + 1)},
        ),
    ]


async def _pay_sale(given: GraphQLClient, when: Tagged) -> list[Entry]:
    sale = await sale_at_stage(given, "AGREEMENT")
    ok(await change_sale_stage(when, sale["id"], "PAID", amount="1250.50", currency="EUR"))
    changes = {
        "stage": change("agreement", "paid"),
        "amount": change(None, "1250.50"),
        "currency": change(None, "EUR"),
        "version": change(sale["version"], sale["version"] + 1),
    }
    return [Entry("sale.stage_changed", "Sale", sale["id"], changes)]


async def _create_user(given: GraphQLClient, when: Tagged) -> list[Entry]:
    email = _email()
    values = {"email": email, "role": "VIEWER", "name": "Grace"}
    user = ok(await mutate(when, CREATE_USER, "createUser", values))["user"]
    changes = {
        "email": change(None, email),
        "name": change(None, "Grace"),
        "role": change(None, "viewer"),
        "active": change(None, True),
    }
    return [Entry("user.created", "User", user["id"], changes)]


async def _new_user(gql: GraphQLClient) -> str:
    values = {"email": _email(), "role": "VIEWER"}
    user_id: str = ok(await mutate(gql, CREATE_USER, "createUser", values))["user"]["id"]
    return user_id


async def _change_user_role(given: GraphQLClient, when: Tagged) -> list[Entry]:
    user_id = await _new_user(given)
    values = {"userId": user_id, "role": "MANAGER"}
    ok(await mutate(when, UPDATE_USER_ROLE, "updateUserRole", values))
    return [Entry("user.role_changed", "User", user_id, {"role": change("viewer", "manager")})]


async def _deactivate_user(given: GraphQLClient, when: Tagged) -> list[Entry]:
    user_id = await _new_user(given)
    ok(await mutate(when, DEACTIVATE_USER, "deactivateUser", {"userId": user_id}))
    return [Entry("user.deactivated", "User", user_id, {"active": change(True, False)})]


async def _issue_key(given: GraphQLClient, when: Tagged) -> list[Entry]:
    key = ok(await mutate(when, CREATE_API_KEY, "createApiKey", {"name": "audit-test key"}))
    changes = {
        "name": change(None, "audit-test key"),
        "prefix": change(None, key["apiKey"]["prefix"]),
        "owner": change(None, TEST_ADMIN_EMAIL),
    }
    return [Entry("api_key.issued", "ApiKey", key["apiKey"]["id"], changes)]


async def _revoke_key(given: GraphQLClient, when: Tagged) -> list[Entry]:
    issued = ok(await mutate(given, CREATE_API_KEY, "createApiKey", {"name": "audit-test key"}))
    key_id = issued["apiKey"]["id"]
    revoked = ok(await mutate(when, REVOKE_API_KEY, "revokeApiKey", {"apiKeyId": key_id}))
    changes = {"revokedAt": change(None, revoked["apiKey"]["revokedAt"])}
    return [Entry("api_key.revoked", "ApiKey", key_id, changes)]


MUTATIONS: dict[str, Act] = {
    "createLead": _create_lead,
    "updateLead": _update_lead,
    "changeLeadStage": _change_lead_stage,
    "changeLeadStage to LOST": _lose_lead,
    "recordLeadMessage": _record_lead_message,
    "analyzeLead": _analyze_lead,
    "transferLead": _transfer_lead,
    "changeSaleStage": _pay_sale,
    "createUser": _create_user,
    "updateUserRole": _change_user_role,
    "deactivateUser": _deactivate_user,
    "createApiKey": _issue_key,
    "revokeApiKey": _revoke_key,
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_each_mutation_appends_who_changed_what(
    gql: GraphQLClient, admin_key: str, mutation: str
) -> None:
    # given what the mutation needs; when it runs with an X-Request-ID
    when = Tagged(gql)
    expected = await MUTATIONS[mutation](gql, when)
    # then exactly its entries were appended (the transfer's two: the lead and its sale)
    entries = await entries_of(gql, when.request_id)
    found = [Entry(e["action"], e["entityType"], e["entityId"], e["changes"]) for e in entries]
    assert found == expected
    # and each names the caller, its key and its request
    prefix = admin_key.split("_")[1]
    for entry in entries:
        assert (entry["actor"], entry["apiKeyPrefix"], entry["requestId"]) == (
            TEST_ADMIN_EMAIL,
            prefix,
            when.request_id,
        )


async def test_the_entry_is_written_in_the_transaction_of_the_change(gql: GraphQLClient) -> None:
    # given a lead; when it is edited
    lead = await create_lead(gql)
    when = Tagged(gql)
    edited = ok(await update_lead(when, lead["id"], name="Ada King"))["lead"]
    # then the entry bears the change's own transaction time, to the microsecond
    [entry] = await entries_of(gql, when.request_id)
    assert entry["at"] == edited["updatedAt"]


async def test_the_secret_of_a_key_never_reaches_the_log(gql: GraphQLClient, migrated: str) -> None:
    # given a key just issued
    when = Tagged(gql)
    issued = ok(await mutate(when, CREATE_API_KEY, "createApiKey", {"name": "audit-test key"}))
    # when its entry is read, as the API shows it and as the table stores it
    [entry] = await entries_of(gql, when.request_id)
    engine = create_engine(migrated, pool_size=1)
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT changes::text FROM audit_log"))).scalars().all()
        secret_hash = (
            await conn.execute(
                text("SELECT secret_hash FROM api_keys WHERE prefix = :p"),
                {"p": issued["apiKey"]["prefix"]},
            )
        ).scalar_one()
    await engine.dispose()
    # then neither the secret, nor its hash, nor the secret part of the key is there
    secret_part = issued["secret"].split("_", 2)[2]  # the secret itself may hold "_"
    for text_seen in (json.dumps(entry), *stored):
        for hidden in (issued["secret"], secret_part, secret_hash):
            assert hidden not in text_seen


# given: set up what the mutation needs, and hand back the refused mutation (the "when")
Refusal = Callable[[Tagged], Awaitable[Json]]
Given = Callable[[GraphQLClient], Awaitable[Refusal]]


async def _bad_email(given: GraphQLClient) -> Refusal:
    values = {"name": "X", "source": "PARTNER", "email": "nope"}
    return lambda when: mutate(when, CREATE_LEAD, "createLead", values)


async def _skip_stage(given: GraphQLClient) -> Refusal:
    lead = await create_lead(given)
    return lambda when: change_stage(when, lead["id"], "QUALIFIED")


async def _stale_version(given: GraphQLClient) -> Refusal:
    lead = await create_lead(given)
    return lambda when: change_stage(when, lead["id"], "CONTACTED", expected_version=7)


async def _edit_lost(given: GraphQLClient) -> Refusal:
    lead = await lead_at_stage(given, "LOST")
    return lambda when: update_lead(when, lead["id"], name="Too late")


async def _message_lost(given: GraphQLClient) -> Refusal:
    lead = await lead_at_stage(given, "LOST")
    return lambda when: record_message(when, lead["id"])


async def _ineligible(given: GraphQLClient) -> Refusal:
    lead = await create_lead(given)
    return lambda when: transfer(when, lead["id"])


async def _unpaid(given: GraphQLClient) -> Refusal:
    sale = await sale_at_stage(given, "AGREEMENT")
    return lambda when: change_sale_stage(when, sale["id"], "PAID")


async def _deactivate_self(given: GraphQLClient) -> Refusal:
    me = (await given.data(ME))["me"]["id"]
    return lambda when: mutate(when, DEACTIVATE_USER, "deactivateUser", {"userId": me})


async def _taken_email(given: GraphQLClient) -> Refusal:
    values = {"email": TEST_ADMIN_EMAIL, "role": "VIEWER"}
    return lambda when: mutate(when, CREATE_USER, "createUser", values)


async def _revoke_unknown(given: GraphQLClient) -> Refusal:
    issued = ok(await mutate(given, CREATE_API_KEY, "createApiKey", {"name": "audit-test key"}))
    unknown = to_global_id("ApiKey", database_id(issued["apiKey"]["id"]) + 1000)
    return lambda when: mutate(when, REVOKE_API_KEY, "revokeApiKey", {"apiKeyId": unknown})


REFUSED: dict[str, Given] = {
    "createLead with a bad e-mail": _bad_email,
    "changeLeadStage skipping a stage": _skip_stage,
    "changeLeadStage with a stale version": _stale_version,
    "updateLead of a lost lead": _edit_lost,
    "recordLeadMessage of a lost lead": _message_lost,
    "transferLead of an ineligible lead": _ineligible,
    "changeSaleStage to PAID without an amount": _unpaid,
    "deactivateUser of oneself": _deactivate_self,
    "createUser with a taken e-mail": _taken_email,
    "revokeApiKey of an unknown key": _revoke_unknown,
}


@pytest.mark.parametrize("mutation", list(REFUSED))
async def test_a_refused_mutation_appends_nothing(gql: GraphQLClient, mutation: str) -> None:
    # given what the mutation needs, and the log as it then stands
    refusal = await REFUSED[mutation](gql)
    before = (await audit_log(gql, first=0))["totalCount"]
    # when the mutation is refused
    when = Tagged(gql)
    payload = await refusal(when)
    assert codes(payload), payload
    # then the log is as it was
    assert (await audit_log(gql, first=0))["totalCount"] == before


async def test_a_mutation_refused_by_role_appends_nothing(
    gql: GraphQLClient, gql_as: UserClient
) -> None:
    # given a viewer, and the log as it then stands
    viewer = await gql_as(f"viewer@{DOMAIN}", Role.VIEWER)
    before = (await audit_log(gql, first=0))["totalCount"]
    # when the viewer tries to create a lead
    body = await viewer(CREATE_LEAD, {"input": {"name": "X", "source": "PARTNER"}})
    # then it is FORBIDDEN, and the log is as it was
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert (await audit_log(gql, first=0))["totalCount"] == before


async def test_a_replayed_create_appends_nothing(gql: GraphQLClient) -> None:
    # given a lead created with an idempotency key
    values = {"name": "Once", "source": "PARTNER", "idempotencyKey": "audit-once"}
    first = ok(await mutate(gql, CREATE_LEAD, "createLead", values))["lead"]
    # when the same create is sent again
    when = Tagged(gql)
    again = ok(await mutate(when, CREATE_LEAD, "createLead", values))["lead"]
    # then it returns the first lead and the log has only the first create
    assert again["id"] == first["id"]
    assert await entries_of(gql, when.request_id) == []
    log = await audit_log(gql, filter={"entityId": first["id"]})
    assert [e["node"]["action"] for e in log["edges"]] == ["lead.created"]


async def test_a_change_that_changes_nothing_appends_nothing(gql: GraphQLClient) -> None:
    # given a revoked key
    issued = ok(await mutate(gql, CREATE_API_KEY, "createApiKey", {"name": "audit-test key"}))
    key_id = issued["apiKey"]["id"]
    ok(await mutate(gql, REVOKE_API_KEY, "revokeApiKey", {"apiKeyId": key_id}))
    # when it is revoked again
    when = Tagged(gql)
    ok(await mutate(when, REVOKE_API_KEY, "revokeApiKey", {"apiKeyId": key_id}))
    # then nothing changed, and nothing was logged
    assert await entries_of(gql, when.request_id) == []


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.MANAGER, False), (Role.SALES, False), (Role.VIEWER, False)],
)
async def test_only_admins_read_the_log(
    gql: GraphQLClient, gql_as: UserClient, role: Role, allowed: bool
) -> None:
    # given an entry, and a user with the role
    await create_lead(gql)
    [edge] = (await audit_log(gql, filter=LEADS_ONLY))["edges"]
    caller = await gql_as(f"reader-{role.value}@{DOMAIN}", role)
    # when the user asks for the log, and for the entry by its ID
    listed = await caller(AUDIT_LOG, {})
    node = await caller(NODE, {"id": edge["node"]["id"]})
    # then only an admin gets them; anyone else is FORBIDDEN, and the node reads as null
    if allowed:
        listed_ids = [e["node"]["id"] for e in listed["data"]["auditLog"]["edges"]]
        assert edge["node"]["id"] in listed_ids
        assert node["data"]["node"] == {"__typename": "AuditEntry", **edge["node"]}
    else:
        assert listed["data"] is None
        assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]
        assert node == {"data": {"node": None}}


async def test_the_log_pages_newest_first(gql: GraphQLClient) -> None:
    # given five entries: a lead created, then edited four times
    lead = await create_lead(gql, name="v0")
    for version in range(1, 5):
        ok(await update_lead(gql, lead["id"], name=f"v{version}"))
    # when the log is read two entries at a time
    names: list[str] = []
    pages: list[bool] = []
    after = None
    while True:
        page = await audit_log(gql, first=2, after=after, filter=LEADS_ONLY)
        assert page["totalCount"] == 5
        names += [e["node"]["changes"]["name"]["after"] for e in page["edges"]]
        pages.append(page["pageInfo"]["hasNextPage"])
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    # then every entry comes exactly once, newest first, over three pages
    assert names == ["v4", "v3", "v2", "v1", "v0"]
    assert pages == [True, True, False]


async def test_a_cursor_of_another_list_is_refused(gql: GraphQLClient) -> None:
    # given a cursor of the leads list
    await create_lead(gql)
    body = await gql("{ leads(first: 1) { pageInfo { endCursor } } }")
    cursor = body["data"]["leads"]["pageInfo"]["endCursor"]
    # when it is used to page the log; then the request is refused
    answer = await gql(AUDIT_LOG, {"after": cursor})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


FILTERS: dict[str, Callable[[Json, Json], tuple[Json, list[str]]]] = {
    "entityId": lambda ada, _grace: ({"entityId": ada["id"]}, ["lead.updated", "lead.created"]),
    "entityType": lambda _ada, _grace: ({"entityType": "Sale"}, []),
    "action": lambda _ada, _grace: (
        {"action": "lead.created"},
        ["lead.created", "lead.created"],
    ),
    "actor, any case": lambda _ada, _grace: (
        {"actor": TEST_ADMIN_EMAIL.upper(), "action": "lead.updated"},
        ["lead.updated"],
    ),
    "entityType and entityId disagree": lambda ada, _grace: (
        {"entityType": "Sale", "entityId": ada["id"]},
        [],
    ),
    "since": lambda _ada, grace: (
        {"entityType": "Lead", "since": grace["createdAt"]},
        ["lead.created"],
    ),
    "until": lambda _ada, grace: (
        {"entityType": "Lead", "until": grace["createdAt"]},
        ["lead.updated", "lead.created"],
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
async def test_the_log_filters(gql: GraphQLClient, name: str) -> None:
    # given Ada created and edited, then Grace created
    ada = await create_lead(gql, name="Ada")
    ok(await update_lead(gql, ada["id"], name="Ada King"))
    grace = await create_lead(gql, name="Grace")
    # when the log is filtered
    where, expected = FILTERS[name](ada, grace)
    log = await audit_log(gql, filter=where)
    # then only the matching entries come back
    assert [e["node"]["action"] for e in log["edges"]] == expected
    assert log["totalCount"] == len(expected)


async def test_a_malformed_entity_id_is_a_bad_request(gql: GraphQLClient) -> None:
    answer = await gql(AUDIT_LOG, {"filter": {"entityId": "not-an-id"}})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@dataclass(frozen=True)
class OtherTenant:
    tenant_id: int
    client: GraphQLClient


@pytest.fixture
async def other_tenant(migrated: str, live_server: LiveServer) -> AsyncIterator[OtherTenant]:
    """A second company on the same database, with a lead and an admin of its own."""
    async with second_tenant(migrated, "Other Co") as other:
        scope = Scope(tenant_id=other.tenant_id, actor="other@other.example", role=Role.ADMIN)
        await leads.create_lead(
            db=other.owner,
            scope=scope,
            new=leads.NewLead(name="Their Lead", source=LeadSource.PARTNER),
        )
        async with httpx.AsyncClient(
            base_url=live_server.url, headers=bearer(other.admin_key)
        ) as http:
            yield OtherTenant(other.tenant_id, GraphQLClient(http))


async def test_another_tenants_entries_are_invisible(
    gql: GraphQLClient, other_tenant: OtherTenant, app_db: Database
) -> None:
    # given entries in each of two tenants
    await create_lead(gql, name="Ours")
    theirs = await audit_log(other_tenant.client)
    assert {e["node"]["action"] for e in theirs["edges"]} >= {"lead.created", "user.created"}
    # when our admin reads the log, and asks for their entry by its ID
    ours = await audit_log(gql, filter=LEADS_ONLY)
    foreign = await gql.data(NODE, {"id": theirs["edges"][0]["node"]["id"]})
    # then only our entry shows, and theirs reads as null
    assert [e["node"]["changes"]["name"]["after"] for e in ours["edges"]] == ["Ours"]
    assert foreign == {"node": None}
    # and even SQL without a tenant filter sees only the acting tenant's entries
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.read() as conn:
            tenants = (await conn.execute(text("SELECT DISTINCT tenant_id FROM audit_log"))).all()
    assert tenants == [(DEFAULT_TENANT_ID,)]


TAMPERING = {
    "UPDATE": "UPDATE audit_log SET action = 'lead.forged'",
    "DELETE": "DELETE FROM audit_log",
    "TRUNCATE": "TRUNCATE audit_log",
}


@pytest.mark.parametrize("statement", list(TAMPERING))
async def test_the_app_role_cannot_rewrite_history(
    gql: GraphQLClient, app_db: Database, statement: str
) -> None:
    # given an entry
    await create_lead(gql)
    # when the app role, acting for the entry's tenant, tries to change or remove it
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction() as conn:
            await conn.execute(text(TAMPERING[statement]))
    # then it is refused, and the entry is as it was
    [edge] = (await audit_log(gql, filter=LEADS_ONLY))["edges"]
    assert edge["node"]["action"] == "lead.created"


async def test_the_app_role_may_append_and_read(app_db: Database) -> None:
    # given the app role acting for a tenant; when it appends an entry and reads it back
    with acting_for(DEFAULT_TENANT_ID):
        async with app_db.transaction() as conn:
            await conn.execute(
                text(
                    "INSERT INTO audit_log (tenant_id, action, entity_type, entity_id, changes) "
                    "VALUES (:t, 'test.appended', 'Lead', 1, '{}')"
                ),
                {"t": DEFAULT_TENANT_ID},
            )
        async with app_db.read() as conn:
            count = (
                await conn.execute(
                    text("SELECT count(*) FROM audit_log WHERE action = 'test.appended'")
                )
            ).scalar_one()
    # then it is there: the log is append-only, not closed
    assert count == 1
