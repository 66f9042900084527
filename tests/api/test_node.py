"""`node(id:)` resolves every entity type by its global ID."""

import base64

import pytest

from tests.api.operations import Json, ok, transfer
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Lead { name }
    ... on Sale { saleStage: stage }
    ... on LeadAnalysis { score }
    ... on LeadMessage { text }
  }
}
"""
IDS = """
query($id: ID!) {
  lead(id: $id) {
    latestAnalysis { id }
    messages(first: 1) { edges { node { id } } }
    sale { id }
  }
}
"""


async def _ids_of_every_type(gql: GraphQLClient) -> dict[str, str]:
    lead = await eligible_lead(gql, name="Node Walker")
    ok(await transfer(gql, lead["id"]))
    found: Json = (await gql.data(IDS, {"id": lead["id"]}))["lead"]
    return {
        "Lead": lead["id"],
        "LeadAnalysis": found["latestAnalysis"]["id"],
        "LeadMessage": found["messages"]["edges"][0]["node"]["id"],
        "Sale": found["sale"]["id"],
    }


async def test_node_resolves_every_entity_type(gql: GraphQLClient) -> None:
    # given a transferred lead with messages, an analysis and a sale
    ids = await _ids_of_every_type(gql)
    for type_name, global_id in ids.items():
        # when each is fetched by its global ID
        node = (await gql.data(NODE, {"id": global_id}))["node"]
        # then it comes back as itself
        assert node["__typename"] == type_name
        assert node["id"] == global_id


@pytest.mark.parametrize("type_name", ["Lead", "Sale", "LeadAnalysis", "LeadMessage"])
async def test_node_of_an_unknown_row_is_null(gql: GraphQLClient, type_name: str) -> None:
    # given a well-formed ID that names no row
    missing = base64.urlsafe_b64encode(f"{type_name}:987654".encode()).decode().rstrip("=")
    # when it is fetched; then the answer is null, not an error
    assert (await gql.data(NODE, {"id": missing}))["node"] is None
