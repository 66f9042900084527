"""What each outcome keeps for the learned scorer: the lead's features as they stood just
before it was decided — never anything that only happened because of the outcome."""

from typing import Any

from sqlalchemy import text

from db.database import Database
from tests.api.operations import (
    change_sale_stage,
    change_stage,
    database_id,
    ok,
    record_message,
    transfer,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, lead_at_stage

MONEY = {"amount": "900.00", "currency": "EUR"}


async def _features(owner: Database, lead_id: str) -> dict[str, Any]:
    async with owner.read() as conn:
        found = await conn.execute(
            text("SELECT features FROM lead_outcomes WHERE lead_id = :id"),
            {"id": database_id(lead_id)},
        )
        features: dict[str, Any] = found.scalar_one()
        return features


async def _backdate(owner: Database, table: str, row_id: int, days: int) -> None:
    async with owner.transaction() as conn:
        await conn.execute(
            text(
                f"UPDATE {table} SET created_at = now() - make_interval(days => :d) WHERE id = :id"
            ),
            {"d": days, "id": row_id},
        )


async def test_a_loss_keeps_the_lead_as_it_was_before_it_was_lost(
    gql: GraphQLClient, owner: Database
) -> None:
    lead = await lead_at_stage(gql, "CONTACTED", source="REFERRAL", businessDomain="retail")
    ok(await record_message(gql, lead["id"]))
    ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    assert await _features(owner, lead["id"]) == {
        "source": "referral",
        "stage": "contacted",
        "message_count": 1,
        "has_business_domain": True,
        "business_domain": "retail",
        "days_since_created": 0,
    }


async def test_a_win_keeps_the_lead_as_it_was_when_transferred_not_when_paid(
    gql: GraphQLClient, owner: Database
) -> None:
    # given a lead created 30 days ago, transferred 10 days ago, whose sale is paid today
    lead = await eligible_lead(gql)
    sale = ok(await transfer(gql, lead["id"]))["sale"]
    await _backdate(owner, "leads", database_id(lead["id"]), days=30)
    await _backdate(owner, "sales", database_id(sale["id"]), days=10)
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step))
    ok(await change_sale_stage(gql, sale["id"], "PAID", **MONEY))
    # then the win's features are the qualified lead's, 20 days old: the 10 days the sale
    # took happened only because the lead was won
    features = await _features(owner, lead["id"])
    assert (features["stage"], features["days_since_created"]) == ("qualified", 20)
