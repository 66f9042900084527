"""A failing field must not take down fields that share its loaded data.

graphql-core cancels the siblings of a field that fails; two fields waiting on the same
cached DataLoader result must still both get an answer, and the request a 200.
"""

from tests.api.operations import create_lead
from tests.conftest import GraphQLClient

SHARED_THEN_FAILING = """
query($id: ID!) {
  a: lead(id: $id) {
    stageHistory { reason }
    messages(first: -1) { pageInfo { hasNextPage } }
  }
  b: lead(id: $id) { stageHistory { reason } }
}
"""


async def test_a_failing_field_leaves_shared_loads_to_its_siblings(gql: GraphQLClient) -> None:
    # given a lead, and a query where two fields load its history and one field fails
    lead = await create_lead(gql, name="Cancel Co", source="WEBSITE")
    # when it runs (gql asserts the HTTP status is 200)
    body = await gql(SHARED_THEN_FAILING, {"id": lead["id"]})
    # then the failure is a clear BAD_REQUEST and the other alias still has its data
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert body["data"]["b"] == {"stageHistory": [{"reason": None}]}
