"""`importLeads`: read the input, call the import service, shape its report."""

from dataclasses import dataclass, field

from domain.errors import Problem
from domain.global_ids import to_global_id
from resolvers.context import Info
from resolvers.mutations import refusals_as
from schema.import_inputs import ImportLeadsInput
from services.imports import (
    ImportLimits,
    ImportReport,
    ImportRequest,
    RowResult,
    RowStatus,
    content_of,
)
from services.imports import (
    import_leads as run_import,
)


@dataclass
class ImportLeadsPayload:
    report: ImportReport | None = None
    user_errors: list[Problem] = field(default_factory=list)


@refusals_as(ImportLeadsPayload)
async def import_leads(info: Info, data: ImportLeadsInput) -> ImportLeadsPayload:
    app = info.context.app
    content, content_field = content_of(file=data.file, csv=data.csv)
    request = ImportRequest(
        content=content,
        mapping=[(entry.field, entry.column) for entry in data.mapping or ()],
        dry_run=data.dry_run,
        on_duplicate=data.on_duplicate,
        all_or_nothing=data.all_or_nothing,
        content_field=content_field,
    )
    limits = ImportLimits(
        max_bytes=app.settings.imports.max_bytes, max_rows=app.settings.imports.max_rows
    )
    report = await run_import(db=app.db, scope=info.context.scope, request=request, limits=limits)
    return ImportLeadsPayload(report=report, user_errors=list(report.refusals))


def import_id(root: ImportReport) -> str | None:
    return None if root.import_id is None else to_global_id("LeadImport", root.import_id)


def lead_id(root: RowResult) -> str | None:
    return None if root.lead_id is None else to_global_id("Lead", root.lead_id)


def matched_lead_id(root: RowResult) -> str | None:
    return None if root.matched_lead_id is None else to_global_id("Lead", root.matched_lead_id)


def created(root: ImportReport) -> int:
    return root.count(RowStatus.CREATED)


def updated(root: ImportReport) -> int:
    return root.count(RowStatus.UPDATED)


def unchanged(root: ImportReport) -> int:
    return root.count(RowStatus.UNCHANGED)


def skipped(root: ImportReport) -> int:
    return root.count(RowStatus.SKIPPED)


def duplicates(root: ImportReport) -> int:
    return root.count(RowStatus.DUPLICATE)


def invalid(root: ImportReport) -> int:
    return root.count(RowStatus.INVALID)
