"""What AI scoring cost a tenant over a period: calls, tokens, cache hits, fallbacks."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from db.database import Database
from db.queries import ai_usage as usage_rows
from services.ai.fallback import FALLBACK_MARK
from services.scope import Scope


class UsagePeriod(Enum):
    """Whole UTC days up to and including today."""

    TODAY = 1
    LAST_7_DAYS = 7
    LAST_30_DAYS = 30


@dataclass(frozen=True, slots=True)
class ScorerUsage:
    scorer: str
    calls: int
    cache_hits: int
    fallbacks: int
    tokens_in: int
    tokens_out: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    first_day: date
    last_day: date
    scorers: tuple[ScorerUsage, ...]


async def usage_report(*, db: Database, scope: Scope, period: UsagePeriod) -> UsageReport:
    """Per answering scorer: scorings made (`calls`), analyses reused from the cache, how
    many of its scorings stood in for another scorer, and the tokens models reported."""
    async with db.read() as conn:
        today = await usage_rows.today(conn)
        first_day = today - timedelta(days=period.value - 1)
        rows = await usage_rows.totals_since(conn, tenant_id=scope.tenant_id, first_day=first_day)
    scorers = tuple(
        ScorerUsage(
            scorer=row.scorer,
            calls=row.calls,
            cache_hits=row.cache_hits,
            fallbacks=row.calls if FALLBACK_MARK in row.scorer else 0,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
        )
        for row in rows
    )
    return UsageReport(first_day=first_day, last_day=today, scorers=scorers)
