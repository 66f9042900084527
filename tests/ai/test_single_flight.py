"""Single flight at the service: a request that finds a lead being scored waits for that
answer, and gives up cleanly when it does not come in time."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.database import Database, open_database
from db.models import DEFAULT_TENANT_ID
from db.queries import analyses as analysis_rows
from domain.access import Role
from domain.enums import LeadSource
from domain.errors import DomainError, ErrorCode
from services.ai import HeuristicScorer
from services.analysis import analyze_lead
from services.leads import NewLead, create_lead
from services.scope import Scope
from services.scorer_choice import Fixed

SCOPE = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[Database]:
    database = open_database(migrated, pool_size=2)
    yield database
    await database.dispose()


async def test_a_request_gives_up_when_the_lead_stays_busy(db: Database) -> None:
    # given a lead whose analysis lock another process holds
    lead = await create_lead(db=db, scope=SCOPE, new=NewLead(name="Busy", source=LeadSource.EVENT))
    async with analysis_rows.analyzing(db.engine, lead_id=lead.id, wait_seconds=1):
        # when it is analyzed by a request that waits at most 0.2 s
        with pytest.raises(DomainError) as refused:
            await analyze_lead(
                db=db,
                scope=SCOPE,
                scorers=Fixed(HeuristicScorer()),
                lead_id=lead.id,
                cache_ttl=timedelta(hours=1),
                wait_for_other=timedelta(seconds=0.2),
            )
    # then it hears AI_UNAVAILABLE, and nothing was stored
    assert [problem.code for problem in refused.value.problems] == [ErrorCode.AI_UNAVAILABLE]
    async with db.read() as conn:
        stored = await conn.scalar(
            select(func.count()).where(analysis_rows.analyses.c.lead_id == lead.id)
        )
    assert stored == 0


async def test_the_lock_is_free_again_after_a_failed_analysis(db: Database) -> None:
    # given a lead whose analysis failed while it held the lock
    lead = await create_lead(db=db, scope=SCOPE, new=NewLead(name="Again", source=LeadSource.EVENT))
    with pytest.raises(RuntimeError):
        async with analysis_rows.analyzing(db.engine, lead_id=lead.id, wait_seconds=1):
            raise RuntimeError("scorer bug")
    # when it is analyzed again; then the lock is taken at once and the analysis stored
    result = await analyze_lead(
        db=db,
        scope=SCOPE,
        scorers=Fixed(HeuristicScorer()),
        lead_id=lead.id,
        cache_ttl=timedelta(hours=1),
        wait_for_other=timedelta(seconds=0.2),
    )
    assert not result.reused
    assert result.analysis.scorer == "heuristic"
