"""Lead queries and the fields of Lead that need a loader or a computation."""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry

from db.queries import leads as lead_rows
from db.records import (
    AnalysisRecord,
    LeadMessageRecord,
    LeadRecord,
    SaleRecord,
    StageChangeRecord,
)
from domain.enums import LeadOrderField, LeadStage, OrderDirection
from domain.errors import Problem
from domain.global_ids import to_global_id
from domain.lifecycle import days_since
from resolvers.context import Info
from resolvers.datetimes import as_utc
from resolvers.errors import BadRequest
from resolvers.ids import id_of_type
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Connection,
    PageArgs,
    connection,
    list_connection,
    page_request,
)
from schema import inputs
from services import transfer

SORT_TYPES: dict[LeadOrderField, type] = {
    LeadOrderField.CREATED_AT: datetime,
    LeadOrderField.UPDATED_AT: datetime,
    LeadOrderField.SCORE: float,
    LeadOrderField.MESSAGE_COUNT: int,
}


_FIRST = strawberry.argument(description="At most this many (0-100, default 20).")
_AFTER = strawberry.argument(description="Start after this cursor.")


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    blockers: list[Problem]
    min_score: float


def lead_global_id(root: LeadRecord) -> str:
    return to_global_id("Lead", root.id)


def message_global_id(root: LeadMessageRecord) -> str:
    return to_global_id("LeadMessage", root.id)


async def lead(info: Info, global_id: str) -> LeadRecord | None:
    lead_id = id_of_type(global_id, "Lead")
    return None if lead_id is None else await info.context.loaders.lead_by_id.load(lead_id)


async def leads(
    info: Info,
    *,
    where: inputs.LeadFilter | None,
    order: inputs.LeadOrder | None,
    page: PageArgs,
) -> Connection[LeadRecord]:
    field = (order or inputs.LeadOrder()).field
    descending = (order or inputs.LeadOrder()).direction is OrderDirection.DESC
    conditions = lead_filter(where or inputs.LeadFilter())
    tenant_id = info.context.scope.tenant_id
    return await list_connection(
        info.context.app.db,
        ordering=f"lead:{field.value}",
        sort_type=SORT_TYPES[field],
        args=page,
        fetch_page=functools.partial(
            lead_rows.list_page,
            tenant_id=tenant_id,
            lead_filter=conditions,
            order=field,
            descending=descending,
        ),
        fetch_count=functools.partial(lead_rows.count, tenant_id=tenant_id, lead_filter=conditions),
        sort_value=lambda row: lead_rows.sort_value(row, field),
    )


def lead_filter(where: inputs.LeadFilter) -> lead_rows.LeadFilter:
    """Check the filter's free-text parts; the database would reject some of them."""
    for name, text in (("search", where.search), ("businessDomain", where.business_domain)):
        if text is not None and (len(text) > 200 or "\x00" in text):
            raise BadRequest(f"`filter.{name}` must be at most 200 characters, without NUL.")
    return lead_rows.LeadFilter(
        stages=where.stage,
        sources=where.source,
        business_domain=where.business_domain,
        has_business_domain=where.has_business_domain,
        min_score=where.min_score,
        max_score=where.max_score,
        created_after=as_utc(where.created_after, "filter.createdAfter"),
        created_before=as_utc(where.created_before, "filter.createdBefore"),
        search=where.search.strip() if where.search else None,
    )


def has_business_domain(root: LeadRecord) -> bool:
    return root.business_domain is not None


def days_since_created(root: LeadRecord) -> int:
    return days_since(root.created_at, now=datetime.now(UTC))


async def latest_analysis(root: LeadRecord, info: Info) -> AnalysisRecord | None:
    if root.latest_analysis_id is None:
        return None
    return await info.context.loaders.analysis_by_id.load(root.latest_analysis_id)


async def analyses(
    root: LeadRecord,
    info: Info,
    first: Annotated[int | None, _FIRST] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, _AFTER] = None,
) -> Connection[AnalysisRecord]:
    request = page_request(ordering="analysis", sort_type=datetime, first=first, after=after)
    page = await info.context.loaders.analyses_page_by_lead.load((root.id, request))
    return connection(page, "analysis", _by_creation)


async def messages(
    root: LeadRecord,
    info: Info,
    first: Annotated[int | None, _FIRST] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, _AFTER] = None,
) -> Connection[LeadMessageRecord]:
    request = page_request(ordering="message", sort_type=datetime, first=first, after=after)
    page = await info.context.loaders.messages_page_by_lead.load((root.id, request))
    return connection(page, "message", _by_creation)


def _by_creation(row: Any) -> tuple[datetime, int]:
    return row.created_at, row.id


def transfer_eligibility(root: LeadRecord, info: Info) -> Eligibility:
    min_score = info.context.app.settings.transfer_min_score
    blockers = transfer.eligibility(root, min_score=min_score)
    return Eligibility(eligible=not blockers, blockers=blockers, min_score=min_score)


async def sale(root: LeadRecord, info: Info) -> SaleRecord | None:
    if root.stage is not LeadStage.TRANSFERRED:
        return None
    return await info.context.loaders.sale_by_lead.load(root.id)


async def stage_history(root: LeadRecord, info: Info) -> list[StageChangeRecord]:
    return await info.context.loaders.stage_history_by_lead.load(root.id)


def stage_change_from(root: StageChangeRecord) -> str | None:
    return root.from_stage.upper() if root.from_stage else None


def stage_change_to(root: StageChangeRecord) -> str:
    return root.to_stage.upper()


def stage_change_at(root: StageChangeRecord) -> datetime:
    return root.created_at


def message_at(root: LeadMessageRecord) -> datetime:
    return root.created_at
