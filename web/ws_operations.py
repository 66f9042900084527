"""One subscription over WebSocket: checked like an HTTP request, then executed per delivery.

A `subscribe` message passes the checks the HTTP endpoint makes (the parse/validate cache
with its token, depth, alias and cost limits; the permission table) before anything
starts. Its source stream is a hub mailbox; each delivery is executed against the
subscriber's selection with graphql-core and the schema's own execution context class.

One event reaches N subscribers of a tenant as one shared `Delivery`, so:
- their DataLoaders are shared per delivered batch (one query loads a lead for all);
- subscribers sending the same operation text with the same variables and role get one
  execution, serialized once: N subscribers cost one execution and N sends.
"""

import asyncio
import inspect
import logging
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationType,
    create_source_event_stream,
    execute_subscription_event,
)
from graphql.execution import Executor

from domain.access import allows
from domain.global_ids import to_global_id
from realtime.hub import Delivery, Overflowed
from resolvers.context import AppServices, Context
from resolvers.loaders import Loaders
from schema.permissions import root_permissions
from services.scope import Scope
from web.documents import BAD_REQUEST, DocumentCache, as_bad_request
from web.graphql_http import root_fields
from web.masking import masked

log = logging.getLogger(__name__)

OVERFLOW = "SUBSCRIPTION_OVERFLOW"


@dataclass(frozen=True, slots=True)
class Plan:
    """A subscription that passed every check, ready to start."""

    document: DocumentNode
    variables: dict[str, Any] | None
    operation_name: str | None
    share_key: tuple[str, str | None, bytes, str | None]


class SubscriptionEnded(Exception):
    """The subscription stops with these errors (the protocol's `error` message)."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


class Operations:
    def __init__(
        self, *, schema: strawberry.Schema, services: AppServices, documents: DocumentCache
    ) -> None:
        self._schema = schema
        self._services = services
        self._documents = documents
        self._permissions = root_permissions(schema, "Subscription")

    def prepare(
        self,
        scope: Scope,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> Plan:
        """Parse, validate, limit, cost and authorize; SubscriptionEnded when refused."""
        prepared = self._documents.prepare(query)
        if prepared.errors or prepared.document is None:
            raise SubscriptionEnded(list(prepared.errors))
        operation = prepared.operation(operation_name)
        if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
            raise SubscriptionEnded([_queries_over_http()])
        too_costly = self._documents.cost_error(prepared, operation_name, variables)
        if too_costly is not None:
            raise SubscriptionEnded([too_costly])
        if operation is not None:
            refused = [
                GraphQLError(
                    f"Your role may not subscribe to {name}.",
                    path=[key],
                    extensions={"code": "FORBIDDEN"},
                )
                for key, name in root_fields(prepared.document, operation)
                if name in self._permissions
                and (scope.role is None or not allows(scope.role, self._permissions[name]))
            ]
            if refused:
                raise SubscriptionEnded(refused)
        # Shared per role: any future user-scoped field must add the user to the share key.
        role = None if scope.role is None else scope.role.value
        variables_key = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        return Plan(
            prepared.document,
            variables,
            operation_name,
            (query, operation_name, variables_key, role),
        )

    async def start(self, plan: Plan, context: Context) -> "Running":
        """Resolve the subscription's source stream (its mailbox is open from now on);
        SubscriptionEnded when it cannot start. Call under `acting_for` the caller's tenant."""
        executor = self._schema.execution_context_class.build(
            self._schema._schema,
            plan.document,
            None,
            context,
            plan.variables,
            plan.operation_name,
        )
        if isinstance(executor, list):
            raise SubscriptionEnded([as_bad_request(error) for error in executor])
        source = create_source_event_stream(executor)
        if inspect.isawaitable(source):
            source = await source
        if isinstance(source, ExecutionResult):
            raise SubscriptionEnded(masked(source.errors or [], context.request_id))
        return Running(self._services, executor, source, context, plan)


class Running:
    """A started subscription: its source stream and how each delivery is executed."""

    def __init__(
        self,
        services: AppServices,
        executor: Executor[Any],
        source: AsyncIterable[Any],
        context: Context,
        plan: Plan,
    ) -> None:
        self._services = services
        self._executor = executor
        self._source = source
        self._context = context
        self._plan = plan

    async def results(self) -> AsyncIterator[str]:
        """The serialized `next` payloads, one per delivery; SubscriptionEnded when the
        subscriber fell behind."""
        try:
            async for item in self._source:
                yield await self._result(item)
        except Overflowed as overflow:
            raise SubscriptionEnded([_overflow_error(overflow)]) from None

    async def aclose(self) -> None:
        """Stop the source (unsubscribe); harmless to repeat."""
        closing = getattr(self._source, "aclose", None)
        if closing is not None:
            await closing()

    async def _result(self, item: Any) -> str:
        executor, context = self._executor, self._context
        if not isinstance(item, Delivery):
            return await _execute(executor, item, context)
        batch = item.batch
        loaders = batch.shared(Loaders, lambda: Loaders(self._services.db, batch.tenant_id))
        context.share_loaders(loaders)
        shared = item.shared(
            self._plan.share_key, lambda: _shared(_execute(executor, item.root, context))
        )
        return await asyncio.shield(shared)


async def _execute(executor: Executor[Any], root: Any, context: Context) -> str:
    result = execute_subscription_event(executor.build_per_event_executor(root))
    if inspect.isawaitable(result):
        result = await result
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        errors = masked(result.errors, context.request_id)
        payload = {"errors": [error.formatted for error in errors], "data": result.data}
    return orjson.dumps(payload).decode()


def _shared(execution: Any) -> "asyncio.Task[str]":
    """A task every subscriber of the delivery awaits; a subscriber that leaves meanwhile
    does not cancel it for the others."""
    task: asyncio.Task[str] = asyncio.ensure_future(execution)
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


def _queries_over_http() -> GraphQLError:
    return GraphQLError(
        "Only subscriptions are served over WebSocket: send queries and mutations to "
        "/graphql over HTTP.",
        extensions={"code": BAD_REQUEST},
    )


def _overflow_error(overflow: Overflowed) -> GraphQLError:
    last = overflow.last_event_id
    extensions: Mapping[str, Any] = {
        "code": OVERFLOW,
        "lastEventId": None if last is None else to_global_id("Event", last),
    }
    return GraphQLError(
        "This subscription fell too far behind and was ended. Read what you missed with "
        "`events(after: lastEventId)` (lastEventId null: from the oldest kept event), then "
        "subscribe again with `after:` the last event you read.",
        extensions=dict(extensions),
    )
