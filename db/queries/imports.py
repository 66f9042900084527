"""Reads and writes of lead imports: runs, the fingerprints of imported rows, the leads
a file's contacts match, and the paid sales of won historical leads."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import BindParameter, String, any_, bindparam, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Lead, LeadImport, LeadImportRow, Sale, StageChange, table
from db.records import LeadRecord, SaleRecord, columns_of
from domain.enums import SaleStage

leads = table(Lead)
lead_imports = table(LeadImport)
lead_import_rows = table(LeadImportRow)
sales = table(Sale)
stage_changes = table(StageChange)
_LEAD_COLUMNS = columns_of(LeadRecord, leads)
_SALE_COLUMNS = columns_of(SaleRecord, sales)

IMPORTS_LOCK = 1229803604  # the class of the per-tenant import locks ("IMPT")
_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a wait that lock_timeout stopped
_MS = timedelta(milliseconds=1)
_PHONE_DIGITS = func.regexp_replace(leads.c.phone, r"\D", "", "g")


class ImportLockBusy(Exception):
    """Another import of the tenant held its lock for longer than this one would wait."""


async def lock_tenant_imports(conn: AsyncConnection, *, tenant_id: int, wait: timedelta) -> None:
    """One import at a time per tenant, until this transaction ends: the next one then
    sees every row the first brought in, and never creates it again. While another
    import holds the lock, wait for it up to `wait` (not the statement timeout: an
    import may take longer than that), then raise ImportLockBusy."""
    key = {"lock": IMPORTS_LOCK, "tenant": tenant_id}
    taken = await conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:lock, (:tenant % 2147483647)::int)"), key
    )
    if taken.scalar_one():
        return
    previous = (
        await conn.execute(
            text(
                "SELECT current_setting('statement_timeout') AS statement_timeout,"
                " current_setting('lock_timeout') AS lock_timeout"
            )
        )
    ).one()
    await _set_timeouts(conn, statement="0", lock=f"{max(1, int(wait / _MS))}ms")
    try:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:lock, (:tenant % 2147483647)::int)"), key
        )
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise ImportLockBusy from None
        raise
    await _set_timeouts(conn, statement=previous.statement_timeout, lock=previous.lock_timeout)


async def _set_timeouts(conn: AsyncConnection, *, statement: str, lock: str) -> None:
    """Both timeouts, for the rest of this transaction only (as SET LOCAL)."""
    await conn.execute(
        text(
            "SELECT set_config('statement_timeout', :statement, true),"
            " set_config('lock_timeout', :lock, true)"
        ),
        {"statement": statement, "lock": lock},
    )


async def imported_fingerprints(
    conn: AsyncConnection, *, tenant_id: int, fingerprints: Sequence[str]
) -> dict[str, int]:
    """Fingerprint -> lead, for those of `fingerprints` some import brought in before."""
    if not fingerprints:
        return {}
    stmt = select(lead_import_rows.c.fingerprint, lead_import_rows.c.lead_id).where(
        lead_import_rows.c.tenant_id == tenant_id,
        lead_import_rows.c.fingerprint == any_(_texts(fingerprints)),
    )
    return {row.fingerprint: row.lead_id for row in await conn.execute(stmt)}


async def leads_with_contacts(
    conn: AsyncConnection,
    *,
    tenant_id: int,
    emails: Sequence[str],
    phone_digits: Sequence[str],
    for_update: bool,
) -> list[LeadRecord]:
    """The tenant's leads whose e-mail (any case) or phone (its digits) is among those
    given; row-locked for the transaction when `for_update`."""
    if not emails and not phone_digits:
        return []
    stmt = select(*_LEAD_COLUMNS).where(
        leads.c.tenant_id == tenant_id,
        or_(
            func.lower(leads.c.email) == any_(_texts(emails)),
            any_(_texts(phone_digits)) == _PHONE_DIGITS,
        ),
    )
    if for_update:
        stmt = stmt.with_for_update()
    return [LeadRecord.from_row(row) for row in await conn.execute(stmt.order_by(leads.c.id))]


async def insert_import(conn: AsyncConnection, *, values: dict[str, Any]) -> int:
    stmt = insert(lead_imports).values(**values).returning(lead_imports.c.id)
    return int((await conn.execute(stmt)).scalar_one())


async def remember_rows(
    conn: AsyncConnection, *, tenant_id: int, import_id: int, rows: Sequence[tuple[str, int]]
) -> None:
    """Keep (fingerprint, lead) of each row brought in; the unique fingerprint refuses
    a row that some other import brought in meanwhile."""
    if not rows:
        return
    await conn.execute(
        insert(lead_import_rows),
        [
            {"tenant_id": tenant_id, "fingerprint": fp, "lead_id": lead_id, "import_id": import_id}
            for fp, lead_id in rows
        ],
    )


async def insert_leads(
    conn: AsyncConnection, *, rows: Sequence[dict[str, Any]]
) -> list[LeadRecord]:
    """Insert leads in one statement per batch; the records in the order of `rows`."""
    if not rows:
        return []
    stmt = insert(leads).returning(*_LEAD_COLUMNS, sort_by_parameter_order=True)
    return [LeadRecord.from_row(row) for row in await conn.execute(stmt, list(rows))]


async def insert_paid_sales(
    conn: AsyncConnection, *, rows: Sequence[dict[str, Any]]
) -> list[SaleRecord]:
    """The sales of won historical leads, as they ended: PAID (each row gives tenant_id,
    lead_id, amount, currency, paid_at); the records in the order of `rows`."""
    if not rows:
        return []
    values = [
        {
            "tenant_id": row["tenant_id"],
            "lead_id": row["lead_id"],
            "stage": SaleStage.PAID,
            "amount": row["amount"],
            "currency": row["currency"],
            "created_at": row["paid_at"],
            "updated_at": row["paid_at"],
        }
        for row in rows
    ]
    stmt = insert(sales).returning(*_SALE_COLUMNS, sort_by_parameter_order=True)
    return [SaleRecord.from_row(row) for row in await conn.execute(stmt, values)]


async def record_stage_changes(conn: AsyncConnection, *, rows: Sequence[dict[str, Any]]) -> None:
    """Stage history rows (as db/queries/stage_changes.record writes them), in one go."""
    if rows:
        await conn.execute(insert(stage_changes), list(rows))


def _texts(values: Sequence[str]) -> BindParameter[list[str]]:
    """One array parameter, however many values (a list of parameters has a limit)."""
    return bindparam(None, list(values), type_=ARRAY(String()))  # type: ignore[arg-type]
