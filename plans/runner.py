"""Answering a request from its plan, or handing it back to the executor.

A plan answers only what it answers exactly as the executor would: a caller whose role
may read, variables that coerce, arguments the resolvers would accept. Anything else,
and any failure on the way (a refused statement, a lost connection), returns None and
the request runs through the executor, which gives the usual errors. Reads only, so
running it twice changes nothing. Except a statement the statement timeout stopped: the
executor would wait as long again, on a database that is already too slow, so the
timeout is raised and the request is answered TIMEOUT (web/graphql_http.py).
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql.execution.values import get_variable_values

from db.errors import timed_out
from db.read_pool import ReadPool
from domain.access import allows
from plans.compiler import ReadPlan
from plans.selection import Unplannable
from schema.permissions import root_permissions
from services.scope import Scope

log = logging.getLogger(__name__)


class ReadPlans:
    def __init__(self, schema: strawberry.Schema, pool: ReadPool) -> None:
        self._schema = schema._schema
        self._needs = root_permissions(schema, "Query")  # what each root field declares
        self._pool = pool

    async def answer(
        self, plan: ReadPlan, variables: Mapping[str, Any] | None, scope: Scope
    ) -> dict[str, Any] | None:
        """The response's `data`, or None: let the executor answer."""
        if not self._allowed(plan, scope):
            return None
        given = variables or {}
        coerced = plan.variables.coerce(given) or get_variable_values(
            self._schema, plan.operation.variable_definitions or (), dict(given)
        )
        if isinstance(coerced, list):
            return None
        try:
            statements = [root.statement(scope.tenant_id, coerced) for root in plan.roots]
        except Unplannable:
            return None
        now = datetime.now(UTC)
        data: dict[str, Any] = {}
        try:
            async with self._pool.acting_for(scope.tenant_id) as conn:
                for root, statement in zip(plan.roots, statements, strict=True):
                    rows = (
                        []
                        if statement.sql is None
                        else await conn.fetch(statement.sql, *statement.parameters)
                    )
                    data[root.key] = root.shape(rows, statement, now)
        except Exception as error:
            if timed_out(error):
                raise
            log.warning("a planned read failed; the executor answers instead", exc_info=True)
            return None
        return data

    def _allowed(self, plan: ReadPlan, scope: Scope) -> bool:
        """Whether the caller holds every permission the plan's root fields declare, as
        their permission classes (schema/permissions.py) would decide."""
        for root in plan.roots:
            needed = self._needs.get(root.selected.name)
            if needed is not None and (scope.role is None or not allows(scope.role, needed)):
                return False
        return True
