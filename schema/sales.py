"""Sale types. Fields read `db.records.SaleRecord` rows directly."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.records import SaleRecord
from resolvers import sales as resolve
from resolvers.pagination import total_count
from schema.enums import SaleStage
from schema.leads import StageChange
from schema.node import Node, PageInfo

if TYPE_CHECKING:
    from schema.leads import Lead

_Lead = Annotated["Lead", strawberry.lazy("schema.leads")]


@strawberry.type(description="The deal created when a lead is transferred to sales.")
class Sale(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.", resolver=resolve.sale_global_id)
    lead: _Lead = strawberry.field(description="The transferred lead.", resolver=resolve.sale_lead)
    stage: SaleStage = strawberry.field(description="Current sale stage.")
    amount: Decimal | None = strawberry.field(
        description="Required (> 0) before a sale can move to PAID."
    )
    currency: str | None = strawberry.field(description="ISO 4217 currency code.")
    version: int = strawberry.field(
        description="Optimistic-concurrency version; bumps on every change."
    )
    created_at: datetime = strawberry.field(description="When the sale was created.")
    updated_at: datetime = strawberry.field(description="When the sale last changed.")
    stage_history: list[StageChange] = strawberry.field(
        description="Every stage change, oldest first.", resolver=resolve.sale_stage_history
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, SaleRecord)


@strawberry.type(description="A sale in a list, with its cursor.")
class SaleEdge:
    node: Sale = strawberry.field(description="The sale.")
    cursor: str = strawberry.field(description="Pass as `after`/`before` to page from here.")


@strawberry.type(description="A page of sales.")
class SaleConnection:
    edges: list[SaleEdge] = strawberry.field(description="The sales of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(
        description="Sales matching the filter across all pages (counted only when asked).",
        resolver=total_count,
    )
