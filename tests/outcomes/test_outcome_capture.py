"""Outcomes over HTTP: a paid sale is a WIN for its lead, a lost lead a LOSS, each linked to
the analyses made before it, written in the same transaction as the deciding change."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database, open_database
from tests.api.operations import (
    analyze,
    change_sale_stage,
    change_stage,
    codes,
    create_lead,
    database_id,
    ok,
    transfer,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, lead_at_stage

OUTCOME = """
query($id: ID!) {
  lead(id: $id) {
    stage
    outcome { result at sale { id } analysesBefore { id score scorer } }
  }
}
"""
MONEY = {"amount": "900.00", "currency": "EUR"}


@pytest.fixture
async def owner_db(migrated: str) -> AsyncIterator[Database]:
    """The owner's handle, to look at the tables without row level security."""
    database = open_database(migrated, pool_size=1)
    yield database
    await database.dispose()


async def _outcome(gql: GraphQLClient, lead_id: str) -> Any:
    return (await gql.data(OUTCOME, {"id": lead_id}))["lead"]["outcome"]


async def _stored_outcomes(owner_db: Database) -> list[tuple[int, str]]:
    async with owner_db.read() as conn:
        rows = await conn.execute(text("SELECT lead_id, result FROM lead_outcomes ORDER BY id"))
        return [(row.lead_id, row.result) for row in rows]


async def _analysis_ids(gql: GraphQLClient, lead_id: str) -> list[str]:
    """The lead's analyses, oldest first."""
    data = await gql.data(
        "query($id: ID!) { lead(id: $id) { analyses(first: 50) { edges { node { id } } } } }",
        {"id": lead_id},
    )
    return [edge["node"]["id"] for edge in reversed(data["lead"]["analyses"]["edges"])]


async def _paid_sale_for(gql: GraphQLClient, lead_id: str) -> str:
    sale = ok(await transfer(gql, lead_id))["sale"]
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step))
    ok(await change_sale_stage(gql, sale["id"], "PAID", **MONEY))
    return str(sale["id"])


async def test_a_paid_sale_is_a_win_linked_to_the_analyses_made_before_it(
    gql: GraphQLClient,
) -> None:
    # given an eligible lead analysed twice
    lead = await eligible_lead(gql)
    ok(await analyze(gql, lead["id"], force=True))
    before = await _analysis_ids(gql, lead["id"])
    assert len(before) == 2
    # when it is transferred and its sale is paid
    sale_id = await _paid_sale_for(gql, lead["id"])
    # then the lead has a WIN naming the sale and both earlier analyses, oldest first
    outcome = await _outcome(gql, lead["id"])
    assert outcome["result"] == "WIN"
    assert outcome["sale"] == {"id": sale_id}
    assert [analysis["id"] for analysis in outcome["analysesBefore"]] == before
    assert {analysis["scorer"] for analysis in outcome["analysesBefore"]} == {"heuristic"}


async def test_an_analysis_made_after_the_outcome_is_not_linked_to_it(
    gql: GraphQLClient,
) -> None:
    # given a lead whose sale was paid
    lead = await eligible_lead(gql)
    await _paid_sale_for(gql, lead["id"])
    linked = [a["id"] for a in (await _outcome(gql, lead["id"]))["analysesBefore"]]
    # when it is analysed once more
    later = ok(await analyze(gql, lead["id"], force=True))["analysis"]
    # then the analysis exists, but the outcome still names only the earlier one
    assert later["id"] in await _analysis_ids(gql, lead["id"])
    assert [a["id"] for a in (await _outcome(gql, lead["id"]))["analysesBefore"]] == linked
    assert later["id"] not in linked


async def test_a_lost_lead_is_a_loss_with_its_analyses(
    gql: GraphQLClient, owner_db: Database
) -> None:
    # given a lead with one analysis
    lead = await lead_at_stage(gql, "CONTACTED")
    analysis = ok(await analyze(gql, lead["id"]))["analysis"]
    # when it is marked LOST
    ok(await change_stage(gql, lead["id"], "LOST", reason="Went with a competitor"))
    # then it has a LOSS without a sale, linked to that analysis
    outcome = await _outcome(gql, lead["id"])
    assert outcome["result"] == "LOSS"
    assert outcome["sale"] is None
    assert outcome["analysesBefore"] == [
        {"id": analysis["id"], "score": analysis["score"], "scorer": analysis["scorer"]}
    ]
    assert await _stored_outcomes(owner_db) == [(database_id(lead["id"]), "loss")]


async def test_a_lead_lost_without_any_analysis_is_a_loss_linked_to_nothing(
    gql: GraphQLClient,
) -> None:
    # given a new lead never analysed
    lead = await create_lead(gql)
    # when it is marked LOST
    ok(await change_stage(gql, lead["id"], "LOST", reason="Spam"))
    # then its LOSS links no analysis
    outcome = await _outcome(gql, lead["id"])
    assert (outcome["result"], outcome["analysesBefore"]) == ("LOSS", [])


async def test_no_other_step_records_an_outcome(gql: GraphQLClient, owner_db: Database) -> None:
    # given a lead walked through every lead stage to a transfer
    lead = await eligible_lead(gql)
    sale = ok(await transfer(gql, lead["id"]))["sale"]
    # when its sale moves through every step short of PAID
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step, **MONEY))
    # then no outcome exists anywhere
    assert await _outcome(gql, lead["id"]) is None
    assert await _stored_outcomes(owner_db) == []


async def test_refused_changes_record_no_outcome(gql: GraphQLClient, owner_db: Database) -> None:
    # given a lead at QUALIFIED and a sale at AGREEMENT without an amount
    lead = await lead_at_stage(gql, "QUALIFIED")
    other = await eligible_lead(gql)
    sale = ok(await transfer(gql, other["id"]))["sale"]
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step))
    # when LOST comes with a stale version, and PAID without an amount
    stale = await change_stage(
        gql, lead["id"], "LOST", reason="No budget", expected_version=lead["version"] - 1
    )
    unpaid = await change_sale_stage(gql, sale["id"], "PAID")
    # then both are refused and nothing is recorded
    assert codes(stale) == ["VERSION_CONFLICT"]
    assert codes(unpaid) == ["VALIDATION_FAILED"]
    assert await _stored_outcomes(owner_db) == []


# Makes the journal refuse the deciding event of one lead: the change then fails after
# its outcome row was written, and everything of that transaction must roll back.


@pytest.fixture
async def journal_refusing(owner_db: Database) -> AsyncIterator[Any]:
    """Call with a lead's id: its next stage event makes the transaction fail."""
    created: list[str] = []

    async def refuse(lead_id: int) -> None:
        name = f"test_refuse_lead_{lead_id}"
        async with owner_db.transaction() as conn:
            await conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"RAISE EXCEPTION 'journal refuses lead {lead_id}'; END $$"
                )
            )
            await conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON events FOR EACH ROW "
                    f"WHEN (NEW.lead_id = {lead_id} AND NEW.type LIKE '%stage_changed') "
                    f"EXECUTE FUNCTION {name}()"
                )
            )
        created.append(name)

    yield refuse
    async with owner_db.transaction() as conn:
        for name in created:
            await conn.execute(text(f"DROP TRIGGER {name} ON events"))
            await conn.execute(text(f"DROP FUNCTION {name}()"))


async def test_a_paid_sale_rolled_back_leaves_no_outcome(
    gql: GraphQLClient, owner_db: Database, journal_refusing: Any
) -> None:
    # given a sale at AGREEMENT whose lead's next event the journal will refuse
    lead = await eligible_lead(gql)
    sale = ok(await transfer(gql, lead["id"]))["sale"]
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step))
    await journal_refusing(database_id(lead["id"]))
    # when it is paid
    body = await gql(
        "mutation($input: ChangeSaleStageInput!) { changeSaleStage(input: $input) "
        "{ sale { stage } } }",
        {"input": {"saleId": sale["id"], "stage": "PAID", **MONEY}},
    )
    # then the change failed as a whole: no outcome, no link, the sale still at AGREEMENT
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL"]
    assert await _stored_outcomes(owner_db) == []
    async with owner_db.read() as conn:
        links = (await conn.execute(text("SELECT count(*) FROM lead_outcome_analyses"))).scalar()
        stage = (
            await conn.execute(
                text("SELECT stage FROM sales WHERE id = :id"), {"id": database_id(sale["id"])}
            )
        ).scalar()
    assert (links, stage) == (0, "agreement")


async def test_a_loss_rolled_back_leaves_no_outcome(
    gql: GraphQLClient, owner_db: Database, journal_refusing: Any
) -> None:
    # given an analysed lead whose next stage event the journal will refuse
    lead = await lead_at_stage(gql, "CONTACTED")
    ok(await analyze(gql, lead["id"]))
    await journal_refusing(database_id(lead["id"]))
    # when it is marked LOST
    body = await gql(
        "mutation($input: ChangeLeadStageInput!) { changeLeadStage(input: $input) "
        "{ lead { stage } } }",
        {"input": {"leadId": lead["id"], "stage": "LOST", "reason": "No budget"}},
    )
    # then nothing of the change remains
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL"]
    assert await _stored_outcomes(owner_db) == []
    assert (await gql.data(OUTCOME, {"id": lead["id"]}))["lead"]["stage"] == "CONTACTED"
