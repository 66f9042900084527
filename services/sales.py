"""Moving a sale from NEW to PAID."""

from decimal import Decimal

from db.database import Database
from db.queries import sales as sale_rows
from db.queries import stage_changes
from db.records import SaleRecord
from domain.enums import SaleStage
from domain.errors import not_found
from domain.events import EventType
from domain.lifecycle import ensure_sale_transition, ensure_version
from services import audit, events, outcomes
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import Checks, field_path


async def change_sale_stage(
    *,
    db: Database,
    scope: Scope,
    sale_id: int,
    stage: SaleStage,
    amount: Decimal | None = None,
    currency: str | None = None,
    expected_version: int | None = None,
) -> SaleRecord:
    """One step forward at a time; PAID needs an amount > 0; a paid sale is final."""
    checks = Checks()
    amount = checks.amount(amount, field_path("amount"))
    currency = checks.currency(currency, field_path("currency"))
    checks.raise_if_any()
    async with db.transaction() as conn:
        sale = await sale_rows.get(
            conn, tenant_id=scope.tenant_id, sale_id=sale_id, for_update=True
        )
        if sale is None:
            raise not_found("Sale", field_path("saleId"))
        ensure_version(expected_version, sale.version)
        ensure_sale_transition(sale.stage, stage)
        values: dict[str, object] = {"stage": stage}
        if amount is not None:
            values["amount"] = amount
        if currency is not None:
            values["currency"] = currency
        if stage is SaleStage.PAID and (amount or sale.amount) is None:
            checks.fail(field_path("amount"), "An amount greater than 0 is required for PAID.")
            checks.raise_if_any()
        updated = await sale_rows.update_sale(conn, sale_id=sale.id, values=values)
        await stage_changes.record(
            conn,
            tenant_id=scope.tenant_id,
            sale_id=sale.id,
            from_stage=sale.stage.value,
            to_stage=stage.value,
            actor=scope.actor,
        )
        await audit.record(
            conn,
            scope,
            action=Action.SALE_STAGE_CHANGED,
            entity_type=Entity.SALE,
            entity_id=sale.id,
            before=audit.sale_fields(sale),
            after=audit.sale_fields(updated),
        )
        await outcomes.record_for_sale(conn, scope, sale=updated)
        await events.record(
            conn,
            scope,
            EventType.SALE_STAGE_CHANGED,
            lead_id=sale.lead_id,
            sale_id=sale.id,
            data={"fromStage": sale.stage, "toStage": updated.stage},
        )
        return updated
