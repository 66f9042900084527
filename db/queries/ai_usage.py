"""Counters of AI use per tenant: `ai_usage` (what was spent) and `ai_budgets` (what may
still be spent). Days are UTC days of the database's clock, so every process agrees."""

from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import AIUsage, table

usage = table(AIUsage)

# One statement: concurrent callers in any process queue on the row, and each sees the
# counts of those before it. A limit of 0 means none.
_RESERVE_CALL: Final = text("""
INSERT INTO ai_budgets AS b (tenant_id, day, minute, minute_calls, tokens)
VALUES (:tenant_id, (now() AT TIME ZONE 'UTC')::date, date_trunc('minute', now()), 1, 0)
ON CONFLICT (tenant_id, day) DO UPDATE
   SET minute_calls = CASE WHEN b.minute = EXCLUDED.minute THEN b.minute_calls + 1 ELSE 1 END,
       minute = EXCLUDED.minute
 WHERE (:per_minute = 0 OR b.minute <> EXCLUDED.minute OR b.minute_calls < :per_minute)
   AND (:per_day = 0 OR b.tokens < :per_day)
RETURNING b.tenant_id
""")

_ADD_TOKENS: Final = text("""
UPDATE ai_budgets SET tokens = tokens + :tokens
 WHERE tenant_id = :tenant_id AND day = (now() AT TIME ZONE 'UTC')::date
""")

_COUNT: Final = text("""
INSERT INTO ai_usage AS u (tenant_id, day, scorer, calls, cache_hits, tokens_in, tokens_out)
VALUES (:tenant_id, (now() AT TIME ZONE 'UTC')::date, :scorer,
        :calls, :cache_hits, :tokens_in, :tokens_out)
ON CONFLICT (tenant_id, day, scorer) DO UPDATE
   SET calls = u.calls + EXCLUDED.calls,
       cache_hits = u.cache_hits + EXCLUDED.cache_hits,
       tokens_in = u.tokens_in + EXCLUDED.tokens_in,
       tokens_out = u.tokens_out + EXCLUDED.tokens_out
""")


_SELECT_TODAY: Final = text("SELECT (now() AT TIME ZONE 'UTC')::date")


@dataclass(frozen=True, slots=True)
class ScorerUsage:
    scorer: str
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int


async def reserve_call(
    conn: AsyncConnection, *, tenant_id: int, calls_per_minute: int, tokens_per_day: int
) -> bool:
    """Count one model call if the tenant's budget allows it; False if it does not: this
    minute's calls or today's tokens are spent. Minutes are calendar minutes."""
    params = {"tenant_id": tenant_id, "per_minute": calls_per_minute, "per_day": tokens_per_day}
    return (await conn.execute(_RESERVE_CALL, params)).first() is not None


async def add_tokens(conn: AsyncConnection, *, tenant_id: int, tokens: int) -> None:
    """Charge a finished call's tokens to today's budget."""
    await conn.execute(_ADD_TOKENS, {"tenant_id": tenant_id, "tokens": tokens})


async def count_scoring(
    conn: AsyncConnection, *, tenant_id: int, scorer: str, tokens_in: int, tokens_out: int
) -> None:
    await conn.execute(
        _COUNT,
        {
            "tenant_id": tenant_id,
            "scorer": scorer,
            "calls": 1,
            "cache_hits": 0,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
        },
    )


async def count_cache_hit(conn: AsyncConnection, *, tenant_id: int, scorer: str) -> None:
    await conn.execute(
        _COUNT,
        {
            "tenant_id": tenant_id,
            "scorer": scorer,
            "calls": 0,
            "cache_hits": 1,
            "tokens_in": 0,
            "tokens_out": 0,
        },
    )


async def totals_since(
    conn: AsyncConnection, *, tenant_id: int, first_day: date
) -> list[ScorerUsage]:
    """Sums per scorer from `first_day` through today, by scorer name."""
    stmt = (
        select(
            usage.c.scorer,
            func.sum(usage.c.calls),
            func.sum(usage.c.cache_hits),
            func.sum(usage.c.tokens_in),
            func.sum(usage.c.tokens_out),
        )
        .where(usage.c.tenant_id == tenant_id, usage.c.day >= first_day)
        .group_by(usage.c.scorer)
        .order_by(usage.c.scorer)
    )
    return [
        ScorerUsage(scorer, int(calls), int(hits), int(tokens_in), int(tokens_out))
        for scorer, calls, hits, tokens_in, tokens_out in await conn.execute(stmt)
    ]


async def today(conn: AsyncConnection) -> date:
    """Today's UTC date by the database's clock, which the counters use."""
    day: date = (await conn.execute(_SELECT_TODAY)).scalar_one()
    return day
