"""Advisory AI analysis of a lead: build the scorer's input, ask, validate, store.

An analysis never changes the lead's business state (stage, version, contact data):
it only records advice for a person to act on.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
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
    scorer: Scorer,
    lead_id: int,
    cache_ttl: timedelta,
    force: bool = False,
) -> AnalysisResult:
    """Score a lead. A fresh analysis of the same input by the same scorer within the TTL
    is reused unless `force`; a scorer failure stores nothing and raises AI_UNAVAILABLE."""
    async with db.read() as conn:
        lead = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead_id)
        if lead is None:
            raise not_found("Lead", field_path("leadId"))
        features = scoring_input(lead, now=datetime.now(UTC))
        if not force and cache_ttl > timedelta(0):
            cached = await analysis_rows.find_reusable(
                conn,
                lead_id=lead.id,
                scoring_input=features.as_json(),
                scorer=scorer.name,
                not_before=datetime.now(UTC) - cache_ttl,
            )
            if cached is not None:
                return AnalysisResult(analysis=cached, lead=lead, reused=True)
    # The model call happens outside any transaction: no connection is held while waiting.
    assessment, latency_ms = await _assess(scorer, features)
    async with db.transaction() as conn:
        analysis = await analysis_rows.insert_analysis(
            conn, values=_analysis_values(scope, lead, features, assessment, latency_ms)
        )
        refreshed = await lead_rows.set_latest_analysis(
            conn, lead_id=lead.id, analysis_id=analysis.id, score=analysis.score
        )
        if refreshed is None:  # a newer analysis was stored meanwhile and stays the latest
            refreshed = await lead_rows.get(conn, tenant_id=scope.tenant_id, lead_id=lead.id)
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
    }
