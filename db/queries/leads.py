"""Reads and writes of the `leads` table."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.change import Change
from db.keyset import Page, PageRequest, paginate, to_page
from db.models import Lead, table
from db.records import LeadRecord, columns_of
from domain.enums import LeadOrderField, LeadSource, LeadStage

leads = table(Lead)
_COLUMNS = columns_of(LeadRecord, leads)

SORT_EXPRESSIONS: dict[LeadOrderField, ColumnElement[Any]] = {
    LeadOrderField.CREATED_AT: leads.c.created_at,
    LeadOrderField.UPDATED_AT: leads.c.updated_at,
    LeadOrderField.SCORE: leads.c.score_key,
    LeadOrderField.MESSAGE_COUNT: leads.c.message_count,
}


def sort_value(record: LeadRecord, field: LeadOrderField) -> Any:
    """The value of SORT_EXPRESSIONS[field] for one row, for building cursors."""
    if field is LeadOrderField.SCORE:
        return -1.0 if record.latest_score is None else record.latest_score
    return getattr(record, field.value)


@dataclass(frozen=True, slots=True)
class LeadFilter:
    stages: Sequence[LeadStage] | None = None
    sources: Sequence[LeadSource] | None = None
    business_domain: str | None = None
    has_business_domain: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


async def get(
    conn: AsyncConnection, *, tenant_id: int, lead_id: int, for_update: bool = False
) -> LeadRecord | None:
    stmt = select(*_COLUMNS).where(leads.c.tenant_id == tenant_id, leads.c.id == lead_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else LeadRecord.from_row(row)


async def get_many(
    conn: AsyncConnection, *, tenant_id: int, lead_ids: Sequence[int]
) -> list[LeadRecord]:
    stmt = select(*_COLUMNS).where(leads.c.tenant_id == tenant_id, leads.c.id.in_(lead_ids))
    return [LeadRecord.from_row(row) for row in await conn.execute(stmt)]


async def get_by_idempotency_key(
    conn: AsyncConnection, *, tenant_id: int, key: str
) -> LeadRecord | None:
    stmt = select(*_COLUMNS).where(leads.c.tenant_id == tenant_id, leads.c.idempotency_key == key)
    row = (await conn.execute(stmt)).first()
    return None if row is None else LeadRecord.from_row(row)


async def update_lead(conn: AsyncConnection, *, lead_id: int, values: dict[str, Any]) -> LeadRecord:
    """Apply a change the service decided on: bumps version and updated_at."""
    stmt = (
        update(leads)
        .where(leads.c.id == lead_id)
        .values(**values, version=leads.c.version + 1, updated_at=func.now())
        .returning(*_COLUMNS)
    )
    return LeadRecord.from_row((await conn.execute(stmt)).one())


def guarded_insert(values: Mapping[str, Any]) -> Change:
    """A new lead, unless its idempotency key is taken (then nothing is written)."""
    return Change(
        insert(leads)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[leads.c.tenant_id, leads.c.idempotency_key],
            index_where=leads.c.idempotency_key.is_not(None),
        )
        .returning(*_COLUMNS)
    )


def guarded_update(
    lead: LeadRecord, values: Mapping[str, Any], *, unchanged: Sequence[str] = ()
) -> Change:
    """`lead` changed to `values`, only if it is still at the version it was read at and
    the `unchanged` columns (which change without a new version) still hold what was
    read; bumps version and updated_at."""
    return Change(
        update(leads)
        .where(
            leads.c.tenant_id == lead.tenant_id,
            leads.c.id == lead.id,
            leads.c.version == lead.version,
            *(leads.c[name].is_not_distinct_from(getattr(lead, name)) for name in unchanged),
        )
        .values(**values, version=leads.c.version + 1, updated_at=func.now())
        .returning(*_COLUMNS)
    )


def changed_lead(row: Row[Any]) -> LeadRecord:
    """The lead in a row of a Change on leads (its answers follow the lead's columns)."""
    return LeadRecord.from_row(row[: len(_COLUMNS)])


async def set_latest_analysis(
    conn: AsyncConnection, *, lead_id: int, analysis_id: int, score: float
) -> LeadRecord | None:
    """Point the lead at its newest analysis: advisory data, so no version bump.

    An analysis that finishes after a newer one (a slow model) leaves the pointer alone:
    None is returned then.
    """
    stmt = (
        update(leads)
        .where(
            leads.c.id == lead_id,
            or_(leads.c.latest_analysis_id.is_(None), leads.c.latest_analysis_id < analysis_id),
        )
        .values(latest_analysis_id=analysis_id, latest_score=score)
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else LeadRecord.from_row(row)


def _filtered(tenant_id: int, lead_filter: LeadFilter) -> Select[Any]:
    stmt = select(*_COLUMNS).where(leads.c.tenant_id == tenant_id)
    f = lead_filter
    if f.stages is not None:  # an empty list matches nothing
        stmt = stmt.where(leads.c.stage.in_(f.stages))
    if f.sources is not None:
        stmt = stmt.where(leads.c.source.in_(f.sources))
    if f.business_domain is not None:
        stmt = stmt.where(leads.c.domain_key == f.business_domain.lower())
    if f.has_business_domain is not None:
        has_domain = leads.c.business_domain.is_not(None)
        stmt = stmt.where(has_domain if f.has_business_domain else ~has_domain)
    if f.min_score is not None or f.max_score is not None:
        stmt = stmt.where(*_score_conditions(f.min_score, f.max_score))
    if f.created_after is not None:
        stmt = stmt.where(leads.c.created_at >= f.created_after)
    if f.created_before is not None:
        stmt = stmt.where(leads.c.created_at < f.created_before)
    if f.search:
        stmt = stmt.where(_search_condition(f.search))
    return stmt


def _score_conditions(low: float | None, high: float | None) -> list[ColumnElement[bool]]:
    """Score bounds on the indexed sort expression; unanalyzed leads never match."""
    score = SORT_EXPRESSIONS[LeadOrderField.SCORE]
    conditions: list[ColumnElement[bool]] = [leads.c.latest_score.is_not(None)]
    if low is not None:
        conditions.append(score >= low)
    if high is not None:
        conditions.append(score <= high)
    return conditions


def _search_condition(term: str) -> ColumnElement[bool]:
    """Case-insensitive substring match of name, company and e-mail: the ids that
    crm_leads_matching finds through ix_leads_search (migration 0017 says why)."""
    return leads.c.id.in_(select(func.crm_leads_matching(search_pattern(term))))


def search_pattern(term: str) -> str:
    """The ILIKE pattern (escape character `\\`) matching `term` anywhere, literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_statement(
    *,
    tenant_id: int,
    lead_filter: LeadFilter,
    order: LeadOrderField,
    descending: bool,
    request: PageRequest,
) -> Select[Any]:
    """The SQL of one page of leads (public so tests can EXPLAIN it)."""
    return paginate(
        _filtered(tenant_id, lead_filter),
        sort=SORT_EXPRESSIONS[order],
        id_column=leads.c.id,
        descending=descending,
        request=request,
    )


async def list_page(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    lead_filter: LeadFilter,
    order: LeadOrderField,
    descending: bool,
    request: PageRequest,
) -> Page[LeadRecord]:
    stmt = page_statement(
        tenant_id=tenant_id,
        lead_filter=lead_filter,
        order=order,
        descending=descending,
        request=request,
    )
    rows = [LeadRecord.from_row(row) for row in await conn.execute(stmt)]
    return to_page(rows, request)


def count_statement(*, tenant_id: int, lead_filter: LeadFilter) -> Select[Any]:
    """The SQL counting the leads a filter matches (public so tests can EXPLAIN it)."""
    inner = _filtered(tenant_id, lead_filter).with_only_columns(leads.c.id).subquery()
    return select(func.count()).select_from(inner)


async def count(conn: AsyncConnection, *, tenant_id: int, lead_filter: LeadFilter) -> int:
    stmt = count_statement(tenant_id=tenant_id, lead_filter=lead_filter)
    return int((await conn.execute(stmt)).scalar_one())
