"""An operation's mutations are authorized together, before any of them runs."""

from domain.access import Role
from tests.conftest import GraphQLClient, UserClient

MIXED = """
mutation {
  first: createLead(input: {name: "Runs first", source: WEBSITE}) { lead { id } }
  second: createUser(input: {email: "new@team.example", role: VIEWER}) { user { id } }
}
"""


async def test_a_refused_mutation_stops_the_whole_operation_before_it_starts(
    gql: GraphQLClient, gql_as: UserClient
) -> None:
    # given a manager, who may create leads but not users
    manager = await gql_as("mia@team.example", Role.MANAGER)
    # when one operation asks for both
    body = await manager(MIXED)
    # then it is refused as a whole, naming the field, and the lead was never created
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["second"]
    assert "createUser" in error["message"]
    leads = await gql.data("{ leads { totalCount } }")
    assert leads["leads"]["totalCount"] == 0


async def test_allowed_mutations_still_run_in_order(gql_as: UserClient) -> None:
    manager = await gql_as("max@team.example", Role.MANAGER)
    body = await manager(
        'mutation { a: createLead(input: {name: "A", source: WEBSITE}) { lead { name } } '
        'b: createLead(input: {name: "B", source: WEBSITE}) { lead { name } } }'
    )
    assert body["data"] == {"a": {"lead": {"name": "A"}}, "b": {"lead": {"name": "B"}}}
