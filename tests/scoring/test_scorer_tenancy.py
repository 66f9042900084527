"""A tenant's learned models and scorer choice are its own: another tenant neither sees
nor uses them, and the app role may append models but never rewrite one."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.tenancy import acting_for
from tests.api.operations import analyze, ok
from tests.conftest import GraphQLClient, LiveServer, bearer
from tests.factories import closed_history, lead_at_stage
from tests.tenants import second_tenant

SETTINGS = "{ scorerSettings { chosen active learnedModel { version } } }"


async def test_another_tenant_neither_sees_nor_uses_a_tenants_model_or_choice(
    gql: GraphQLClient, live_server: LiveServer, migrated: str, app_db: Database
) -> None:
    # given the default tenant trained a model and chose it
    await closed_history(gql, wins=5, losses=5)
    ok((await gql.data("mutation { trainScorer { userErrors { code } } }"))["trainScorer"])
    await gql.data("mutation { chooseScorer(input: {scorer: LEARNED}) { userErrors { code } } }")
    async with (
        second_tenant(migrated, "Globex") as globex,
        httpx.AsyncClient(
            base_url=live_server.url, timeout=30, headers=bearer(globex.admin_key)
        ) as client,
    ):
        other = GraphQLClient(client)
        # then the other tenant has the server's default and no model
        assert (await other.data(SETTINGS))["scorerSettings"] == {
            "chosen": None,
            "active": "HEURISTIC",
            "learnedModel": None,
        }
        lead = await lead_at_stage(other, "NEW")
        assert ok(await analyze(other, lead["id"]))["analysis"]["scorer"] == "heuristic"
        # and under row level security its rows are not there at all
        with acting_for(globex.tenant_id):
            async with app_db.read() as conn:
                counts = await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM scorer_models),"
                        " (SELECT count(*) FROM tenant_ai_settings)"
                    )
                )
                assert tuple(counts.one()) == (0, 0)


async def test_the_app_role_cannot_rewrite_a_stored_model(
    gql: GraphQLClient, app_db: Database
) -> None:
    await closed_history(gql, wins=5, losses=5)
    ok((await gql.data("mutation { trainScorer { userErrors { code } } }"))["trainScorer"])
    for statement in (
        "UPDATE scorer_models SET parameters = '{}'::jsonb",
        "DELETE FROM scorer_models",
    ):
        with acting_for(DEFAULT_TENANT_ID), pytest.raises(DBAPIError, match="permission denied"):
            async with app_db.transaction() as conn:
                await conn.execute(text(statement))
