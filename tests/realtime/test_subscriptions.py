"""Each subscription delivers its events, with and without its filter, through the normal types."""

import asyncio

from tests.api.operations import (
    analyze,
    change_sale_stage,
    change_stage,
    create_lead,
    database_id,
    moment,
    ok,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, transferred_lead
from tests.realtime.conftest import Connect, Json

LEAD_STAGES = """
subscription LeadStages($leadId: ID) {
  leadStageChanged(leadId: $leadId) {
    eventId fromStage toStage at
    lead { id name stage version }
  }
}"""

SALE_STAGES = """
subscription SaleStages($saleId: ID) {
  saleStageChanged(saleId: $saleId) {
    eventId fromStage toStage at
    sale { id stage lead { id } }
  }
}"""

SCORES = """
subscription Scores($leadId: ID) {
  leadScoreUpdated(leadId: $leadId) {
    eventId previousScore
    lead { id latestAnalysis { id } }
    analysis { id score recommendation }
  }
}"""

CATCH_UP = """
query CatchUp($after: ID) {
  events(after: $after) { edges { node { id type lead { id } } } }
}"""


async def test_lead_stage_changes_arrive_with_the_lead_as_it_is_now(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given a subscriber of every lead's stage changes
    client = await connect_ws()
    subscription = await client.subscribe(LEAD_STAGES)
    # when a lead is created and then contacted
    lead = await create_lead(gql, name="Ada")
    contacted = ok(await change_stage(gql, lead["id"], "CONTACTED"))["lead"]
    # then both changes arrive in order, from no stage to NEW, then from NEW to CONTACTED
    created = (await client.next_data(subscription))["leadStageChanged"]
    moved = (await client.next_data(subscription))["leadStageChanged"]
    assert (created["fromStage"], created["toStage"]) == (None, "NEW")
    assert (moved["fromStage"], moved["toStage"]) == ("NEW", "CONTACTED")
    assert moved["lead"] == {
        "id": lead["id"],
        "name": "Ada",
        "stage": "CONTACTED",
        "version": contacted["version"],
    }
    assert moment(created["at"]) <= moment(moved["at"])
    # and each eventId is where the journal resumes: after the first comes the second
    after_first = await gql.data(CATCH_UP, {"after": created["eventId"]})
    assert [e["node"]["id"] for e in after_first["events"]["edges"]] == [moved["eventId"]]


async def test_a_lead_filter_lets_through_only_that_lead(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given two leads and a subscriber of one of them
    mine = await create_lead(gql, name="Mine")
    other = await create_lead(gql, name="Other")
    client = await connect_ws()
    subscription = await client.subscribe(LEAD_STAGES, {"leadId": mine["id"]})
    # when the other lead moves, then the followed one
    ok(await change_stage(gql, other["id"], "CONTACTED"))
    ok(await change_stage(gql, mine["id"], "CONTACTED"))
    # then the first thing to arrive is the followed lead's change
    event = (await client.next_data(subscription))["leadStageChanged"]
    assert event["lead"]["id"] == mine["id"]
    assert (event["fromStage"], event["toStage"]) == ("NEW", "CONTACTED")


async def test_a_transfer_moves_the_lead_and_creates_the_sale(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given an eligible lead, and subscribers of its stages and of every sale's stages
    lead = await eligible_lead(gql)
    client = await connect_ws()
    leads = await client.subscribe(LEAD_STAGES, {"leadId": lead["id"]})
    sales = await client.subscribe(SALE_STAGES)
    # when it is transferred
    body = await gql(
        "mutation($id: ID!) { transferLead(input: {leadId: $id}) { sale { id } } }",
        {"id": lead["id"]},
    )
    sale_id = body["data"]["transferLead"]["sale"]["id"]
    # then the lead arrives as TRANSFERRED and the sale as created in NEW (either first)
    received = {}
    for _ in range(2):
        message = await client.receive()
        assert message["type"] == "next", message
        received[message["id"]] = message["payload"]["data"]
    moved = received[leads]["leadStageChanged"]
    created = received[sales]["saleStageChanged"]
    assert (moved["fromStage"], moved["toStage"]) == ("QUALIFIED", "TRANSFERRED")
    assert (created["fromStage"], created["toStage"]) == (None, "NEW")
    assert created["sale"] == {"id": sale_id, "stage": "NEW", "lead": {"id": lead["id"]}}


async def test_a_sale_filter_lets_through_only_that_sale(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given two sales and a subscriber of one of them
    _, mine = await transferred_lead(gql, messages=1)
    _, other = await transferred_lead(gql, messages=1)
    client = await connect_ws()
    subscription = await client.subscribe(SALE_STAGES, {"saleId": mine["id"]})
    # when the other sale moves, then the followed one
    ok(await change_sale_stage(gql, other["id"], "KYC"))
    ok(await change_sale_stage(gql, mine["id"], "KYC"))
    # then the followed sale's move is the first to arrive
    event = (await client.next_data(subscription))["saleStageChanged"]
    assert event["sale"]["id"] == mine["id"]
    assert (event["fromStage"], event["toStage"]) == ("NEW", "KYC")
    assert database_id(event["eventId"]) > 0


async def test_a_new_analysis_arrives_with_the_score_it_replaced(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given a lead and a subscriber of every lead's scores
    lead = await create_lead(gql, source="PARTNER")
    client = await connect_ws()
    subscription = await client.subscribe(SCORES)
    # when it is analyzed, then analyzed again (forced: a new analysis)
    first = ok(await analyze(gql, lead["id"]))["analysis"]
    second = ok(await analyze(gql, lead["id"], force=True))["analysis"]
    # then both arrive; the second names the first one's score as the previous score
    one = (await client.next_data(subscription))["leadScoreUpdated"]
    two = (await client.next_data(subscription))["leadScoreUpdated"]
    assert one["previousScore"] is None
    assert one["analysis"] == {
        "id": first["id"],
        "score": first["score"],
        "recommendation": first["recommendation"],
    }
    assert two["analysis"]["id"] == second["id"]
    assert two["previousScore"] == first["score"]
    assert two["lead"] == {"id": lead["id"], "latestAnalysis": {"id": second["id"]}}


async def test_a_score_filter_lets_through_only_that_lead(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given two leads and a subscriber of one lead's scores
    mine = await create_lead(gql, name="Mine")
    other = await create_lead(gql, name="Other")
    client = await connect_ws()
    subscription = await client.subscribe(SCORES, {"leadId": mine["id"]})
    # when the other lead is analyzed, then the followed one
    ok(await analyze(gql, other["id"]))
    analysis = ok(await analyze(gql, mine["id"]))["analysis"]
    # then the followed lead's analysis is the first to arrive
    event = (await client.next_data(subscription))["leadScoreUpdated"]
    assert event["lead"]["id"] == mine["id"]
    assert event["analysis"]["id"] == analysis["id"]


PIPELINE = """
subscription { pipelineUpdated { leadsByStage { stage count } transferRate paidAmount } }
"""


def new_leads(update: Json) -> int:
    counts = {s["stage"]: s["count"] for s in update["pipelineUpdated"]["leadsByStage"]}
    return int(counts["NEW"])


async def test_pipeline_figures_start_with_a_snapshot_then_follow_a_burst_of_changes(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given a lead created after the client read the `pipeline`, before it subscribed
    before = (await gql.data("{ pipeline { leadsByStage { stage count } } }"))["pipeline"]
    await create_lead(gql, name="In between")
    # when it subscribes to the pipeline figures
    client = await connect_ws()
    subscription = await client.subscribe(PIPELINE)
    # then the first figures arrive without any further change, and include that lead
    assert new_leads({"pipelineUpdated": before}) == 0
    assert new_leads(await client.next_data(subscription)) == 1
    # and when eight leads are created at once, figures follow until they show all of
    # them (debouncing itself: tests/realtime/test_figures.py)
    burst = 8
    await asyncio.gather(*(create_lead(gql, name=f"Burst {n}") for n in range(burst)))
    while new_leads(await client.next_data(subscription)) < burst + 1:
        pass


RESUMED = """
subscription($after: ID, $leadId: ID) {
  leadStageChanged(after: $after, leadId: $leadId) { eventId toStage lead { name } }
}"""


def moved(data: Json) -> tuple[str, str]:
    change = data["leadStageChanged"]
    return change["lead"]["name"], change["toStage"]


async def test_a_subscriber_resumes_after_its_last_event_without_a_gap(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given a subscriber that received one event and went away
    first = await connect_ws()
    subscription = await first.subscribe(LEAD_STAGES)
    ada = await create_lead(gql, name="Ada")
    last_seen = (await first.next_data(subscription))["leadStageChanged"]["eventId"]
    await first.aclose()
    # and changes made while it was away
    ok(await change_stage(gql, ada["id"], "CONTACTED"))
    await create_lead(gql, name="Grace")
    # when it subscribes again after the last event it saw, and more happens
    again = await connect_ws()
    resumed = await again.subscribe(RESUMED, {"after": last_seen})
    await create_lead(gql, name="Linus")
    # then it gets what it missed, in order, then what is new, each once
    received = [moved(await again.next_data(resumed)) for _ in range(3)]
    assert received == [("Ada", "CONTACTED"), ("Grace", "NEW"), ("Linus", "NEW")]


async def test_a_resume_keeps_the_filter(gql: GraphQLClient, connect_ws: Connect) -> None:
    # given the journal's position, then changes to two leads
    await create_lead(gql, name="Earlier")
    start = await gql.data("{ latestEventId }")
    mine = await create_lead(gql, name="Mine")
    await create_lead(gql, name="Other")
    ok(await change_stage(gql, mine["id"], "CONTACTED"))
    # when a subscriber of one lead resumes from that position
    client = await connect_ws()
    subscription = await client.subscribe(
        RESUMED, {"after": start["latestEventId"], "leadId": mine["id"]}
    )
    # then it gets that lead's changes only
    received = [moved(await client.next_data(subscription)) for _ in range(2)]
    assert received == [("Mine", "NEW"), ("Mine", "CONTACTED")]
