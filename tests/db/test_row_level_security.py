"""Row Level Security: the app role sees only the tenant it acts for, even through SQL
that forgets the tenant filter, and guessed IDs of another tenant lead nowhere."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import APP_ROLE, acting_for
from domain.access import Role
from domain.enums import LeadSource
from domain.global_ids import to_global_id
from services import leads
from services.scope import Scope
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.tenants import second_tenant


@dataclass(frozen=True)
class OtherTenant:
    tenant_id: int
    lead_id: int
    lead_global_id: str
    client: GraphQLClient
    ids: dict[str, str]  # global IDs of one record of each kind in the other tenant


@pytest.fixture
async def other_tenant(migrated: str, live_server: LiveServer) -> AsyncIterator[OtherTenant]:
    """A second company on the same database, with one lead and an admin of its own."""
    async with second_tenant(migrated, "Other Co") as other:
        scope = Scope(tenant_id=other.tenant_id, actor="other@other.example", role=Role.ADMIN)
        lead = await leads.create_lead(
            db=other.owner,
            scope=scope,
            new=leads.NewLead(name="Their Secret Lead", source=LeadSource.PARTNER),
        )
        async with httpx.AsyncClient(
            base_url=live_server.url, headers=bearer(other.admin_key)
        ) as http:
            client = GraphQLClient(http)
            listed = await client.data("{ leads { edges { node { id } } } }")
            gid = listed["leads"]["edges"][0]["node"]["id"]
            ids = await _one_of_each(other.owner, other.tenant_id, lead.id)
            yield OtherTenant(other.tenant_id, lead.id, gid, client, ids)


async def _one_of_each(owner: Database, tenant_id: int, lead_id: int) -> dict[str, str]:
    """A sale (written straight in), and the admin, key and audit entry the set-up made."""
    async with owner.transaction() as conn:
        sale_id = (
            await conn.execute(
                text("INSERT INTO sales (tenant_id, lead_id) VALUES (:t, :l) RETURNING id"),
                {"t": tenant_id, "l": lead_id},
            )
        ).scalar_one()
        message_id = (
            await conn.execute(
                text(
                    "INSERT INTO lead_messages (tenant_id, lead_id, direction, channel) "
                    "VALUES (:t, :l, 'inbound', 'email') RETURNING id"
                ),
                {"t": tenant_id, "l": lead_id},
            )
        ).scalar_one()
        analysis_id = (
            await conn.execute(
                text(
                    "INSERT INTO lead_analyses (tenant_id, lead_id, score, recommendation, "
                    "reason, factors, input, scorer, latency_ms) VALUES (:t, :l, 0.5, "
                    "'continue_nurturing', 'x', '[]', '{}', 'heuristic', 1) RETURNING id"
                ),
                {"t": tenant_id, "l": lead_id},
            )
        ).scalar_one()
        first = {
            table: (
                await conn.execute(
                    text(f"SELECT min(id) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}
                )
            ).scalar_one()
            for table in ("users", "api_keys", "audit_log", "events")
        }
    return {
        "Sale": to_global_id("Sale", sale_id),
        "User": to_global_id("User", first["users"]),
        "ApiKey": to_global_id("ApiKey", first["api_keys"]),
        "AuditEntry": to_global_id("AuditEntry", first["audit_log"]),
        "Event": to_global_id("Event", first["events"]),
        "LeadMessage": to_global_id("LeadMessage", message_id),
        "LeadAnalysis": to_global_id("LeadAnalysis", analysis_id),
    }


async def _visible_leads(db: Database) -> list[str]:
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT name FROM leads"))  # no tenant filter at all
        return [row.name for row in rows]


async def test_sql_without_a_tenant_filter_sees_only_the_acting_tenant(
    gql: GraphQLClient, other_tenant: OtherTenant, app_db: Database
) -> None:
    # given a lead in each of two tenants
    await gql.data(
        'mutation { createLead(input: {name: "Our Lead", source: WEBSITE}) { lead { id } } }'
    )
    # when the app role runs SQL that names no tenant
    with acting_for(DEFAULT_TENANT_ID):
        ours = await _visible_leads(app_db)
    with acting_for(other_tenant.tenant_id):
        theirs = await _visible_leads(app_db)
    nobody = await _visible_leads(app_db)
    # then each tenant sees only its own rows, and no tenant sees nothing
    assert ours == ["Our Lead"]
    assert theirs == ["Their Secret Lead"]
    assert nobody == []


async def test_the_app_role_cannot_write_into_another_tenant(
    other_tenant: OtherTenant, app_db: Database
) -> None:
    # when the app role, acting for tenant 1, inserts a row marked as the other tenant's
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction() as conn:
            await conn.execute(
                text("INSERT INTO leads (tenant_id, name, source) VALUES (:t, 'x', 'other')"),
                {"t": other_tenant.tenant_id},
            )


async def test_the_app_role_neither_bypasses_rls_nor_owns_the_tables(app_db: Database) -> None:
    async with app_db.read() as conn:
        # the session logged in as the app role: there is no owner to switch back to
        session = (await conn.execute(text("SELECT session_user"))).scalar_one()
        await conn.execute(text("RESET ROLE"))
        role = (await conn.execute(text("SELECT current_user"))).scalar_one()
        bypass, superuser = (
            await conn.execute(
                text("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        owners = (
            (
                await conn.execute(
                    text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
                )
            )
            .scalars()
            .all()
        )
    assert (session, role) == (APP_ROLE, APP_ROLE)
    assert (bypass, superuser) == (False, False)
    assert APP_ROLE not in owners


GUESSES = {
    "lead": "query($id: ID!) { lead(id: $id) { name } }",
    "node": "query($id: ID!) { node(id: $id) { id } }",
}
CHANGES = {
    "updateLead": 'mutation($id: ID!) { updateLead(input: {leadId: $id, name: "Mine now"}) '
    "{ lead { id } userErrors { code } } }",
    "changeLeadStage": "mutation($id: ID!) { changeLeadStage(input: {leadId: $id, stage: LOST, "
    'reason: "x"}) { lead { id } userErrors { code } } }',
    "recordLeadMessage": "mutation($id: ID!) { recordLeadMessage(input: {leadId: $id, "
    "direction: INBOUND}) { lead { id } userErrors { code } } }",
    "analyzeLead": "mutation($id: ID!) { analyzeLead(input: {leadId: $id}) "
    "{ lead { id } userErrors { code } } }",
    "transferLead": "mutation($id: ID!) { transferLead(input: {leadId: $id}) "
    "{ lead { id } userErrors { code } } }",
}


@pytest.mark.parametrize("field", sorted(GUESSES))
async def test_a_guessed_foreign_id_reads_as_not_found(
    gql: GraphQLClient, other_tenant: OtherTenant, field: str
) -> None:
    data = await gql.data(GUESSES[field], {"id": other_tenant.lead_global_id})
    assert data[field] is None


@pytest.mark.parametrize("mutation", sorted(CHANGES))
async def test_a_guessed_foreign_id_cannot_be_changed(
    gql: GraphQLClient, other_tenant: OtherTenant, mutation: str
) -> None:
    # when tenant 1's admin aims a mutation at the other tenant's lead
    data = await gql.data(CHANGES[mutation], {"id": other_tenant.lead_global_id})
    # then it is not found, and the other tenant's lead is untouched
    assert data[mutation] == {"lead": None, "userErrors": [{"code": "NOT_FOUND"}]}
    theirs = await other_tenant.client.data(
        "query($id: ID!) { lead(id: $id) "
        "{ name stage version messageCount latestAnalysis { id } } }",
        {"id": other_tenant.lead_global_id},
    )
    assert theirs["lead"] == {
        "name": "Their Secret Lead",
        "stage": "NEW",
        "version": 1,
        "messageCount": 0,
        "latestAnalysis": None,
    }


@pytest.mark.parametrize(
    "kind", ["Sale", "User", "ApiKey", "AuditEntry", "Event", "LeadMessage", "LeadAnalysis"]
)
async def test_no_entry_point_reads_another_tenants_record(
    gql: GraphQLClient, other_tenant: OtherTenant, kind: str
) -> None:
    # given the global ID of a record of another tenant, guessed
    gid = other_tenant.ids[kind]
    # when tenant 1's admin asks node() for it, then it does not exist
    assert (await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid}))["node"] is None
    if kind == "Sale":
        assert (await gql.data("query($id: ID!) { sale(id: $id) { id } }", {"id": gid}))[
            "sale"
        ] is None


async def test_the_event_journal_shows_only_the_callers_tenant(
    gql: GraphQLClient, other_tenant: OtherTenant
) -> None:
    # given a lead created in each tenant (the other tenant's by its fixture)
    await gql.data(
        'mutation { createLead(input: {name: "Ours", source: WEBSITE}) { lead { id } } }'
    )
    journal = "{ latestEventId events { edges { node { id lead { name } } } } }"
    # when each tenant reads its journal
    ours = await gql.data(journal)
    theirs = await other_tenant.client.data(journal)
    # then each sees only its own event, and its own newest event ID
    assert [e["node"]["lead"]["name"] for e in ours["events"]["edges"]] == ["Ours"]
    assert [e["node"]["lead"]["name"] for e in theirs["events"]["edges"]] == ["Their Secret Lead"]
    assert ours["latestEventId"] != theirs["latestEventId"]
    assert theirs["latestEventId"] == other_tenant.ids["Event"]


FOREIGN_CHANGES = {
    "changeSaleStage": (
        "Sale",
        "mutation($id: ID!) { changeSaleStage(input: {saleId: $id, stage: KYC}) "
        "{ userErrors { code } } }",
    ),
    "updateUserRole": (
        "User",
        "mutation($id: ID!) { updateUserRole(input: {userId: $id, role: VIEWER}) "
        "{ userErrors { code } } }",
    ),
    "deactivateUser": (
        "User",
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { userErrors { code } } }",
    ),
    "createApiKey": (
        "User",
        'mutation($id: ID!) { createApiKey(input: {name: "theirs", userId: $id}) '
        "{ secret userErrors { code } } }",
    ),
    "revokeApiKey": (
        "ApiKey",
        "mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) { userErrors { code } } }",
    ),
}


@pytest.mark.parametrize("mutation", sorted(FOREIGN_CHANGES))
async def test_no_mutation_reaches_another_tenants_record(
    gql: GraphQLClient, other_tenant: OtherTenant, mutation: str
) -> None:
    # when tenant 1's admin aims a mutation at another tenant's sale, user or key
    kind, operation = FOREIGN_CHANGES[mutation]
    data = await gql.data(operation, {"id": other_tenant.ids[kind]})
    # then it is not found, and the other tenant's admin still works as before
    assert data[mutation]["userErrors"] == [{"code": "NOT_FOUND"}]
    me = await other_tenant.client.data("{ me { role active } }")
    assert me["me"] == {"role": "ADMIN", "active": True}


async def test_idempotency_keys_belong_to_their_tenant(
    gql: GraphQLClient, other_tenant: OtherTenant
) -> None:
    # when both tenants create a lead with the same idempotency key
    create = (
        'mutation { createLead(input: {name: "Same Key", source: WEBSITE, '
        'idempotencyKey: "import-42"}) { lead { id } } }'
    )
    ours = (await gql.data(create))["createLead"]["lead"]["id"]
    theirs = (await other_tenant.client.data(create))["createLead"]["lead"]["id"]
    # then each got its own lead: a key never returns another tenant's record
    assert ours != theirs


async def test_the_app_session_cannot_become_the_owner(app_db: Database) -> None:
    # when code on an app connection tries to switch to the owner role
    async with app_db.read() as conn:
        owner = (
            await conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'leads'"))
        ).scalar_one()
    # then PostgreSQL refuses: Row Level Security cannot be switched off from inside
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.read() as conn:
            await conn.execute(text(f'SET ROLE "{owner}"'))
