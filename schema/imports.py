"""`importLeads`: bring leads, and closed leads with their outcomes, in from CSV.

Fields read `services.imports.ImportReport` and `RowResult` directly; the input and the
enums are in schema/import_inputs.py.
"""

import strawberry

import schema.import_inputs  # noqa: F401 - registers the import enums first
from resolvers import imports as resolve
from schema.node import UserError
from services.imports import RowStatus


@strawberry.type(description="One problem with a row.")
class ImportRowError:
    column: str | None = strawberry.field(description="The CSV header at fault; null: the row.")
    message: str = strawberry.field(description="What is wrong.")


@strawberry.type(description="A row that was not plainly created, and why.")
class ImportRow:
    line: int = strawberry.field(description="Where the row starts in the file (header: 1).")
    status: RowStatus = strawberry.field(description="What became of it.")
    lead_id: strawberry.ID | None = strawberry.field(
        description="The lead it created, updated, or was imported as before.",
        resolver=resolve.lead_id,
    )
    matched_lead_id: strawberry.ID | None = strawberry.field(
        description="The lead a duplicate matches.", resolver=resolve.matched_lead_id
    )
    matched_line: int | None = strawberry.field(
        description="The earlier row of this file a duplicate (or repeated) row matches."
    )
    errors: list[ImportRowError] = strawberry.field(description="Why it was not imported.")


@strawberry.type(description="What an import did, or on a dry run would do.")
class ImportReport:
    import_id: strawberry.ID | None = strawberry.field(
        description="The import (audit entity LeadImport); null when nothing was written.",
        resolver=resolve.import_id,
    )
    dry_run: bool = strawberry.field(description="Whether this was a dry run.")
    applied: bool = strawberry.field(description="Whether the rows were written.")
    file_sha256: str = strawberry.field(description="SHA-256 of the file, in hex.")
    rows_read: int = strawberry.field(description="Data rows in the file (blank lines aside).")
    created: int = strawberry.field(description="Leads created.", resolver=resolve.created)
    updated: int = strawberry.field(description="Leads updated.", resolver=resolve.updated)
    unchanged: int = strawberry.field(
        description="Rows imported before, repeated, or updating nothing.",
        resolver=resolve.unchanged,
    )
    skipped: int = strawberry.field(description="Duplicates skipped.", resolver=resolve.skipped)
    duplicates: int = strawberry.field(
        description="Duplicates reported, not imported.", resolver=resolve.duplicates
    )
    invalid: int = strawberry.field(description="Rows with errors.", resolver=resolve.invalid)
    ignored_columns: list[str] = strawberry.field(description="Headers no field takes.")
    rows: list[ImportRow] = strawberry.field(
        description="The rows that were not plainly created, in file order, up to 1,000."
    )
    rows_omitted: int = strawberry.field(description="Such rows left out of `rows`.")


@strawberry.type(description="Result of importLeads.")
class ImportLeadsPayload:
    report: ImportReport | None = strawberry.field(
        description="The report; null when the file as a whole was refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the file was refused, or why nothing was written (allOrNothing)."
    )
