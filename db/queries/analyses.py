"""Reads and writes of `lead_analyses`."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.keyset import Page, PageRequest
from db.models import LeadAnalysis, table
from db.queries.windows import page_per_parent
from db.records import AnalysisRecord, columns_of

analyses = table(LeadAnalysis)
_COLUMNS = columns_of(AnalysisRecord, analyses)


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
