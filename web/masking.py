"""What a client may see of a failure: GraphQL errors as they are, anything else masked.

Shared by the HTTP and WebSocket endpoints. A statement PostgreSQL cancelled at the
statement timeout becomes `TIMEOUT`; any other exception an opaque `INTERNAL` with the
request id, logged in full here and never shown.
"""

import logging

from graphql import GraphQLError

from db.errors import timed_out

log = logging.getLogger(__name__)

_INTERNAL = "Internal server error."


def masked(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """GraphQL errors pass as they are; any other exception becomes TIMEOUT or INTERNAL."""
    return [_mask(error, request_id) for error in errors]


def _mask(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    if timed_out(original):
        log.warning("request %s: the statement timeout stopped %s", request_id, error.path)
        return timeout_error(request_id, error)
    log.error("request %s: resolver at %s raised", request_id, error.path, exc_info=original)
    return internal_error(request_id, error)


def internal_error(request_id: str, located: GraphQLError | None = None) -> GraphQLError:
    return GraphQLError(
        _INTERNAL,
        located.nodes if located else None,
        path=located.path if located else None,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )


def timeout_error(request_id: str, located: GraphQLError | None = None) -> GraphQLError:
    return GraphQLError(
        "The database stopped this query: it ran longer than the statement timeout. "
        "Ask for less (smaller pages, fewer nested lists) or try again later.",
        located.nodes if located else None,
        path=located.path if located else None,
        extensions={"code": "TIMEOUT", "requestId": request_id},
    )
