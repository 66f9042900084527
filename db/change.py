"""A change and everything that records it, sent to PostgreSQL as one statement.

The change is a guarded write of one row (an UPDATE that names the version it was
decided on, or an INSERT that may find its key taken) returning that row as `changed`.
Each record of it (its stage history, audit entry, outcome, event...) is an INSERT that
selects from `changed`, so it is written exactly when the row is, by the same statement:
in autocommit the statement is the transaction. When the guard fails nothing is
written and `run` returns None; the service reads again and decides again.

    change = Change(update(...).where(..., version == read.version).returning(...))
    change.record(insert(audit_log).from_select(..., select(change.row.c.id, ...)))
    row = await change.run(conn)
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Insert, Row, Select, Table, Update, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import CTE


class Change:
    def __init__(self, write: Update | Insert) -> None:
        """`write` must return the row it writes (`.returning(...)`)."""
        self.row: CTE = write.cte("changed")
        self._records: list[CTE] = []
        self._answers: list[ColumnElement[Any]] = []

    def record(self, insert: Insert) -> CTE:
        """Add an INSERT that selects from `self.row` (or from an earlier record's
        RETURNING): it runs only for a written row. Its CTE, to select from."""
        cte = insert.cte(f"record_{len(self._records) + 1}")
        self._records.append(cte)
        return cte

    def answer(self, expression: ColumnElement[Any]) -> None:
        """Add a labelled expression, computed once for the written row and returned
        with it: a function with effects (queueing a job) runs only when the row is."""
        self._answers.append(expression)

    def statement(self) -> Select[Any]:
        return select(self.row, *self._answers).add_cte(*self._records)

    async def run(self, conn: AsyncConnection) -> Row[Any] | None:
        """Send the statement; the written row and the answers, or None when the guard
        kept the row from being written (and so nothing else was)."""
        row: Row[Any] | None = (await conn.execute(self.statement())).first()
        return row


def insert_from(
    table: Table, source: CTE, *, copied: Mapping[str, str], values: Mapping[str, Any]
) -> Insert:
    """INSERT INTO `table` one row per row of `source`: the target columns `copied` take
    the named columns of `source`, the others in `values` the values given."""
    return insert(table).from_select(
        [*copied, *values],
        select(
            *(source.c[name] for name in copied.values()),
            # typed as the target column: PostgreSQL cannot infer the type of a parameter
            # in the SELECT list of an INSERT ... SELECT
            *(literal(given, table.c[name].type) for name, given in values.items()),
        ),
    )
