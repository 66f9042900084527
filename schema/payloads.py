"""Mutation payloads: the changed object, or userErrors saying why nothing changed."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.node import UserError

if TYPE_CHECKING:
    from schema.analyses import LeadAnalysis
    from schema.leads import Lead
    from schema.sales import Sale

_Lead = Annotated["Lead", strawberry.lazy("schema.leads")]
_Sale = Annotated["Sale", strawberry.lazy("schema.sales")]
_LeadAnalysis = Annotated["LeadAnalysis", strawberry.lazy("schema.analyses")]

_ERRORS = "Business rules the input broke; empty on success."


@strawberry.type(description="Result of a lead mutation.")
class LeadPayload:
    lead: _Lead | None = strawberry.field(description="The lead after the change.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of analyzeLead.")
class AnalyzeLeadPayload:
    analysis: _LeadAnalysis | None = strawberry.field(description="The (possibly reused) analysis.")
    lead: _Lead | None = strawberry.field(description="The analyzed lead.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of transferLead.")
class TransferLeadPayload:
    lead: _Lead | None = strawberry.field(description="The lead, now TRANSFERRED.")
    sale: _Sale | None = strawberry.field(description="The new sale, in stage NEW.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of changeSaleStage.")
class SalePayload:
    sale: _Sale | None = strawberry.field(description="The sale after the change.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)
