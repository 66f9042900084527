"""Reading a GraphQL-over-HTTP request into its parameters, refusing malformed ones.

Everything here fails with `RequestError` before any GraphQL work happens, so a broken
client gets a precise 4xx instead of a GraphQL error about something it did not send.
"""

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from web.negotiation import JSON


class RequestError(Exception):
    """The HTTP request itself is malformed; no GraphQL execution happens."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        code: str = "BAD_REQUEST",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.code = code


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


async def read_params(request: Request, max_body_bytes: int) -> GraphQLParams:
    """POST takes a JSON body; GET (and HEAD) take URL parameters, JSON-encoded where nested."""
    if request.method == "POST":
        _require_json_content(request.headers.get("content-type"))
        return params_from(_json(await _body(request, max_body_bytes), "The request body"))
    raw: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if name in raw:
            raw[name] = _json(raw[name], f"`{name}`")
    return params_from(raw)


def params_from(raw: Any) -> GraphQLParams:
    """Check the shape the spec gives the parameters; unknown keys are ignored."""
    if not isinstance(raw, dict):
        raise RequestError("The request must be a JSON object with a `query`.")
    query, variables = raw.get("query"), raw.get("variables")
    operation_name, extensions = raw.get("operationName"), raw.get("extensions")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("`query` must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("`variables` must be an object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("`operationName` must be a string.")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError("`extensions` must be an object.")
    return GraphQLParams(query=query, variables=variables, operation_name=operation_name)


def _require_json_content(content_type: str | None) -> None:
    """JSON in UTF-8 only (the spec's one required request type); UTF-8 when unstated."""
    media_type, *parameters = (part.strip().lower() for part in (content_type or "").split(";"))
    if media_type != JSON:
        raise RequestError("Send the request body as application/json.", 415)
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise RequestError("Send the request body in UTF-8 (charset=utf-8).", 415)


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` (before it is all read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> RequestError:
    return RequestError(f"The request body is larger than {limit} bytes.", 413)


def _json(text: str | bytes, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RequestError(f"{what} is not valid JSON.") from None
