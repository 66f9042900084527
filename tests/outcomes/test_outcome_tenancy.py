"""Outcomes belong to their tenant: row level security hides another tenant's, the app
role can only append them, and removing a tenant removes its outcomes too."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from tests.api.operations import analyze, change_stage, create_lead, database_id, ok
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.tenants import second_tenant

OUTCOME_TABLES = ("lead_outcomes", "lead_outcome_analyses")
COUNT_OWN = (
    "SELECT (SELECT count(*) FROM lead_outcomes), (SELECT count(*) FROM lead_outcome_analyses)"
)


async def _lost_lead(gql: GraphQLClient, *, analysed: bool) -> str:
    lead = await create_lead(gql)
    if analysed:
        ok(await analyze(gql, lead["id"]))
    ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    return str(lead["id"])


async def _counts(app_db: Database, tenant_id: int) -> tuple[int, int]:
    with acting_for(tenant_id):
        async with app_db.read() as conn:
            outcomes, links = (await conn.execute(text(COUNT_OWN))).one()
    return int(outcomes), int(links)


async def test_each_tenant_sees_only_its_own_outcomes_and_a_removed_tenant_takes_them_along(
    gql: GraphQLClient, migrated: str, live_server: LiveServer, app_db: Database
) -> None:
    # given a lost, analysed lead in our tenant
    await _lost_lead(gql, analysed=True)
    owner = open_database(migrated, pool_size=1)
    try:
        async with second_tenant(migrated, "Outcome Co") as other:
            # and a lost lead in a second tenant, never analysed (tests/databases.delete_tenant
            # cannot yet remove a tenant's analysed leads: leads and analyses point at each
            # other)
            async with httpx.AsyncClient(
                base_url=live_server.url, headers=bearer(other.admin_key)
            ) as http:
                theirs = await _lost_lead(GraphQLClient(http), analysed=False)
            # when each tenant reads the outcome tables with SQL that names no tenant
            ours_seen = await _counts(app_db, DEFAULT_TENANT_ID)
            theirs_seen = await _counts(app_db, other.tenant_id)
            # then each sees its one outcome and only its own links
            assert ours_seen == (1, 1)
            assert theirs_seen == (1, 0)
            # and our API does not reach their lead at all
            found = await gql.data("query($id: ID!) { lead(id: $id) { id } }", {"id": theirs})
            assert found == {"lead": None}
            their_lead_id = database_id(theirs)
        # when the second tenant is removed (children before parents)
        async with owner.read() as conn:
            left = (
                await conn.execute(
                    text("SELECT count(*) FROM lead_outcomes WHERE lead_id = :id"),
                    {"id": their_lead_id},
                )
            ).scalar()
    finally:
        await owner.dispose()
    # then its outcome went with it, ours stayed
    assert left == 0
    assert await _counts(app_db, DEFAULT_TENANT_ID) == (1, 1)


@pytest.mark.parametrize("table", OUTCOME_TABLES)
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET tenant_id = tenant_id", "DELETE FROM {table}"]
)
async def test_the_app_role_cannot_rewrite_or_remove_outcomes(
    app_db: Database, table: str, statement: str
) -> None:
    # when the app role tries to change a recorded outcome
    # then the database refuses: outcomes are append-only for it
    with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction() as conn:
            await conn.execute(text(statement.format(table=table)))


async def test_the_app_role_cannot_write_an_outcome_into_another_tenant(
    gql: GraphQLClient, migrated: str, app_db: Database
) -> None:
    # given one of our leads
    lead = await create_lead(gql)
    async with second_tenant(migrated, "Outcome Forger Co") as other:
        # when the app role, acting for us, inserts an outcome marked as theirs
        with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="row-level security"):
            async with app_db.transaction() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO lead_outcomes (tenant_id, lead_id, result) "
                        "VALUES (:t, :l, 'win')"
                    ),
                    {"t": other.tenant_id, "l": database_id(lead["id"])},
                )
