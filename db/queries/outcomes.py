"""Reads and writes of `lead_outcomes` and the analyses linked to each."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change, insert_from
from db.models import LeadAnalysis, LeadOutcome, LeadOutcomeAnalysis, table
from db.records import AnalysisRecord, OutcomeRecord, ScoredOutcomeRecord, columns_of

outcomes = table(LeadOutcome)
links = table(LeadOutcomeAnalysis)
analyses = table(LeadAnalysis)
_COLUMNS = columns_of(OutcomeRecord, outcomes)
_ANALYSIS_COLUMNS = columns_of(AnalysisRecord, analyses)


async def insert_outcome(conn: AsyncConnection, *, values: dict[str, Any]) -> OutcomeRecord:
    stmt = insert(outcomes).values(**values).returning(*_COLUMNS)
    return OutcomeRecord.from_row((await conn.execute(stmt)).one())


async def link_analyses_so_far(conn: AsyncConnection, *, outcome: OutcomeRecord) -> int:
    """Link every analysis of the outcome's lead committed by now; returns how many."""
    made_so_far = select(literal(outcome.id), analyses.c.id, analyses.c.tenant_id).where(
        analyses.c.tenant_id == outcome.tenant_id, analyses.c.lead_id == outcome.lead_id
    )
    stmt = insert(links).from_select(["outcome_id", "analysis_id", "tenant_id"], made_so_far)
    return (await conn.execute(stmt)).rowcount


def insert_in(change: Change, *, values: dict[str, Any]) -> None:
    """The changed lead's outcome, linked to every analysis of the lead made so far,
    written by the change's own statement."""
    outcome = change.record(
        insert_from(
            outcomes, change.row, copied={"tenant_id": "tenant_id", "lead_id": "id"}, values=values
        ).returning(outcomes.c.id, outcomes.c.tenant_id, outcomes.c.lead_id)
    )
    made_so_far = select(outcome.c.id, analyses.c.id, analyses.c.tenant_id).where(
        analyses.c.tenant_id == outcome.c.tenant_id, analyses.c.lead_id == outcome.c.lead_id
    )
    change.record(
        insert(links).from_select(["outcome_id", "analysis_id", "tenant_id"], made_so_far)
    )


async def by_leads(
    conn: AsyncConnection, *, tenant_id: int, lead_ids: Sequence[int]
) -> list[OutcomeRecord]:
    stmt = select(*_COLUMNS).where(
        outcomes.c.tenant_id == tenant_id, outcomes.c.lead_id.in_(lead_ids)
    )
    return [OutcomeRecord.from_row(row) for row in await conn.execute(stmt)]


async def analyses_by_outcomes(
    conn: AsyncConnection, *, tenant_id: int, outcome_ids: Sequence[int]
) -> dict[int, list[AnalysisRecord]]:
    """Each outcome's linked analyses, oldest first."""
    stmt = (
        select(*_ANALYSIS_COLUMNS, links.c.outcome_id)
        .join(links, links.c.analysis_id == analyses.c.id)
        .where(links.c.tenant_id == tenant_id, links.c.outcome_id.in_(outcome_ids))
        .order_by(analyses.c.created_at, analyses.c.id)
    )
    grouped: dict[int, list[AnalysisRecord]] = defaultdict(list)
    for row in await conn.execute(stmt):
        grouped[row.outcome_id].append(AnalysisRecord.from_row(row[:-1]))
    return grouped


async def scored(conn: AsyncConnection, *, tenant_id: int) -> list[ScoredOutcomeRecord]:
    """For every outcome and every scorer that scored its lead before it, that scorer's
    last score: the prediction the outcome judges."""
    stmt = (
        select(outcomes.c.lead_id, analyses.c.scorer, analyses.c.score, outcomes.c.result)
        .select_from(outcomes)
        .join(links, links.c.outcome_id == outcomes.c.id)
        .join(analyses, analyses.c.id == links.c.analysis_id)
        .where(outcomes.c.tenant_id == tenant_id)
        .ext(distinct_on(outcomes.c.id, analyses.c.scorer))
        .order_by(
            outcomes.c.id, analyses.c.scorer, analyses.c.created_at.desc(), analyses.c.id.desc()
        )
    )
    return [ScoredOutcomeRecord.from_row(row) for row in await conn.execute(stmt)]
