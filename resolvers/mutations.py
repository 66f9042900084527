"""Mutations: decode the input, call one service, shape the payload.

A service refuses with a `DomainError`; `@refusals_as(Payload)` is the one place that
turns it into the payload's `userErrors`.
"""

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from strawberry import UNSET

from db.records import AnalysisRecord, LeadRecord, SaleRecord
from domain.errors import DomainError, Problem
from resolvers.context import Info
from resolvers.input import given, input_id
from schema import inputs
from services import analysis, leads, sales, transfer

P = TypeVar("P")
In = TypeVar("In")


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


Mutation = Callable[[Info, In], Awaitable[P]]


def refusals_as(
    payload: Callable[..., P],
) -> Callable[[Mutation[In, P]], Mutation[In, P]]:
    """A business refusal becomes `payload(user_errors=...)`; nothing else is caught.

    Loaders are renewed first, so the payload (and any later mutation of the same
    operation) reads what earlier mutations wrote, not a cached copy from before.
    """

    def decorate(mutation: Mutation[In, P]) -> Mutation[In, P]:
        @functools.wraps(mutation)
        async def run(info: Info, data: In) -> P:
            info.context.renew_loaders()
            try:
                return await mutation(info, data)
            except DomainError as refusal:
                return payload(user_errors=list(refusal.problems))

        return run

    return decorate


@refusals_as(LeadPayload)
async def create_lead(info: Info, data: inputs.CreateLeadInput) -> LeadPayload:
    new = leads.NewLead(
        name=data.name,
        source=data.source,
        business_domain=given(data.business_domain),
        company=given(data.company),
        email=given(data.email),
        phone=given(data.phone),
        idempotency_key=given(data.idempotency_key),
    )
    ctx = info.context
    return LeadPayload(lead=await leads.create_lead(db=ctx.app.db, scope=ctx.scope, new=new))


_EDITABLE_LEAD_FIELDS = ("name", "business_domain", "company", "email", "phone")


@refusals_as(LeadPayload)
async def update_lead(info: Info, data: inputs.UpdateLeadInput) -> LeadPayload:
    changes = {
        name: getattr(data, name)
        for name in _EDITABLE_LEAD_FIELDS
        if getattr(data, name) is not UNSET
    }
    lead = await leads.update_lead(
        db=info.context.app.db,
        scope=info.context.scope,
        lead_id=input_id(data.lead_id, "Lead", "leadId"),
        changes=changes,
        expected_version=given(data.expected_version),
    )
    return LeadPayload(lead=lead)


@refusals_as(LeadPayload)
async def change_lead_stage(info: Info, data: inputs.ChangeLeadStageInput) -> LeadPayload:
    lead = await leads.change_lead_stage(
        db=info.context.app.db,
        scope=info.context.scope,
        lead_id=input_id(data.lead_id, "Lead", "leadId"),
        stage=data.stage,
        reason=given(data.reason),
        expected_version=given(data.expected_version),
    )
    return LeadPayload(lead=lead)


@refusals_as(LeadPayload)
async def record_lead_message(info: Info, data: inputs.RecordLeadMessageInput) -> LeadPayload:
    lead = await leads.record_lead_message(
        db=info.context.app.db,
        scope=info.context.scope,
        lead_id=input_id(data.lead_id, "Lead", "leadId"),
        direction=data.direction,
        channel=data.channel,
        text=given(data.text),
        rescore_every=info.context.app.settings.ai.rescore_every_messages,
    )
    return LeadPayload(lead=lead)


@refusals_as(AnalyzeLeadPayload)
async def analyze_lead(info: Info, data: inputs.AnalyzeLeadInput) -> AnalyzeLeadPayload:
    app = info.context.app
    result = await analysis.analyze_lead(
        db=app.db,
        scope=info.context.scope,
        scorers=app.scorers,
        lead_id=input_id(data.lead_id, "Lead", "leadId"),
        cache_ttl=app.analysis_cache_ttl,
        force=data.force,
        wait_for_other=app.analysis_wait_for_other,
    )
    return AnalyzeLeadPayload(analysis=result.analysis, lead=result.lead)


@refusals_as(TransferLeadPayload)
async def transfer_lead(info: Info, data: inputs.TransferLeadInput) -> TransferLeadPayload:
    app = info.context.app
    done = await transfer.transfer_lead(
        db=app.db,
        scope=info.context.scope,
        lead_id=input_id(data.lead_id, "Lead", "leadId"),
        min_score=app.settings.transfer_min_score,
        expected_version=given(data.expected_version),
    )
    return TransferLeadPayload(lead=done.lead, sale=done.sale)


@refusals_as(SalePayload)
async def change_sale_stage(info: Info, data: inputs.ChangeSaleStageInput) -> SalePayload:
    sale = await sales.change_sale_stage(
        db=info.context.app.db,
        scope=info.context.scope,
        sale_id=input_id(data.sale_id, "Sale", "saleId"),
        stage=data.stage,
        amount=given(data.amount),
        currency=given(data.currency),
        expected_version=given(data.expected_version),
    )
    return SalePayload(sale=sale)
