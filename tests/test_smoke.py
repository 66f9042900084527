from tests.conftest import GraphQLClient

CREATE = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id name stage version } userErrors { code message field } }
}
"""


async def test_create_and_read_a_lead(gql: GraphQLClient) -> None:
    data = await gql.data(CREATE, {"input": {"name": "Ada", "source": "PARTNER"}})
    lead = data["createLead"]["lead"]
    assert lead["stage"] == "NEW"
    listed = await gql.data("{ leads(first: 5) { totalCount edges { node { id name } } } }")
    assert listed["leads"]["totalCount"] == 1
    assert listed["leads"]["edges"][0]["node"]["id"] == lead["id"]
