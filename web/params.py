"""Reading a GraphQL-over-HTTP request into its parameters, refusing malformed ones.

Everything here fails with `RequestError` before any GraphQL work happens, so a broken
client gets a precise 4xx instead of a GraphQL error about something it did not send.
A multipart request (file uploads) is read into the same parameters, each file's bytes
in its variable (see the block at the end).
"""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
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


async def read_params(
    request: Request, max_body_bytes: int, max_upload_bytes: int | None = None
) -> GraphQLParams:
    """POST takes a JSON body; GET (and HEAD) take URL parameters, JSON-encoded where nested.
    With `max_upload_bytes`, POST may also be a multipart request with files (below)."""
    if request.method == "POST":
        if max_upload_bytes is not None and is_multipart(request.headers.get("content-type")):
            operations = await read_multipart(
                request, max_fields_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes
            )
            return params_from(operations)
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


# ---------------------------------------------------------------- multipart uploads
# The GraphQL multipart request spec (github.com/jaydenseric/graphql-multipart-request-spec):
# form fields `operations` (the usual JSON parameters, files as nulls) and `map` (file
# field -> paths of those nulls), then the files. Each file's content (bytes) replaces its
# nulls, which is what the `Upload` scalar then hands to resolvers. Starlette's multipart
# parser (the one request.form() runs) reads a stream cut off at the size limit, so even
# a body without Content-Length cannot grow past it. A cross-site HTML form can send this
# content type, but never the bearer credential every request needs.

MULTIPART = "multipart/form-data"
_MAX_FILES = 5
_MAX_FIELDS = 10


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == MULTIPART


async def read_multipart(
    request: Request, *, max_fields_bytes: int, max_upload_bytes: int
) -> dict[str, Any]:
    """The request's parameters with each mapped file's bytes in place of its null."""
    limit = max_upload_bytes + max_fields_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    form = await _form(request, limit, max_fields_bytes)
    try:
        operations = _json(_text_field(form, "operations"), "The `operations` field")
        files_map = _json(_text_field(form, "map"), "The `map` field")
        if not isinstance(operations, dict):
            raise RequestError("`operations` must be one JSON object (batches are not served).")
        await _put_files(operations, _checked_map(files_map), form)
        return operations
    finally:
        await form.close()


async def _form(request: Request, limit: int, max_fields_bytes: int) -> FormData:
    parser = MultiPartParser(
        request.headers,
        _limited(request.stream(), limit),
        max_files=_MAX_FILES,
        max_fields=_MAX_FIELDS,
        max_part_size=max_fields_bytes,
    )
    try:
        return await parser.parse()
    except MultiPartException as error:
        raise RequestError(f"The multipart body is malformed: {error.message}") from None


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        yield chunk


def _text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        raise RequestError(f"A multipart request needs the form field `{name}` (as text) first.")
    return value


def _checked_map(files_map: Any) -> dict[str, list[str]]:
    if not isinstance(files_map, dict) or not all(
        isinstance(paths, list) and all(isinstance(path, str) for path in paths)
        for paths in files_map.values()
    ):
        raise RequestError("`map` must be a JSON object of file field -> list of paths.")
    return files_map


async def _put_files(
    operations: dict[str, Any], files_map: dict[str, list[str]], form: FormData
) -> None:
    for name, paths in files_map.items():
        upload = form.get(name)
        if not isinstance(upload, UploadFile):
            raise RequestError(f"`map` names the file field {name!r}, but no such file was sent.")
        content = await upload.read()
        for path in paths:
            _put(operations, path, content)


def _put(operations: dict[str, Any], path: str, content: bytes) -> None:
    """Replace the null at `path` (`variables.input.file`, list indexes as numbers)."""
    *parents, last = path.split(".")
    if not parents or parents[0] != "variables":
        raise RequestError(f"The map path {path!r} must point into `variables`.")
    container: Any = operations
    for key in [*parents, last]:
        holder = container
        container = _child(container, key, path)
    if container is not None:
        raise RequestError(f"The map path {path!r} must point at a null in `operations`.")
    if isinstance(holder, list):
        holder[int(last)] = content
    else:
        holder[last] = content


def _child(container: Any, key: str, path: str) -> Any:
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list) and key.isdigit() and int(key) < len(container):
        return container[int(key)]
    raise RequestError(f"The map path {path!r} names nothing in `operations`.")
