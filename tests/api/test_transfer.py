"""transferLead over HTTP: every hard gate, eligibility, immutability, concurrency."""

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.operations import (
    Json,
    advance,
    analyze,
    change_stage,
    codes,
    create_lead,
    list_sales,
    ok,
    read_lead,
    record_message,
    transfer,
    update_lead,
)
from tests.conftest import TEST_ADMIN_EMAIL, GraphQLClient
from tests.factories import eligible_lead, record_messages

ACTOR = TEST_ADMIN_EMAIL  # the authenticated user is the actor


@dataclass(frozen=True)
class Candidate:
    """How to build a lead that misses some gates."""

    stage: str = "QUALIFIED"
    business_domain: str | None = "fintech"
    messages: int = 12
    analyzed: bool = True
    source: str = "PARTNER"


async def build(gql: GraphQLClient, candidate: Candidate) -> Json:
    fields: dict[str, Any] = {"source": candidate.source}
    if candidate.business_domain is not None:
        fields["businessDomain"] = candidate.business_domain
    lead = await create_lead(gql, **fields)
    await record_messages(gql, lead["id"], candidate.messages)
    await advance(gql, lead["id"], candidate.stage)
    if candidate.analyzed:
        ok(await analyze(gql, lead["id"]))
    return await read_lead(gql, lead["id"])


BLOCKED = [
    pytest.param(Candidate(stage="CONTACTED"), ["INVALID_TRANSITION"], id="not-qualified"),
    pytest.param(Candidate(stage="NEW"), ["INVALID_TRANSITION"], id="still-new"),
    pytest.param(Candidate(analyzed=False), ["NOT_ANALYZED"], id="not-analyzed"),
    pytest.param(Candidate(messages=0), ["SCORE_TOO_LOW"], id="score-too-low"),
    pytest.param(
        Candidate(business_domain=None), ["BUSINESS_DOMAIN_MISSING"], id="no-business-domain"
    ),
    pytest.param(
        Candidate(stage="NEW", business_domain=None, analyzed=False),
        ["INVALID_TRANSITION", "NOT_ANALYZED", "BUSINESS_DOMAIN_MISSING"],
        id="all-unanalyzed",
    ),
    pytest.param(
        Candidate(stage="CONTACTED", business_domain=None, messages=0, source="COLD_OUTREACH"),
        ["INVALID_TRANSITION", "SCORE_TOO_LOW", "BUSINESS_DOMAIN_MISSING"],
        id="all-low-score",
    ),
]


@pytest.mark.parametrize(("candidate", "expected"), BLOCKED)
async def test_each_unmet_gate_blocks_the_transfer(
    gql: GraphQLClient, candidate: Candidate, expected: list[str]
) -> None:
    # given a lead that misses exactly these gates
    lead = await build(gql, candidate)

    # when its eligibility is read and a transfer is asked
    eligibility = lead["transferEligibility"]
    payload = await transfer(gql, lead["id"])

    # then both name every unmet gate at once, and nothing was handed to sales
    assert eligibility["eligible"] is False
    assert eligibility["minScore"] == pytest.approx(0.6)
    assert [b["code"] for b in eligibility["blockers"]] == expected
    assert codes(payload) == expected
    assert payload["lead"] is None
    assert payload["sale"] is None
    assert await read_lead(gql, lead["id"]) == lead
    assert (await list_sales(gql))["totalCount"] == 0


async def test_a_lead_without_messages_scores_too_low(gql: GraphQLClient) -> None:
    # given a qualified partner fintech lead nobody has written to yet
    lead = await build(gql, Candidate(messages=0))

    # then its score stays under the transfer threshold
    assert lead["latestAnalysis"]["score"] < 0.6


async def test_eligible_lead_becomes_transferred_with_one_new_sale(gql: GraphQLClient) -> None:
    # given a lead that meets every gate
    lead = await eligible_lead(gql)
    assert lead["transferEligibility"] == {"eligible": True, "minScore": 0.6, "blockers": []}
    assert lead["latestAnalysis"]["score"] == pytest.approx(0.79, abs=0.01)

    # when it is transferred
    payload = ok(await transfer(gql, lead["id"]))

    # then the lead is TRANSFERRED, one version later, and a NEW sale belongs to it
    transferred, sale = payload["lead"], payload["sale"]
    assert transferred["stage"] == "TRANSFERRED"
    assert transferred["version"] == lead["version"] + 1
    assert sale["stage"] == "NEW"
    assert sale["lead"] == {"id": lead["id"], "stage": "TRANSFERRED"}
    assert sale["amount"] is None
    assert sale["version"] == 1
    assert [(h["fromStage"], h["toStage"], h["actor"]) for h in sale["stageHistory"]] == [
        (None, "NEW", ACTOR)
    ]
    after = await read_lead(gql, lead["id"])
    assert after["sale"] == {"id": sale["id"], "stage": "NEW"}
    newest = after["stageHistory"][-1]
    assert (newest["fromStage"], newest["toStage"], newest["actor"]) == (
        "QUALIFIED",
        "TRANSFERRED",
        ACTOR,
    )
    assert after["transferEligibility"]["eligible"] is False
    assert [b["code"] for b in after["transferEligibility"]["blockers"]] == ["IMMUTABLE"]
    sales = await list_sales(gql)
    assert sales["totalCount"] == 1
    assert sales["edges"][0]["node"]["id"] == sale["id"]


async def test_a_transferred_lead_is_immutable(gql: GraphQLClient) -> None:
    # given a transferred lead
    lead = await eligible_lead(gql)
    ok(await transfer(gql, lead["id"]))
    before = await read_lead(gql, lead["id"])

    # when anyone tries to change it in any way
    refusals = {
        "updateLead": await update_lead(gql, lead["id"], name="Renamed"),
        "changeLeadStage LOST": await change_stage(gql, lead["id"], "LOST", reason="Too late"),
        "changeLeadStage CONTACTED": await change_stage(gql, lead["id"], "CONTACTED"),
        "recordLeadMessage": await record_message(gql, lead["id"]),
        "transferLead again": await transfer(gql, lead["id"]),
    }

    # then every change is refused as IMMUTABLE, the lead is unchanged and there is one sale
    assert {name: codes(payload) for name, payload in refusals.items()} == {
        name: ["IMMUTABLE"] for name in refusals
    }
    assert await read_lead(gql, lead["id"]) == before
    assert (await list_sales(gql))["totalCount"] == 1


async def test_a_lost_lead_cannot_be_transferred(gql: GraphQLClient) -> None:
    # given an otherwise eligible lead that was marked lost
    lead = await eligible_lead(gql)
    ok(await change_stage(gql, lead["id"], "LOST", reason="Went quiet"))

    # when it is transferred
    payload = await transfer(gql, lead["id"])

    # then the final stage refuses it
    assert codes(payload) == ["IMMUTABLE"]
    assert (await list_sales(gql))["totalCount"] == 0


async def test_concurrent_transfers_make_exactly_one_sale(gql: GraphQLClient) -> None:
    # given one eligible lead
    lead = await eligible_lead(gql)

    # when 20 people transfer it at the same moment
    payloads = await asyncio.gather(*(transfer(gql, lead["id"]) for _ in range(20)))

    # then exactly one succeeds; the others are told it is already final
    winners = [p for p in payloads if not p["userErrors"]]
    losers = [p for p in payloads if p["userErrors"]]
    assert len(winners) == 1
    assert all(codes(p) == ["IMMUTABLE"] for p in losers), [codes(p) for p in losers]
    sales = await list_sales(gql)
    assert sales["totalCount"] == 1
    assert sales["edges"][0]["node"]["id"] == winners[0]["sale"]["id"]
    after = await read_lead(gql, lead["id"])
    assert after["version"] == lead["version"] + 1
    assert [h["toStage"] for h in after["stageHistory"]].count("TRANSFERRED") == 1
