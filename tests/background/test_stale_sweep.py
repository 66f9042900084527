"""Every ten minutes the worker queues, per tenant, the active leads whose advice is stale:
latest analysis older than the age, or never analysed and created before it. Oldest first,
bounded, never a lead twice while its job waits."""

from datetime import UTC, datetime

from sqlalchemy import text

from db.database import Database
from db.models import DEFAULT_TENANT_ID
from db.queries.rescoring import QUEUE_STALE
from services.background_scoring import queue_stale_leads
from tests.api.operations import analyze, change_stage, create_lead, database_id, ok
from tests.background.conftest import MakeScoring, age, rescore_jobs
from tests.conftest import GraphQLClient
from tests.tenants import second_tenant

STALE = 30.0  # hours: older than the default CRM_AI_RESCORE_AFTER_HOURS (24)


async def _analysed(gql: GraphQLClient, name: str, *, lost: bool = False) -> tuple[int, int]:
    """A new lead analysed now (then LOST, if `lost`): its id and its analysis's id."""
    lead = await create_lead(gql, name=name)
    analysis = ok(await analyze(gql, lead["id"]))["analysis"]
    if lost:
        ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    return database_id(lead["id"]), database_id(analysis["id"])


async def _created(gql: GraphQLClient, name: str) -> int:
    return database_id((await create_lead(gql, name=name))["id"])


def _now() -> datetime:
    return datetime.now(UTC)


async def test_the_sweep_queues_active_stale_leads_only_oldest_first(
    gql: GraphQLClient, owner: Database, scoring: MakeScoring
) -> None:
    # given an active lead analysed 30 hours ago, a lost one too, one analysed just now,
    # one never analysed created 30 hours ago, and one never analysed created just now
    stale, stale_analysis = await _analysed(gql, "Stale")
    _, lost_analysis = await _analysed(gql, "Lost", lost=True)
    await _analysed(gql, "Fresh")
    never_analysed = await _created(gql, "Never analysed")
    await _created(gql, "Brand new")
    await age(owner, "lead_analyses", [stale_analysis, lost_analysis], hours=STALE)
    await age(owner, "leads", [never_analysed], hours=STALE)
    # when the sweep runs with the default age (24 hours)
    queued = await queue_stale_leads(scoring(), now=_now())
    # then the two stale active leads are queued, the one never analysed first
    assert queued == 2
    assert [job.lead_id for job in await rescore_jobs(owner)] == [never_analysed, stale]
    assert {job.tenant_id for job in await rescore_jobs(owner)} == {DEFAULT_TENANT_ID}


async def test_the_sweep_is_bounded_and_a_second_one_adds_nothing_while_jobs_wait(
    gql: GraphQLClient, owner: Database, scoring: MakeScoring
) -> None:
    # given three stale leads
    leads = [await _created(gql, f"Old {n}") for n in range(3)]
    await age(owner, "leads", leads, hours=STALE)
    sweep = scoring(rescore_sweep_limit=2)
    # when the sweep runs with a limit of two
    first = await queue_stale_leads(sweep, now=_now())
    # then the two oldest are queued
    assert first == 2
    assert [job.lead_id for job in await rescore_jobs(owner)] == leads[:2]
    # and when it runs again while their jobs wait, it queues nothing more
    assert await queue_stale_leads(sweep, now=_now()) == 0
    assert [job.lead_id for job in await rescore_jobs(owner)] == leads[:2]


async def test_each_tenant_is_swept_for_its_own_leads(
    gql: GraphQLClient, owner: Database, migrated: str, scoring: MakeScoring
) -> None:
    # given a stale lead in the default tenant and one in another tenant
    ours = await _created(gql, "Ours")
    await age(owner, "leads", [ours], hours=STALE)
    async with second_tenant(migrated, "Sweep Other") as other:
        async with owner.transaction() as conn:
            theirs = await conn.scalar(
                text(
                    "INSERT INTO leads (tenant_id, name, source, created_at) "
                    "VALUES (:tenant, 'Theirs', 'partner', now() - interval '30 hours') "
                    "RETURNING id"
                ),
                {"tenant": other.tenant_id},
            )
        # when the sweep runs
        await queue_stale_leads(scoring(), now=_now())
        # then each is queued for its own tenant
        found = {(job.tenant_id, job.lead_id) for job in await rescore_jobs(owner)}
    assert found == {(DEFAULT_TENANT_ID, ours), (other.tenant_id, theirs)}


async def test_zero_turns_the_sweep_off(
    gql: GraphQLClient, owner: Database, scoring: MakeScoring
) -> None:
    # given a stale lead
    lead = await _created(gql, "Old")
    await age(owner, "leads", [lead], hours=STALE)
    # when the sweep runs with CRM_AI_RESCORE_AFTER_HOURS=0
    queued = await queue_stale_leads(scoring(rescore_after_hours=0), now=_now())
    # then nothing is queued
    assert queued == 0
    assert await rescore_jobs(owner) == []


LEADS = """
INSERT INTO leads (tenant_id, name, source, stage, lost_reason, created_at)
SELECT 1, 'Lead ' || g, 'partner', (ARRAY['new','contacted','qualified','lost'])[1 + g % 4],
       CASE WHEN g % 4 = 3 THEN 'gone' END, now() - make_interval(hours => g % 48)
FROM generate_series(1, 20000) AS g
"""


async def test_the_sweep_reads_through_its_indexes(owner: Database) -> None:
    # given 20,000 leads and fresh statistics
    async with owner.transaction() as conn:
        await conn.exec_driver_sql(LEADS)
    async with owner.transaction() as conn:
        await conn.exec_driver_sql("ANALYZE leads")
        await conn.exec_driver_sql("ANALYZE lead_analyses")
    # when the sweep's statement is planned (sequential scans off: can an index serve it?)
    async with owner.transaction() as conn:
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in await conn.execute(
                text(f"EXPLAIN {QUEUE_STALE.text}"),
                {"tenant_id": DEFAULT_TENANT_ID, "before": _now(), "limit": 200},
            )
        )
    # then it walks the active leads in analysis order, and finds the bound by index
    assert "ix_leads_rescore_queue" in plan, plan
    assert "ix_lead_analyses_tenant_created" in plan, plan
    assert "Sort" not in plan, plan
