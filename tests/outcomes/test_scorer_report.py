"""scorerReport over HTTP: each scorer judged by its last score before each outcome
(RECORDED), and the deterministic scorers asked again about each closed lead at every
stage it passed (REPLAYED). The arithmetic itself is pinned in tests/ai/test_metrics.py;
here the right pairs must reach it."""

from typing import Any

import pytest

from domain.outcomes import in_held_out_split
from services.ai import metrics
from tests.api.operations import (
    analyze,
    change_sale_stage,
    change_stage,
    database_id,
    ok,
    record_message,
    transfer,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, lead_at_stage

REPORT = """
query($heldOutOnly: Boolean!) {
  scorerReport(heldOutOnly: $heldOutOnly) {
    scorer basis outcomes wins rocAuc brierScore logLoss
    calibration { low high count meanScore winRate }
    gate { threshold passed passedThenLost passedThenLostRate held heldThenWon heldThenWonRate }
  }
}
"""
LAST_SCORE = "query($id: ID!) { lead(id: $id) { latestAnalysis { score } } }"


async def _report(
    gql: GraphQLClient, *, held_out_only: bool, basis: str = "RECORDED"
) -> list[dict[str, Any]]:
    data = await gql.data(REPORT, {"heldOutOnly": held_out_only})
    return [row for row in data["scorerReport"] if row["basis"] == basis]


async def _last_score(gql: GraphQLClient, lead_id: str) -> float:
    data = await gql.data(LAST_SCORE, {"id": lead_id})
    return float(data["lead"]["latestAnalysis"]["score"])


async def _won(gql: GraphQLClient) -> tuple[str, float]:
    lead = await eligible_lead(gql)
    score = await _last_score(gql, lead["id"])
    sale = ok(await transfer(gql, lead["id"]))["sale"]
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, sale["id"], step))
    ok(await change_sale_stage(gql, sale["id"], "PAID", amount="10.00", currency="EUR"))
    return lead["id"], score


async def _lost_after_two_analyses(gql: GraphQLClient) -> tuple[str, float]:
    """Analysed, then messaged and analysed again (a higher score), then lost."""
    lead = await lead_at_stage(gql, "CONTACTED")
    first = ok(await analyze(gql, lead["id"]))["analysis"]["score"]
    ok(await record_message(gql, lead["id"]))
    ok(await analyze(gql, lead["id"]))
    last = await _last_score(gql, lead["id"])
    assert last != first
    ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    return lead["id"], last


async def test_the_report_judges_each_scorers_last_score_before_every_outcome(
    gql: GraphQLClient,
) -> None:
    # given two won leads and two lost ones, the lost ones analysed twice
    won = [await _won(gql) for _ in range(2)]
    lost = [await _lost_after_two_analyses(gql) for _ in range(2)]
    pairs = [(score, True) for _, score in won] + [(score, False) for _, score in lost]
    # when the report is read over every outcome
    (heuristic,) = await _report(gql, held_out_only=False)
    # then the heuristic is judged on four pairs: each lead's last score and its outcome
    assert (heuristic["scorer"], heuristic["outcomes"], heuristic["wins"]) == ("heuristic", 4, 2)
    assert heuristic["rocAuc"] == pytest.approx(metrics.roc_auc(pairs))
    assert heuristic["brierScore"] == pytest.approx(metrics.brier_score(pairs))
    assert heuristic["logLoss"] == pytest.approx(metrics.log_loss(pairs))
    assert [band["count"] for band in heuristic["calibration"]] == [
        band.count for band in metrics.calibration_table(pairs)
    ]
    gate = metrics.gate_errors(pairs)
    assert heuristic["gate"]["threshold"] == 0.6
    assert (heuristic["gate"]["passedThenLost"], heuristic["gate"]["heldThenWon"]) == (
        gate.passed_then_lost,
        gate.held_then_won,
    )
    assert heuristic["gate"]["passed"] + heuristic["gate"]["held"] == 4
    # and on the held-out split, only the outcomes of held-out leads count
    held_out = [lead_id for lead_id, _ in won + lost if in_held_out_split(database_id(lead_id))]
    split = await _report(gql, held_out_only=True)
    assert sum(row["outcomes"] for row in split) == len(held_out)


async def test_the_heuristic_is_replayed_on_every_stage_each_closed_lead_passed(
    gql: GraphQLClient,
) -> None:
    # given a lead won (decided at QUALIFIED) and one lost at CONTACTED
    await _won(gql)
    await _lost_after_two_analyses(gql)
    # when the report is read over every outcome
    (replayed,) = await _report(gql, held_out_only=False, basis="REPLAYED")
    # then the heuristic is asked about the won lead at NEW, CONTACTED and QUALIFIED, and
    # about the lost one at NEW and CONTACTED: five predictions, three of them wins
    assert (replayed["scorer"], replayed["outcomes"], replayed["wins"]) == ("heuristic", 5, 3)
    assert replayed["rocAuc"] is not None


async def test_without_outcomes_the_report_is_empty(gql: GraphQLClient) -> None:
    # given leads analysed but none decided
    lead = await lead_at_stage(gql, "CONTACTED")
    ok(await analyze(gql, lead["id"]))
    # when / then
    assert await _report(gql, held_out_only=False) == []
    assert await _report(gql, held_out_only=False, basis="REPLAYED") == []


async def test_a_single_class_of_outcomes_has_no_roc_auc(gql: GraphQLClient) -> None:
    # given only a loss
    await _lost_after_two_analyses(gql)
    # when
    (heuristic,) = await _report(gql, held_out_only=False)
    # then ROC AUC is undefined (null), the other figures are given
    assert heuristic["rocAuc"] is None
    assert heuristic["brierScore"] > 0
    assert heuristic["gate"]["heldThenWonRate"] in (None, 0.0)
