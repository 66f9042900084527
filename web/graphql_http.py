"""GraphQL over HTTP (the graphql-over-http spec), served by Starlette.

- POST with a JSON body, or GET with URL parameters (queries only; mutations need POST).
- POST as `multipart/form-data` per the GraphQL multipart request spec, for file uploads
  (importLeads), up to CRM_IMPORT_MAX_BYTES (web/params.py).
- `application/graphql-response+json` when the client asks for it: request errors (parse,
  validation, limits, variables) are HTTP 400 without `data`. With the legacy
  `application/json` every well-formed request gets 200, as the spec asks.
- A malformed HTTP request (not JSON, wrong shape, too large) is a 4xx in both.
- A caller over its rate limit gets 429 with `Retry-After` (`RATE_LIMITED`), checked
  right after authentication, before the body is even read.
- A statement PostgreSQL cancels at the statement timeout is a `TIMEOUT` error in its
  field (or for the request), not a mystery: the client learns to ask for less.
- A query of leads that a compiled plan covers (plans/) is answered by its plan, one SQL
  statement and no executor, with exactly the JSON the executor would give.
- Unexpected exceptions are masked as `INTERNAL` with the request id and logged in full;
  no request gets a 500 or a stack trace.
"""

import dataclasses
import logging
import random
import re
from collections.abc import Sequence
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    execute,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from strawberry.http.ides import get_graphql_ide_html

from db.errors import timed_out
from db.tenancy import acting_for
from domain.access import allows
from plans.runner import ReadPlans
from resolvers.context import AppServices, Context
from schema.permissions import root_permissions
from services.scope import Scope
from web.authentication import authenticate
from web.documents import BAD_REQUEST, DocumentCache, PreparedDocument, as_bad_request
from web.masking import internal_error, masked, timeout_error
from web.negotiation import GRAPHQL_RESPONSE, JSON, prefers_html, response_media_type
from web.params import GraphQLParams, RequestError, read_params
from web.rate_limit import RateLimiter

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_GRAPHIQL = get_graphql_ide_html("graphiql")


class GraphQLEndpoint:
    def __init__(
        self,
        *,
        schema: strawberry.Schema,
        services: AppServices,
        documents: DocumentCache,
        limiter: RateLimiter | None = None,
        plans: ReadPlans | None = None,
    ) -> None:
        self._schema = schema
        self._plans = plans
        self._mutation_permissions = root_permissions(schema, "Mutation")
        self._services = services
        self._documents = documents
        self._limiter = limiter

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        """The endpoint as an ASGI app of its own (web/routing.py says why)."""
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Every response carries X-Request-ID, the id an INTERNAL error names."""
        request_id = _request_id(request)
        response = await self._respond(request, request_id)
        response.raw_headers.append((b"x-request-id", request_id.encode()))
        return response

    async def _respond(self, request: Request, request_id: str) -> Response:
        accept = request.headers.get("accept")
        if request.method != "POST" and prefers_html(accept):
            return HTMLResponse(_GRAPHIQL, headers={"Vary": "Accept"})
        media_type = response_media_type(accept)
        if media_type is None:
            error = RequestError(f"Accept {GRAPHQL_RESPONSE} or {JSON}.", 406)
            return _request_failure(error, JSON)
        try:
            scope = await authenticate(request, self._services)
            if scope is None:
                raise _unauthenticated()
            self._count_request(scope)
            settings = self._services.settings
            params = await read_params(
                request, settings.max_body_bytes, max_upload_bytes=settings.imports.max_bytes
            )
            return await self._run(request, scope, params, media_type, request_id)
        except RequestError as error:
            return _request_failure(error, media_type)
        except Exception as error:
            if timed_out(error):
                log.warning("request %s: a statement hit the statement timeout", request_id)
                return _result(None, [timeout_error(request_id)], media_type)
            log.exception("request %s failed outside any resolver", request_id)
            return _result(None, [internal_error(request_id)], media_type)

    def _count_request(self, scope: Scope) -> None:
        if self._limiter is None:
            return
        retry_after = self._limiter.take(scope)
        if retry_after is not None:
            raise RequestError(
                f"Too many requests for this credential; retry in {retry_after} s.",
                429,
                {"Retry-After": str(retry_after)},
                code="RATE_LIMITED",
            )

    async def _run(
        self,
        request: Request,
        scope: Scope,
        params: GraphQLParams,
        media_type: str,
        request_id: str,
    ) -> Response:
        prepared = self._documents.prepare(params.query)
        if prepared.errors:
            return _request_errors(prepared.errors, media_type)
        operation = prepared.operation_type(params.operation_name)
        if operation is OperationType.SUBSCRIPTION:
            return _request_errors([_subscription_over_http()], media_type)
        if operation is OperationType.MUTATION and request.method != "POST":
            # GET must be safe (caches and prefetchers repeat it), so it may only read.
            raise RequestError("Mutations need POST, not GET.", 405, {"Allow": "POST"})
        too_costly = self._documents.cost_error(prepared, params.operation_name, params.variables)
        if too_costly is not None:
            return _request_errors([too_costly], media_type)
        if operation is OperationType.MUTATION:
            refused = self._refused_mutations(prepared, params.operation_name, scope)
            if refused:
                return _result(None, refused, media_type)
        planned = await self._planned(prepared, params, scope)
        if planned is not None:
            return _result(planned, None, media_type)
        context = Context(
            app=self._services,
            scope=dataclasses.replace(scope, request_id=request_id),
            request_id=request_id,
        )
        with acting_for(scope.tenant_id):
            result = await self._execute(context, prepared, params)
        if result.data is None and _is_request_error(result):
            return _request_errors([as_bad_request(e) for e in result.errors or ()], media_type)
        return _result(result.data, masked(result.errors or [], request_id) or None, media_type)

    async def _planned(
        self, prepared: PreparedDocument, params: GraphQLParams, scope: Scope
    ) -> dict[str, Any] | None:
        """The data of a read its plan answers (plans/), or None: the executor runs."""
        plan = prepared.plans.get(params.operation_name)
        if plan is None or self._plans is None:
            return None
        return await self._plans.answer(plan, params.variables, scope)

    def _refused_mutations(
        self, prepared: PreparedDocument, operation_name: str | None, scope: Scope
    ) -> list[GraphQLError]:
        """All of an operation's mutations are checked before the first runs: a refusal
        halfway through would hide the changes already made (payloads are non-null)."""
        operation = prepared.operation(operation_name)
        if operation is None or prepared.document is None:
            return []  # execution reports the unknown operation as a request error
        return [
            GraphQLError(
                f"Your role may not run {name}; nothing in this operation ran.",
                path=[key],
                extensions={"code": "FORBIDDEN"},
            )
            for key, name in root_fields(prepared.document, operation)
            if name in self._mutation_permissions
            and (scope.role is None or not allows(scope.role, self._mutation_permissions[name]))
        ]

    async def _execute(
        self, context: Context, prepared: PreparedDocument, params: GraphQLParams
    ) -> ExecutionResult:
        assert prepared.document is not None
        result = execute(
            self._schema._schema,
            prepared.document,
            context_value=context,
            variable_values=params.variables,
            operation_name=params.operation_name,
            executor_class=self._schema.execution_context_class,
        )
        if isinstance(result, ExecutionResult):
            return result
        return await result


def _unauthenticated() -> RequestError:
    return RequestError(
        "Authentication required: send `Authorization: Bearer <API key>`.",
        401,
        {"WWW-Authenticate": 'Bearer realm="crm"'},
        code="UNAUTHENTICATED",
    )


# Unique, not secret: random bits after this process's own random prefix. The system's
# random source would cost a system call per request.
_PROCESS_PREFIX = f"{random.getrandbits(64):016x}"


def _request_id(request: Request) -> str:
    """The caller's X-Request-ID when it is a sane token (it reaches our logs), else a new one."""
    given = request.headers.get("x-request-id")
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return f"{_PROCESS_PREFIX}{random.getrandbits(64):016x}"


def _subscription_over_http() -> GraphQLError:
    return GraphQLError(
        "Subscriptions are served over WebSocket (graphql-transport-ws), not plain HTTP.",
        extensions={"code": BAD_REQUEST},
    )


def _is_request_error(result: ExecutionResult) -> bool:
    """Variable coercion and operation selection fail before any field runs (no path)."""
    return bool(result.errors) and all(error.path is None for error in result.errors or ())


def _request_errors(errors: Sequence[GraphQLError], media_type: str) -> Response:
    """No operation ran: no `data`; 400 only where the media type can say so (not JSON)."""
    status = 400 if media_type == GRAPHQL_RESPONSE else 200
    return _json({"errors": [error.formatted for error in errors]}, status, media_type)


def _result(data: Any, errors: list[GraphQLError] | None, media_type: str) -> Response:
    payload: dict[str, Any] = {"data": data}
    if errors:
        payload = {"errors": [error.formatted for error in errors], "data": data}
    return _json(payload, 200, media_type)


def _request_failure(error: RequestError, media_type: str) -> Response:
    payload = {"errors": [{"message": str(error), "extensions": {"code": error.code}}]}
    return _json(payload, error.status, media_type, error.headers)


def _json(
    payload: dict[str, Any], status: int, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Vary": "Accept", **(headers or {})},
    )


def root_fields(
    document: DocumentNode, operation: OperationDefinitionNode
) -> list[tuple[str, str]]:
    """(response key, field name) of each root field an operation selects, through
    fragments too."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields: list[tuple[str, str]] = []
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.append((key, selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                pending.append(fragments[selection.name.value].selection_set)
    return fields
