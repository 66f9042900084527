"""Several mutations in one operation run in order, and each payload sees the writes
before it (no stale DataLoader cache across mutations)."""

from tests.api.operations import create_lead
from tests.conftest import GraphQLClient

THREE_STEPS = """
mutation($id: ID!) {
  a: changeLeadStage(input: {leadId: $id, stage: CONTACTED}) {
    lead { stage stageHistory { toStage } messages { edges { node { text } } } }
  }
  b: changeLeadStage(input: {leadId: $id, stage: QUALIFIED}) {
    lead { stage stageHistory { toStage } }
  }
  c: recordLeadMessage(input: {leadId: $id, direction: INBOUND, text: "hi"}) {
    lead { messageCount messages { edges { node { text } } } }
  }
}
"""


async def test_each_payload_reads_what_the_mutations_before_it_wrote(gql: GraphQLClient) -> None:
    # given a new lead
    lead = await create_lead(gql, name="Serial Sam", source="WEBSITE")
    # when one operation moves it twice and records a message
    data = await gql.data(THREE_STEPS, {"id": lead["id"]})
    # then every payload shows the state right after its own mutation
    assert [c["toStage"] for c in data["a"]["lead"]["stageHistory"]] == ["NEW", "CONTACTED"]
    assert data["b"]["lead"]["stage"] == "QUALIFIED"
    assert [c["toStage"] for c in data["b"]["lead"]["stageHistory"]] == [
        "NEW",
        "CONTACTED",
        "QUALIFIED",
    ]
    assert data["c"]["lead"]["messageCount"] == 1
    assert [e["node"]["text"] for e in data["c"]["lead"]["messages"]["edges"]] == ["hi"]
