"""Errors that reach clients as GraphQL errors (not userErrors), with extensions.code."""

from graphql import GraphQLError


class ClientError(GraphQLError):
    """A request the client must fix; safe to show as is."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class BadRequest(ClientError):
    code = "BAD_REQUEST"
