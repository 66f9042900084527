"""`import_leads`: one CSV file in, one report out, all rows in one transaction."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import imports as import_rows
from domain.errors import DomainError, ErrorCode, Problem
from services import audit
from services.audit import Action, Entity
from services.imports.columns import ColumnMap, ImportField, map_columns
from services.imports.parsing import read_csv
from services.imports.plan import PlannedRow, plan_rows
from services.imports.report import (
    TOTAL_NAMES,
    DuplicatePolicy,
    ImportReport,
    RowError,
    RowStatus,
)
from services.imports.rows import ImportedLead, check_row, contact_keys
from services.imports.writing import apply_plan
from services.scope import Scope

CONTENT_FIELD = ("input", "csv")
FILE_FIELD = ("input", "file")


@dataclass(frozen=True, slots=True)
class ImportRequest:
    content: bytes
    mapping: Sequence[tuple[ImportField, str]] = ()
    dry_run: bool = False
    on_duplicate: DuplicatePolicy = DuplicatePolicy.REPORT
    all_or_nothing: bool = False
    content_field: tuple[str, ...] = CONTENT_FIELD  # where refusals of the file point


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_bytes: int
    max_rows: int
    reported_rows: int = 1_000  # rows listed in the report (those not plainly CREATED)
    lock_wait: timedelta = timedelta(minutes=5)  # for another import of the tenant to end


def content_of(*, file: object, csv: str | None) -> tuple[bytes, tuple[str, ...]]:
    """The CSV to import and where it came from: exactly one of an uploaded file (bytes,
    from a multipart request) or inline text."""
    if (file is None) == (csv is None):
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED,
            "Give the CSV either as `file` (a multipart upload) or as `csv` text, not both.",
            ("input",),
        )
    if csv is not None:
        return csv.encode(), CONTENT_FIELD
    if not isinstance(file, bytes):
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED,
            "`file` must be a multipart upload (the GraphQL multipart request spec).",
            FILE_FIELD,
        )
    return file, FILE_FIELD


@dataclass(frozen=True, slots=True)
class _Checked:
    file_sha256: str
    columns: ColumnMap
    rows: list[tuple[int, ImportedLead | list[RowError]]]

    @property
    def valid(self) -> list[ImportedLead]:
        return [row for _, row in self.rows if not isinstance(row, list)]


async def import_leads(
    *, db: Database, scope: Scope, request: ImportRequest, limits: ImportLimits
) -> ImportReport:
    """Bring a CSV file's leads in. Good rows are imported and bad ones reported (with
    `all_or_nothing`, one bad row and nothing is written); a dry run writes nothing and
    reports exactly what a real run would do now. The same file again creates nothing.
    Imports of one tenant run one at a time; a failure half-way writes nothing."""
    checked = _check(request, limits)
    if request.dry_run:
        async with db.read() as conn:
            planned = await _plan(conn, scope, checked, request.on_duplicate, lock=False)
        return _report(checked, planned, request, limits, import_id=None)
    async with db.transaction() as conn:
        await _lock(conn, scope, limits.lock_wait)
        planned = await _plan(conn, scope, checked, request.on_duplicate, lock=True)
        if request.all_or_nothing and _count(planned, RowStatus.INVALID):
            return _report(checked, planned, request, limits, import_id=None)
        import_id = await _record_import(conn, scope, checked, planned)
        await apply_plan(conn, scope, planned, import_id=import_id)
    return _report(checked, planned, request, limits, import_id=import_id)


def _check(request: ImportRequest, limits: ImportLimits) -> _Checked:
    if len(request.content) > limits.max_bytes:
        raise DomainError.single(
            ErrorCode.VALIDATION_FAILED,
            f"The file is larger than {limits.max_bytes} bytes (CRM_IMPORT_MAX_BYTES).",
            request.content_field,
        )
    csv_file = read_csv(request.content, max_rows=limits.max_rows, field=request.content_field)
    columns = map_columns(csv_file.headers, request.mapping)
    now = datetime.now(UTC)
    rows = [(row.line, check_row(row, columns, now=now)) for row in csv_file.rows]
    return _Checked(hashlib.sha256(request.content).hexdigest(), columns, rows)


async def _lock(conn: AsyncConnection, scope: Scope, wait: timedelta) -> None:
    """Wait for the tenant's import under way, if any, to end; refuse after `wait`."""
    try:
        await import_rows.lock_tenant_imports(conn, tenant_id=scope.tenant_id, wait=wait)
    except import_rows.ImportLockBusy:
        raise DomainError.single(
            ErrorCode.BUSY,
            "Another import of this tenant is still running; try again when it ends.",
        ) from None


async def _plan(
    conn: AsyncConnection,
    scope: Scope,
    checked: _Checked,
    policy: DuplicatePolicy,
    *,
    lock: bool,
) -> list[PlannedRow]:
    valid = checked.valid
    keys = [contact_keys(lead.email, lead.phone) for lead in valid]
    imported_before = await import_rows.imported_fingerprints(
        conn, tenant_id=scope.tenant_id, fingerprints=[lead.fingerprint for lead in valid]
    )
    existing = await import_rows.leads_with_contacts(
        conn,
        tenant_id=scope.tenant_id,
        emails=sorted({email for email, _ in keys if email}),
        phone_digits=sorted({phone for _, phone in keys if phone}),
        for_update=lock,
    )
    return plan_rows(
        checked.rows, imported_before=imported_before, existing=existing, policy=policy
    )


async def _record_import(
    conn: AsyncConnection, scope: Scope, checked: _Checked, planned: list[PlannedRow]
) -> int:
    """The import's own row, and its one audit entry (not one per lead)."""
    counts = _counts(planned)
    import_id = await import_rows.insert_import(
        conn,
        values={
            "tenant_id": scope.tenant_id,
            "actor": scope.actor,
            "file_sha256": checked.file_sha256,
            "rows_read": len(planned),
            **{TOTAL_NAMES[status]: count for status, count in counts.items()},
        },
    )
    await audit.record(
        conn,
        scope,
        action=Action.LEADS_IMPORTED,
        entity_type=Entity.LEAD_IMPORT,
        entity_id=import_id,
        before=None,
        after={
            "file_sha256": checked.file_sha256,
            "rows_read": len(planned),
            **{TOTAL_NAMES[status]: count for status, count in counts.items()},
        },
    )
    return import_id


def _counts(planned: list[PlannedRow]) -> dict[RowStatus, int]:
    return {status: _count(planned, status) for status in RowStatus}


def _count(planned: list[PlannedRow], status: RowStatus) -> int:
    return sum(1 for row in planned if row.result.status is status)


def _report(
    checked: _Checked,
    planned: list[PlannedRow],
    request: ImportRequest,
    limits: ImportLimits,
    *,
    import_id: int | None,
) -> ImportReport:
    listed = [row.result for row in planned if row.result.status is not RowStatus.CREATED]
    refusals: tuple[Problem, ...] = ()
    invalid = _count(planned, RowStatus.INVALID)
    if import_id is None and not request.dry_run:
        refusals = (
            Problem(
                ErrorCode.VALIDATION_FAILED,
                f"{invalid} rows are invalid, so nothing was imported (allOrNothing).",
                ("input", "allOrNothing"),
            ),
        )
    return ImportReport(
        import_id=import_id,
        dry_run=request.dry_run,
        applied=import_id is not None,
        file_sha256=checked.file_sha256,
        rows_read=len(planned),
        counts=_counts(planned),
        ignored_columns=checked.columns.ignored,
        rows=tuple(listed[: limits.reported_rows]),
        rows_omitted=max(0, len(listed) - limits.reported_rows),
        refusals=refusals,
    )
