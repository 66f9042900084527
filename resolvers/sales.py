"""Sale queries and the fields of Sale that need a loader."""

import functools
from datetime import datetime
from decimal import Decimal

from db.queries import sales as sale_rows
from db.records import LeadRecord, SaleRecord, StageChangeRecord
from domain.enums import OrderDirection, SaleOrderField
from domain.global_ids import to_global_id
from resolvers.context import Info
from resolvers.datetimes import as_utc
from resolvers.ids import id_of_type
from resolvers.pagination import Connection, PageArgs, list_connection
from schema import inputs

_SORT_TYPES: dict[SaleOrderField, type] = {
    SaleOrderField.CREATED_AT: datetime,
    SaleOrderField.UPDATED_AT: datetime,
    SaleOrderField.AMOUNT: Decimal,
}


def sale_global_id(root: SaleRecord) -> str:
    return to_global_id("Sale", root.id)


async def sale(info: Info, global_id: str) -> SaleRecord | None:
    sale_id = id_of_type(global_id, "Sale")
    return None if sale_id is None else await info.context.loaders.sale_by_id.load(sale_id)


async def sales(
    info: Info,
    *,
    where: inputs.SaleFilter | None,
    order: inputs.SaleOrder | None,
    page: PageArgs,
) -> Connection[SaleRecord]:
    field = (order or inputs.SaleOrder()).field
    descending = (order or inputs.SaleOrder()).direction is OrderDirection.DESC
    where = where or inputs.SaleFilter()
    sale_filter = sale_rows.SaleFilter(
        stages=where.stage,
        created_after=as_utc(where.created_after, "filter.createdAfter"),
        created_before=as_utc(where.created_before, "filter.createdBefore"),
    )
    tenant_id = info.context.scope.tenant_id
    return await list_connection(
        info.context.app.db,
        ordering=f"sale:{field.value}",
        sort_type=_SORT_TYPES[field],
        args=page,
        fetch_page=functools.partial(
            sale_rows.list_page,
            tenant_id=tenant_id,
            sale_filter=sale_filter,
            order=field,
            descending=descending,
        ),
        fetch_count=functools.partial(
            sale_rows.count, tenant_id=tenant_id, sale_filter=sale_filter
        ),
        sort_value=lambda row: sale_rows.sort_value(row, field),
    )


async def sale_lead(root: SaleRecord, info: Info) -> LeadRecord:
    lead = await info.context.loaders.lead_by_id.load(root.lead_id)
    assert lead is not None, "a sale always belongs to a lead of its tenant"
    return lead


async def sale_stage_history(root: SaleRecord, info: Info) -> list[StageChangeRecord]:
    return await info.context.loaders.stage_history_by_sale.load(root.id)
