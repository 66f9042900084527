"""A key acts as its user, so one admin may not make keys for another admin."""

from domain.access import Role
from tests.conftest import GraphQLClient, UserClient

MAKE_KEY = """
mutation($user: ID!) {
  createApiKey(input: {name: "borrowed", userId: $user}) {
    secret userErrors { code field }
  }
}
"""
ME = "{ me { id } }"


async def test_an_admin_cannot_mint_a_key_that_acts_as_another_admin(
    gql: GraphQLClient, gql_as: UserClient
) -> None:
    # given a second admin
    other = await gql_as("second.admin@team.example", Role.ADMIN)
    other_id = (await other.data(ME))["me"]["id"]
    # when the first admin asks for a key acting as them
    payload = (await gql.data(MAKE_KEY, {"user": other_id}))["createApiKey"]
    # then it is refused, and no secret comes back
    assert payload == {
        "secret": None,
        "userErrors": [{"code": "FORBIDDEN", "field": ["input", "userId"]}],
    }


async def test_an_admin_may_mint_keys_for_an_integration_user(
    gql: GraphQLClient, gql_as: UserClient
) -> None:
    robot = await gql_as("import-robot@team.example", Role.MANAGER)
    robot_id = (await robot.data(ME))["me"]["id"]
    payload = (await gql.data(MAKE_KEY, {"user": robot_id}))["createApiKey"]
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("crm_")
