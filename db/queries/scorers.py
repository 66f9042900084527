"""Reads and writes of learned scorer models and of each tenant's scorer choice."""

from typing import Final

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import LeadOutcome, ScorerModel, TenantAISettings, table
from db.records import DecidedOutcomeRecord, ScorerModelRecord, columns_of
from domain.scorers import ScorerKind

models = table(ScorerModel)
choices = table(TenantAISettings)
outcomes = table(LeadOutcome)
_COLUMNS = columns_of(ScorerModelRecord, models)

# The class of the per-tenant advisory lock that numbers model versions ("SCRM").
TRAINING_LOCK: Final = 1396920909


async def latest_model(conn: AsyncConnection, *, tenant_id: int) -> ScorerModelRecord | None:
    stmt = (
        select(*_COLUMNS)
        .where(models.c.tenant_id == tenant_id)
        .order_by(models.c.version.desc())
        .limit(1)
    )
    row = (await conn.execute(stmt)).one_or_none()
    return None if row is None else ScorerModelRecord.from_row(row)


async def insert_next_model(
    conn: AsyncConnection, *, tenant_id: int, values: dict[str, object]
) -> ScorerModelRecord:
    """Store a model as the tenant's next version. Trainings of one tenant number their
    versions one at a time (a transaction lock), so two never claim the same one."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:cls, hashtext(:tenant))"),
        {"cls": TRAINING_LOCK, "tenant": str(tenant_id)},
    )
    version = await conn.scalar(
        select(func.coalesce(func.max(models.c.version), 0) + 1).where(
            models.c.tenant_id == tenant_id
        )
    )
    stmt = (
        insert(models).values(tenant_id=tenant_id, version=version, **values).returning(*_COLUMNS)
    )
    return ScorerModelRecord.from_row((await conn.execute(stmt)).one())


async def chosen_kind(conn: AsyncConnection, *, tenant_id: int) -> ScorerKind | None:
    """The scorer the tenant chose; None: the server's configured one."""
    kind = await conn.scalar(select(choices.c.scorer).where(choices.c.tenant_id == tenant_id))
    return None if kind is None else ScorerKind(kind)


async def choose_kind(
    conn: AsyncConnection, *, tenant_id: int, kind: ScorerKind, actor: str | None
) -> None:
    values = {"scorer": kind, "updated_by": actor, "updated_at": func.now()}
    stmt = upsert(choices).values(tenant_id=tenant_id, **values)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["tenant_id"], set_=values))


async def decided_outcomes(conn: AsyncConnection, *, tenant_id: int) -> list[DecidedOutcomeRecord]:
    """Every outcome of the tenant whose deciding input is known, oldest first."""
    stmt = (
        select(outcomes.c.lead_id, outcomes.c.result, outcomes.c.features)
        .where(outcomes.c.tenant_id == tenant_id, outcomes.c.features.is_not(None))
        .order_by(outcomes.c.occurred_at, outcomes.c.id)
    )
    return [DecidedOutcomeRecord.from_row(row) for row in await conn.execute(stmt)]


_DUE_TRAINING: Final = text("""
SELECT c.tenant_id
  FROM tenant_ai_settings AS c
 WHERE c.scorer IN ('learned', 'learned_with_model_reasons')
   AND (SELECT count(*) FROM lead_outcomes AS o
         WHERE o.tenant_id = c.tenant_id AND o.features IS NOT NULL)
       > coalesce((SELECT m.outcomes + coalesce((m.held_out ->> 'outcomes')::int, 0)
                     FROM scorer_models AS m
                    WHERE m.tenant_id = c.tenant_id
                    ORDER BY m.version DESC
                    LIMIT 1), 0)
 ORDER BY c.tenant_id
""")


async def tenants_due_training(conn: AsyncConnection) -> list[int]:
    """Across tenants (the owner's view): those using a learned scorer that have closed
    leads their newest model has not seen (or no model yet)."""
    return [int(tenant_id) for tenant_id in (await conn.execute(_DUE_TRAINING)).scalars()]
