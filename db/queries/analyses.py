"""Reads and writes of `lead_analyses`."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.keyset import Page, PageRequest
from db.models import LeadAnalysis, table
from db.queries.windows import page_per_parent
from db.records import AnalysisRecord, columns_of

analyses = table(LeadAnalysis)
_COLUMNS = columns_of(AnalysisRecord, analyses)

# The class of the per-lead advisory locks around a model call ("ANLZ"); other classes:
# the event journal's and the webhooks' (their two-key locks never meet these).
ANALYSIS_LOCK: Final = 1095650394
_LOCK_POLL_SECONDS: Final = 0.05


class LeadBusy(Exception):
    """Another analysis of the lead held its lock for longer than the caller would wait."""


@asynccontextmanager
async def analyzing(
    engine: AsyncEngine, *, lead_id: int, wait_seconds: float
) -> AsyncIterator[None]:
    """Hold the lead's advisory lock for the block, across every process on the database.

    The lock lives on a connection of its own, outside any transaction, so the block may
    open and commit its transactions freely. Waiters poll, and hold no connection between
    polls: a crowd waiting for one lead cannot drain the pool its holder needs. A waiter
    gives up (LeadBusy) after `wait_seconds`."""
    key = {"cls": ANALYSIS_LOCK, "key": lead_id % 2_147_483_647}
    conn = await _locked_connection(engine, key, wait_seconds)
    try:
        yield
    finally:
        await _release(conn, key)


async def _locked_connection(
    engine: AsyncEngine, key: dict[str, int], wait_seconds: float
) -> AsyncConnection:
    # A deadline checked between polls, never a cancellation of one: see _settled.
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        conn = await engine.connect()
        async with _settled(conn):
            locked = await conn.scalar(text("SELECT pg_try_advisory_lock(:cls, :key)"), key)
            await conn.commit()  # no transaction stays open while the lock is held
        if locked:
            return conn
        await conn.close()
        if asyncio.get_running_loop().time() >= deadline:
            raise LeadBusy
        await asyncio.sleep(_LOCK_POLL_SECONDS)


async def _release(conn: AsyncConnection, key: dict[str, int]) -> None:
    async with _settled(conn):
        await conn.execute(text("SELECT pg_advisory_unlock(:cls, :key)"), key)
        await conn.commit()
    await conn.close()


@asynccontextmanager
async def _settled(conn: AsyncConnection) -> AsyncIterator[None]:
    """If the block fails or is cancelled half-way, the lock's state on `conn` is unknown:
    end its session (which releases any lock it holds) rather than pool it."""
    try:
        yield
    except BaseException:
        await conn.invalidate()
        await conn.close()
        raise


async def insert_analysis(conn: AsyncConnection, *, values: dict[str, Any]) -> AnalysisRecord:
    stmt = insert(analyses).values(**values).returning(*_COLUMNS)
    return AnalysisRecord.from_row((await conn.execute(stmt)).one())


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, analysis_ids: Sequence[int]
) -> list[AnalysisRecord]:
    stmt = select(*_COLUMNS).where(
        analyses.c.tenant_id == tenant_id, analyses.c.id.in_(analysis_ids)
    )
    return [AnalysisRecord.from_row(row) for row in await conn.execute(stmt)]


async def find_reusable(
    conn: AsyncConnection,
    *,
    lead_id: int,
    scoring_input: dict[str, Any],
    scorer: str,
    not_before: datetime,
) -> AnalysisRecord | None:
    """The newest analysis by this scorer of exactly this input, made after `not_before`."""
    stmt = (
        select(*_COLUMNS)
        .where(
            analyses.c.lead_id == lead_id,
            analyses.c.scorer == scorer,
            analyses.c.input == scoring_input,
            analyses.c.created_at >= not_before,
        )
        .order_by(analyses.c.created_at.desc(), analyses.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else AnalysisRecord.from_row(row)


async def pages_by_lead(
    conn: AsyncConnection, *, lead_ids: Sequence[int], request: PageRequest
) -> dict[int, Page[AnalysisRecord]]:
    """Newest first, one page per lead, in one statement."""
    return await page_per_parent(
        conn,
        table=analyses,
        columns=_COLUMNS,
        parent_column=analyses.c.lead_id,
        parent_ids=lead_ids,
        descending=True,
        request=request,
        build=AnalysisRecord.from_row,
    )
