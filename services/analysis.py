"""Advisory AI analysis of a lead: build the scorer's input, ask, validate, store.

An analysis never changes the lead's business state (stage, version, contact data):
it only records advice for a person to act on.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import ai_usage as usage_rows
from db.queries import analyses as analysis_rows
from db.queries import leads as lead_rows
from db.records import AnalysisRecord, LeadRecord
from domain.errors import DomainError, ErrorCode, not_found
from domain.events import EventType
from domain.lifecycle import days_since
from services import audit, events
from services.ai import Assessment, Scorer, ScorerUnavailable, ScoringInput
from services.audit import Action, Entity
from services.scope import Scope
from services.scorer_choice import ScorerSource
from services.validation import field_path


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    analysis: AnalysisRecord
    lead: LeadRecord
    reused: bool


def scoring_input(lead: LeadRecord, *, now: datetime) -> ScoringInput:
    """The only lead data a scorer may see."""
    return ScoringInput(
        source=lead.source,
        stage=lead.stage,
        message_count=lead.message_count,
        has_business_domain=lead.business_domain is not None,
        business_domain=lead.business_domain,
        days_since_created=days_since(lead.created_at, now=now),
    )


async def analyze_lead(
    *,
    db: Database,
    scope: Scope,
    scorers: ScorerSource,
    lead_id: int,
    cache_ttl: timedelta,
    force: bool = False,
    wait_for_other: timedelta | None = None,
) -> AnalysisResult:
    """Score a lead with the scorer `scorers` names for its tenant now. A fresh analysis of
    the same input by the same scorer within the TTL is reused unless `force`; a scorer
    failure stores nothing and raises AI_UNAVAILABLE.

    Single flight, when `wait_for_other` is given: one lead is scored by one request at a
    time, across every process. A request that finds another scoring the lead waits (up
    to `wait_for_other`, then AI_UNAVAILABLE) and reuses that answer when it is of the
    same input, even with `force`: both asked after the same facts. None: the caller is
    the only one scoring (the demo loader) and takes no lock."""
    requested_at = datetime.now(UTC)
    if not force and cache_ttl > timedelta(0):
        found = await _lead_and_reusable(db, scope, scorers, lead_id, requested_at - cache_ttl)
        if found.reusable is not None:
            return await _reuse(db, scope, found, found.reusable)
    fresh_since = requested_at if force else requested_at - max(cache_ttl, timedelta(0))
    if wait_for_other is None:
        return await _score(db, scope, scorers, lead_id, fresh_since)
    try:
        async with analysis_rows.analyzing(
            db.engine, lead_id=lead_id, wait_seconds=wait_for_other.total_seconds()
        ):
            return await _score(db, scope, scorers, lead_id, fresh_since)
    except analysis_rows.LeadBusy:
        raise DomainError.single(
            ErrorCode.AI_UNAVAILABLE,
            "Another analysis of this lead is still running. Try again later.",
        ) from None


async def _score(
    db: Database, scope: Scope, scorers: ScorerSource, lead_id: int, fresh_since: datetime
) -> AnalysisResult:
    # Read (again): the lead may have changed, or been scored, while we waited.
    found = await _lead_and_reusable(db, scope, scorers, lead_id, fresh_since)
    if found.reusable is not None:
        return await _reuse(db, scope, found, found.reusable)
    # The model call holds no transaction (with single flight, only the lock's connection).
    assessment, latency_ms = await _assess(found.scorer, found.features)
    return await _store(db, scope, found, assessment, latency_ms)


@dataclass(frozen=True, slots=True)
class _Found:
    lead: LeadRecord
    features: ScoringInput
    scorer: Scorer
    reusable: AnalysisRecord | None


async def _lead_and_reusable(
    db: Database, scope: Scope, scorers: ScorerSource, lead_id: int, not_before: datetime
) -> _Found:
    async with db.read() as conn:
        lead = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead_id)
        if lead is None:
            raise not_found("Lead", field_path("leadId"))
        scorer = await scorers.for_tenant(conn, scope.tenant_id)
        features = scoring_input(lead, now=datetime.now(UTC))
        reusable = await analysis_rows.find_reusable(
            conn,
            lead_id=lead.id,
            scoring_input=features.as_json(),
            scorer=scorer.name,
            not_before=not_before,
        )
    return _Found(lead=lead, features=features, scorer=scorer, reusable=reusable)


async def _reuse(
    db: Database, scope: Scope, found: _Found, analysis: AnalysisRecord
) -> AnalysisResult:
    """Answer from the cache, and count the hit for `aiUsage`."""
    async with db.transaction() as conn:
        await usage_rows.count_cache_hit(conn, tenant_id=scope.tenant_id, scorer=analysis.scorer)
    return AnalysisResult(analysis=analysis, lead=found.lead, reused=True)


async def _store(
    db: Database, scope: Scope, found: _Found, assessment: Assessment, latency_ms: int
) -> AnalysisResult:
    lead = found.lead
    async with db.transaction() as conn:
        analysis = await analysis_rows.insert_analysis(
            conn, values=_analysis_values(scope, lead, found.features, assessment, latency_ms)
        )
        refreshed = await lead_rows.set_latest_analysis(
            conn, lead_id=lead.id, analysis_id=analysis.id, score=analysis.score
        )
        if refreshed is None:  # a newer analysis was stored meanwhile and stays the latest
            refreshed = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead.id)
        await usage_rows.count_scoring(
            conn,
            tenant_id=scope.tenant_id,
            scorer=analysis.scorer,
            tokens_in=analysis.tokens_in or 0,
            tokens_out=analysis.tokens_out or 0,
        )
        await _audit(conn, scope, analysis)
        await events.record(
            conn,
            scope,
            EventType.LEAD_ANALYZED,
            lead_id=lead.id,
            analysis_id=analysis.id,
            data={
                "score": analysis.score,
                "previousScore": lead.latest_score,
                "recommendation": analysis.recommendation,
            },
        )
    if refreshed is None:
        raise not_found("Lead", field_path("leadId"))
    return AnalysisResult(analysis=analysis, lead=refreshed, reused=False)


async def _assess(scorer: Scorer, features: ScoringInput) -> tuple[Assessment, int]:
    started = time.perf_counter()
    try:
        assessment = await scorer.score(features)
    except ScorerUnavailable as exc:
        raise DomainError.single(
            ErrorCode.AI_UNAVAILABLE, f"The AI scorer is unavailable: {exc}. Try again later."
        ) from exc
    return assessment, round((time.perf_counter() - started) * 1000)


async def _audit(conn: AsyncConnection, scope: Scope, analysis: AnalysisRecord) -> None:
    """The stored advice is the change: a new analysis of the lead, not an edit of it."""
    await audit.record(
        conn,
        scope,
        action=Action.LEAD_ANALYZED,
        entity_type=Entity.LEAD,
        entity_id=analysis.lead_id,
        before=None,
        after={
            "score": analysis.score,
            "recommendation": analysis.recommendation,
            "scorer": analysis.scorer,
        },
    )


def _analysis_values(
    scope: Scope,
    lead: LeadRecord,
    features: ScoringInput,
    assessment: Assessment,
    latency_ms: int,
) -> dict[str, object]:
    return {
        "tenant_id": scope.tenant_id,
        "lead_id": lead.id,
        "score": assessment.score,
        "recommendation": assessment.recommendation,
        "reason": assessment.reason,
        "factors": [
            {"name": f.name, "impact": f.impact, "note": f.note} for f in assessment.factors
        ],
        "input": features.as_json(),
        "scorer": assessment.scorer,
        "prompt_version": assessment.prompt_version,
        "latency_ms": latency_ms,
        "tokens_in": assessment.tokens_in,
        "tokens_out": assessment.tokens_out,
    }
