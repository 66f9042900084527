"""Mutations: decode the input, call one service, turn its refusal into userErrors."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry import UNSET

from db.records import AnalysisRecord, LeadRecord, SaleRecord
from domain.errors import DomainError, ErrorCode, Problem
from resolvers.context import Info
from resolvers.ids import InvalidId, parse_global_id
from schema import inputs
from services import analysis, leads, sales, transfer

P = TypeVar("P")


@dataclass
class LeadPayload:
    lead: LeadRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class AnalyzeLeadPayload:
    analysis: AnalysisRecord | None = None
    lead: LeadRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class TransferLeadPayload:
    lead: LeadRecord | None = None
    sale: SaleRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class SalePayload:
    sale: SaleRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


async def _refusals_as_user_errors(
    payload: Callable[..., P], action: Callable[[], Awaitable[P]]
) -> P:
    """The one place where a business refusal becomes `userErrors`."""
    try:
        return await action()
    except DomainError as refusal:
        return payload(user_errors=list(refusal.problems))


def _db_id(global_id: str, type_name: str, field_name: str) -> int:
    path = ("input", field_name)
    try:
        found_type, db_id = parse_global_id(global_id)
    except InvalidId as exc:
        raise DomainError.single(ErrorCode.VALIDATION_FAILED, str(exc), path) from None
    if found_type != type_name:
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED, f"Expected a {type_name} ID, got a {found_type} ID.", path
        )
    return db_id


def _given(value: Any) -> Any:
    return None if value is UNSET else value


async def create_lead(info: Info, data: inputs.CreateLeadInput) -> LeadPayload:
    ctx = info.context

    async def act() -> LeadPayload:
        new = leads.NewLead(
            name=data.name,
            source=data.source,
            business_domain=_given(data.business_domain),
            company=_given(data.company),
            email=_given(data.email),
            phone=_given(data.phone),
            idempotency_key=_given(data.idempotency_key),
        )
        return LeadPayload(lead=await leads.create_lead(db=ctx.app.db, scope=ctx.scope, new=new))

    return await _refusals_as_user_errors(LeadPayload, act)


_EDITABLE_LEAD_FIELDS = ("name", "business_domain", "company", "email", "phone")


async def update_lead(info: Info, data: inputs.UpdateLeadInput) -> LeadPayload:
    ctx = info.context

    async def act() -> LeadPayload:
        changes = {
            name: getattr(data, name)
            for name in _EDITABLE_LEAD_FIELDS
            if getattr(data, name) is not UNSET
        }
        lead = await leads.update_lead(
            db=ctx.app.db,
            scope=ctx.scope,
            lead_id=_db_id(data.lead_id, "Lead", "leadId"),
            changes=changes,
            expected_version=_given(data.expected_version),
        )
        return LeadPayload(lead=lead)

    return await _refusals_as_user_errors(LeadPayload, act)


async def change_lead_stage(info: Info, data: inputs.ChangeLeadStageInput) -> LeadPayload:
    ctx = info.context

    async def act() -> LeadPayload:
        lead = await leads.change_lead_stage(
            db=ctx.app.db,
            scope=ctx.scope,
            lead_id=_db_id(data.lead_id, "Lead", "leadId"),
            stage=data.stage,
            reason=_given(data.reason),
            expected_version=_given(data.expected_version),
        )
        return LeadPayload(lead=lead)

    return await _refusals_as_user_errors(LeadPayload, act)


async def record_lead_message(info: Info, data: inputs.RecordLeadMessageInput) -> LeadPayload:
    ctx = info.context

    async def act() -> LeadPayload:
        lead = await leads.record_lead_message(
            db=ctx.app.db,
            scope=ctx.scope,
            lead_id=_db_id(data.lead_id, "Lead", "leadId"),
            direction=data.direction,
            channel=data.channel,
            text=_given(data.text),
        )
        return LeadPayload(lead=lead)

    return await _refusals_as_user_errors(LeadPayload, act)


async def analyze_lead(info: Info, data: inputs.AnalyzeLeadInput) -> AnalyzeLeadPayload:
    ctx = info.context

    async def act() -> AnalyzeLeadPayload:
        result = await analysis.analyze_lead(
            db=ctx.app.db,
            scope=ctx.scope,
            scorer=ctx.app.scorer,
            lead_id=_db_id(data.lead_id, "Lead", "leadId"),
            cache_ttl=ctx.app.analysis_cache_ttl,
            force=data.force,
        )
        return AnalyzeLeadPayload(analysis=result.analysis, lead=result.lead)

    return await _refusals_as_user_errors(AnalyzeLeadPayload, act)


async def transfer_lead(info: Info, data: inputs.TransferLeadInput) -> TransferLeadPayload:
    ctx = info.context

    async def act() -> TransferLeadPayload:
        done = await transfer.transfer_lead(
            db=ctx.app.db,
            scope=ctx.scope,
            lead_id=_db_id(data.lead_id, "Lead", "leadId"),
            min_score=ctx.app.settings.transfer_min_score,
            expected_version=_given(data.expected_version),
        )
        return TransferLeadPayload(lead=done.lead, sale=done.sale)

    return await _refusals_as_user_errors(TransferLeadPayload, act)


async def change_sale_stage(info: Info, data: inputs.ChangeSaleStageInput) -> SalePayload:
    ctx = info.context

    async def act() -> SalePayload:
        sale = await sales.change_sale_stage(
            db=ctx.app.db,
            scope=ctx.scope,
            sale_id=_db_id(data.sale_id, "Sale", "saleId"),
            stage=data.stage,
            amount=_given(data.amount),
            currency=_given(data.currency),
            expected_version=_given(data.expected_version),
        )
        return SalePayload(sale=sale)

    return await _refusals_as_user_errors(SalePayload, act)
