"""Background scoring: the worker analyses leads again by itself.

Two triggers queue the job `ai.rescore_lead` for a lead: every N-th inbound message (in
the message's transaction), and a sweep every few minutes of the active leads whose
latest analysis is older than an age (a lead never analysed counts from its creation:
it has had no advice for that long), oldest first, a bounded number per tenant so a big
import cannot flood the model. The queue holds at most one waiting job per lead, so a
burst of messages, or a sweep while jobs still wait, adds nothing.

The job scores through `analyze_lead`, as a person's analyzeLead does: same cache, same
single flight, same stored analysis, audit entry and LEAD_ANALYZED event (and so the
same subscriptions and webhooks). Nothing here changes a lead: the advice is advisory.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.change import Change
from db.database import Database
from db.queries import leads as lead_rows
from db.queries import rescoring
from db.queries import tenants as tenant_rows
from db.tenancy import acting_for
from domain.enums import MessageDirection
from domain.errors import DomainError
from domain.lifecycle import FINAL_LEAD_STAGES
from services.analysis import analyze_lead
from services.scope import Scope
from services.scorer_choice import ScorerSource

log = logging.getLogger(__name__)

ACTOR = "background scoring"  # who the audit log and the journal name for these analyses


@dataclass(frozen=True, slots=True)
class BackgroundScoring:
    """What the worker's scoring jobs need; built once per worker (worker/runner.py)."""

    db: Database  # the app login: Row Level Security, per job's tenant
    owner: Database  # the owner login: the list of tenants, which no tenant may read
    scorers: ScorerSource  # each tenant's scorer, as a person's analyzeLead gets it
    cache_ttl: timedelta
    wait_for_other: timedelta  # single flight: how long to wait for another's scoring
    stale_after: timedelta | None  # None: no sweep
    sweep_limit: int


def queue_after_message_in(change: Change, *, direction: MessageDirection, every: int) -> None:
    """In the statement recording a message: queue the lead's re-analysis when this
    inbound message makes its inbound count a multiple of `every` (0: never)."""
    if every > 0 and direction is MessageDirection.INBOUND:
        rescoring.queue_after_inbound_message_in(change, every=every)


async def rescore_lead(scoring: BackgroundScoring, *, tenant_id: int, lead_id: int) -> str:
    """Analyse one lead for its tenant, unless it is gone or final. A scorer that cannot
    answer (AI_UNAVAILABLE, the budget spent with no fallback) ends the job quietly: the
    next trigger or sweep tries again, and nothing retries in a storm. What it did."""
    with acting_for(tenant_id):
        if not await _still_open(scoring.db, tenant_id=tenant_id, lead_id=lead_id):
            return f"lead {lead_id} is gone or final: not scored"
        try:
            result = await analyze_lead(
                db=scoring.db,
                scope=Scope(tenant_id=tenant_id, actor=ACTOR),
                scorers=scoring.scorers,
                lead_id=lead_id,
                cache_ttl=scoring.cache_ttl,
                wait_for_other=scoring.wait_for_other,
            )
        except DomainError as refused:
            log.warning("background scoring of lead %s not done: %s", lead_id, refused)
            return f"lead {lead_id} not scored: {refused}"
    verb = "reused" if result.reused else "stored"
    return f"lead {lead_id}: {verb} analysis {result.analysis.id} ({result.analysis.score})"


async def _still_open(db: Database, *, tenant_id: int, lead_id: int) -> bool:
    async with db.read() as conn:
        lead = await lead_rows.get(conn, tenant_id=tenant_id, lead_id=lead_id)
    return lead is not None and lead.stage not in FINAL_LEAD_STAGES


async def queue_stale_leads(scoring: BackgroundScoring, *, now: datetime) -> int:
    """For every tenant, queue up to `sweep_limit` active leads whose latest analysis is
    older than `stale_after` (never analysed: created before that), oldest first; how
    many were queued. The tenants are listed on the owner login (a tenant sees only
    itself); each tenant's leads are read and queued acting for it, in one statement, so
    Row Level Security keeps each tenant's sweep to its own leads."""
    if scoring.stale_after is None:
        return 0
    async with scoring.owner.read() as conn:
        tenant_ids = await tenant_rows.all_ids(conn)
    before = now - scoring.stale_after
    queued = 0
    for tenant_id in tenant_ids:
        try:
            queued += await _queue_stale_of(scoring, tenant_id=tenant_id, before=before)
        except Exception:  # one tenant's failure must not keep the others' leads stale
            log.exception(
                "the stale sweep of tenant %s failed; the next sweep tries again", tenant_id
            )
    return queued


async def _queue_stale_of(scoring: BackgroundScoring, *, tenant_id: int, before: datetime) -> int:
    with acting_for(tenant_id):
        async with scoring.db.transaction() as conn:
            return await rescoring.queue_stale(
                conn, tenant_id=tenant_id, analyzed_before=before, limit=scoring.sweep_limit
            )
