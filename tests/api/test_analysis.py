"""analyzeLead over HTTP: what it answers, that it changes nothing, and its cache."""

import pytest

from tests.api.operations import (
    Json,
    advance,
    analyze,
    codes,
    create_lead,
    ok,
    read_lead,
    record_message,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, record_messages

FEATURES = {
    "source",
    "stage",
    "messageCount",
    "hasBusinessDomain",
    "businessDomain",
    "daysSinceCreated",
}

INPUT_FIELDS = '{ __type(name: "AnalysisInput") { fields { name } } }'

# What an analysis may change: only the advice around the lead, never the lead itself.
ADVICE = ("latestAnalysis", "analyses", "transferEligibility")


def _business_state(lead: Json) -> Json:
    return {k: v for k, v in lead.items() if k not in ADVICE}


async def _example_lead(gql: GraphQLClient) -> str:
    """The README's example: a qualified partner lead in fintech with 12 messages."""
    lead = await create_lead(gql, source="PARTNER", businessDomain="fintech")
    await record_messages(gql, lead["id"], 12)
    await advance(gql, lead["id"], "QUALIFIED")
    lead_id: str = lead["id"]
    return lead_id


async def test_example_lead_is_advised_to_go_to_sales(gql: GraphQLClient) -> None:
    # given the example lead
    lead_id = await _example_lead(gql)

    # when it is analyzed
    analysis = ok(await analyze(gql, lead_id))["analysis"]

    # then the heuristic scores it about 0.78 and advises a transfer, saying why
    assert analysis["score"] == pytest.approx(0.78, abs=0.02)
    assert analysis["recommendation"] == "TRANSFER_TO_SALES"
    assert analysis["scorer"] == "heuristic"
    assert "partner source" in analysis["reason"]
    assert {f["name"] for f in analysis["factors"]} >= {
        "source",
        "stage",
        "engagement",
        "business_domain",
        "age",
    }
    base_score = 0.25
    total = base_score + sum(f["impact"] for f in analysis["factors"])
    assert total == pytest.approx(analysis["score"], abs=0.002)
    assert analysis["input"] == {
        "source": "PARTNER",
        "stage": "QUALIFIED",
        "messageCount": 12,
        "hasBusinessDomain": True,
        "businessDomain": "fintech",
        "daysSinceCreated": 0,
    }


async def test_the_scorer_sees_exactly_six_features(gql: GraphQLClient) -> None:
    # when the schema is asked what an analysis input holds
    fields = (await gql.data(INPUT_FIELDS))["__type"]["fields"]

    # then it is the six features and nothing else (no name, e-mail or phone)
    assert {f["name"] for f in fields} == FEATURES


async def test_a_lead_without_messages_is_kept_nurturing(gql: GraphQLClient) -> None:
    # given a qualified partner lead nobody has written to
    lead = await create_lead(gql, source="PARTNER", businessDomain="fintech")
    await advance(gql, lead["id"], "QUALIFIED")

    # when it is analyzed
    analysis = ok(await analyze(gql, lead["id"]))["analysis"]

    # then the missing engagement keeps it under the transfer threshold
    assert analysis["score"] < 0.6
    assert analysis["recommendation"] == "CONTINUE_NURTURING"
    assert "engagement_cap" in {f["name"] for f in analysis["factors"]}


async def test_analysis_changes_nothing_about_the_lead(gql: GraphQLClient) -> None:
    # given a lead
    lead_id = await _example_lead(gql)
    before = await read_lead(gql, lead_id)

    # when it is analyzed, even twice and by force
    first = ok(await analyze(gql, lead_id))
    ok(await analyze(gql, lead_id, force=True))

    # then its stage, version, data and history are exactly as before
    after = await read_lead(gql, lead_id)
    assert _business_state(after) == _business_state(before)
    assert first["lead"]["version"] == before["version"]
    assert first["lead"]["updatedAt"] == before["updatedAt"]
    assert first["lead"]["stage"] == before["stage"]


async def test_a_fresh_analysis_is_reused_unless_forced(gql: GraphQLClient) -> None:
    # given a lead analyzed once
    lead_id = await _example_lead(gql)
    first = ok(await analyze(gql, lead_id))["analysis"]

    # when it is analyzed again with the same input, then by force, then again
    reused = ok(await analyze(gql, lead_id))["analysis"]
    forced = ok(await analyze(gql, lead_id, force=True))["analysis"]
    after_force = ok(await analyze(gql, lead_id))["analysis"]

    # then the repeat reuses the first, force makes a new one, which is reused in turn
    assert reused == first
    assert forced["id"] != first["id"]
    assert forced["score"] == first["score"]
    assert after_force["id"] == forced["id"]
    lead = await read_lead(gql, lead_id)
    assert [e["node"]["id"] for e in lead["analyses"]["edges"]] == [forced["id"], first["id"]]
    assert lead["latestAnalysis"]["id"] == forced["id"]


async def test_changed_input_makes_a_new_analysis(gql: GraphQLClient) -> None:
    # given an analyzed lead
    lead_id = await _example_lead(gql)
    first = ok(await analyze(gql, lead_id))["analysis"]

    # when a new message arrives and it is analyzed again
    ok(await record_message(gql, lead_id, direction="OUTBOUND"))
    second = ok(await analyze(gql, lead_id))["analysis"]

    # then a new analysis reflects the new input and becomes the latest, newest first
    assert second["id"] != first["id"]
    assert second["input"]["messageCount"] == first["input"]["messageCount"] + 1
    assert second["score"] > first["score"]
    lead = await read_lead(gql, lead_id)
    assert lead["latestAnalysis"] == second
    assert [e["node"]["id"] for e in lead["analyses"]["edges"]] == [second["id"], first["id"]]


async def test_analyses_page_newest_first(gql: GraphQLClient) -> None:
    # given a lead analyzed four times by force
    lead_id = await _example_lead(gql)
    made = [ok(await analyze(gql, lead_id, force=True))["analysis"]["id"] for _ in range(4)]

    # when its analyses are read two at a time
    query = """
    query($id: ID!, $after: String) {
      lead(id: $id) {
        analyses(first: 2, after: $after) {
          edges { node { id } } pageInfo { hasNextPage endCursor }
        }
      }
    }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(query, {"id": lead_id, "after": after}))["lead"]["analyses"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then they come newest first, each once
    assert seen == list(reversed(made))


async def test_analyses_default_to_a_first_page(gql: GraphQLClient) -> None:
    # given an analyzed lead
    lead = await eligible_lead(gql, messages=1)

    # when its analyses are read without paging arguments, as the contract allows
    query = "query($id: ID!) { lead(id: $id) { analyses { edges { node { id } } } } }"
    data = await gql.data(query, {"id": lead["id"]})

    # then the first page is there
    edges = data["lead"]["analyses"]["edges"]
    assert [e["node"]["id"] for e in edges] == [lead["latestAnalysis"]["id"]]


async def test_analyzing_a_missing_lead_is_not_found(gql: GraphQLClient) -> None:
    payload = await analyze(gql, "TGVhZDo0MjQy")  # Lead:4242
    assert codes(payload) == ["NOT_FOUND"]
    assert payload["analysis"] is None
