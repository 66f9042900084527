"""`python -m server import-leads FILE --tenant NAME`: the import from a shell.

The same service as the importLeads mutation, acting as an admin of the tenant through
the app's own login, so Row Level Security applies as for any request. Exit status: 0
when no row is invalid, 1 when some are (or the file is refused), 2 for a usage error.
"""

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from cli.tenancy import UnknownTenant, acting_for_tenant
from domain.access import Role
from domain.errors import DomainError
from services.imports import (
    DuplicatePolicy,
    ImportField,
    ImportLimits,
    ImportReport,
    ImportRequest,
    RowResult,
    RowStatus,
    import_leads,
)
from services.imports.report import TOTAL_NAMES
from settings import Settings

COMMAND = "import-leads"
EXIT_OK, EXIT_INVALID_ROWS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line names something that is not there (a file, a tenant, a field)."""


def add_parser(commands: Any) -> None:
    """The `import-leads` sub-command, on server.py's argparse sub-parsers."""
    parser = commands.add_parser(COMMAND, help="import leads (and their outcomes) from CSV")
    parser.add_argument("file", type=Path, help="the CSV file (UTF-8; comma or semicolon)")
    parser.add_argument("--tenant", required=True, help="the tenant (company) by name")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="take FIELD (e.g. business_domain) from the column HEADER; repeatable",
    )
    parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    parser.add_argument(
        "--on-duplicate",
        choices=[policy.value for policy in DuplicatePolicy],
        default=DuplicatePolicy.REPORT.value,
        help="what a row matching an existing lead by e-mail or phone does (default: report)",
    )
    parser.add_argument(
        "--all-or-nothing", action="store_true", help="import nothing when any row is invalid"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(arguments: argparse.Namespace, settings: Settings, database_url: str) -> int:
    """Run the import the arguments describe; the exit status."""
    try:
        request = _request(arguments)
        report = asyncio.run(_import(database_url, settings, arguments.tenant, request))
    except (UsageError, UnknownTenant) as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except DomainError as refusal:
        print(f"{COMMAND}: the file was refused:", file=sys.stderr)
        for problem in refusal.problems:
            print(f"  {problem.message}", file=sys.stderr)
        return EXIT_INVALID_ROWS
    print(json.dumps(report_json(report), indent=2) if arguments.json else summary(report))
    return EXIT_INVALID_ROWS if report.count(RowStatus.INVALID) else EXIT_OK


def _request(arguments: argparse.Namespace) -> ImportRequest:
    try:
        content = arguments.file.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {arguments.file}: {error.strerror}") from None
    return ImportRequest(
        content=content,
        mapping=[_mapping(entry) for entry in arguments.map],
        dry_run=arguments.dry_run,
        on_duplicate=DuplicatePolicy(arguments.on_duplicate),
        all_or_nothing=arguments.all_or_nothing,
        content_field=("file",),
    )


def _mapping(entry: str) -> tuple[ImportField, str]:
    name, separator, header = entry.partition("=")
    fields = {field.value: field for field in ImportField}
    field = fields.get(name.strip().lower())
    if not separator or field is None or not header.strip():
        raise UsageError(f"--map takes FIELD=HEADER with FIELD one of {', '.join(fields)}")
    return field, header.strip()


async def _import(
    database_url: str, settings: Settings, tenant: str, request: ImportRequest
) -> ImportReport:
    actor = f"{COMMAND} ({getpass.getuser()})"
    limits = ImportLimits(max_bytes=settings.imports.max_bytes, max_rows=settings.imports.max_rows)
    async with acting_for_tenant(database_url, settings, tenant, actor=actor, role=Role.ADMIN) as (
        db,
        scope,
    ):
        return await import_leads(db=db, scope=scope, request=request, limits=limits)


def summary(report: ImportReport) -> str:
    """The report for people: the totals, then each row that was not plainly created."""
    if report.dry_run:
        head = "Dry run: nothing was written. A real run would give:"
    elif report.applied:
        head = f"Import {report.import_id}:"
    else:
        head = "Nothing was imported: some rows are invalid (--all-or-nothing)."
    lines = [head, f"  rows read  {report.rows_read:>7}"]
    lines += [f"  {TOTAL_NAMES[s]:<10} {report.count(s):>7}" for s in RowStatus]
    if report.ignored_columns:
        lines.append(f"  ignored columns: {', '.join(report.ignored_columns)}")
    lines += [_row_line(row) for row in report.rows]
    if report.rows_omitted:
        lines.append(f"  … and {report.rows_omitted} more rows not listed")
    return "\n".join(lines)


def _row_line(row: RowResult) -> str:
    facts = [f"line {row.line}: {row.status.value}"]
    if row.lead_id is not None:
        facts.append(f"lead {row.lead_id}")
    if row.matched_lead_id is not None:
        facts.append(f"matches lead {row.matched_lead_id}")
    if row.matched_line is not None:
        facts.append(f"matches line {row.matched_line}")
    facts += [
        f"{error.column}: {error.message}" if error.column else error.message
        for error in row.errors
    ]
    return "  " + "; ".join(facts)


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "importId": report.import_id,
        "dryRun": report.dry_run,
        "applied": report.applied,
        "fileSha256": report.file_sha256,
        "rowsRead": report.rows_read,
        **{TOTAL_NAMES[status]: report.count(status) for status in RowStatus},
        "ignoredColumns": list(report.ignored_columns),
        "rows": [
            {
                "line": row.line,
                "status": row.status.value,
                "leadId": row.lead_id,
                "matchedLeadId": row.matched_lead_id,
                "matchedLine": row.matched_line,
                "errors": [{"column": e.column, "message": e.message} for e in row.errors],
            }
            for row in report.rows
        ],
        "rowsOmitted": report.rows_omitted,
    }
