"""The input of `importLeads`, and the import enums (the service's own classes)."""

import strawberry
from strawberry.file_uploads import Upload

from services.imports import DuplicatePolicy, ImportField, RowStatus

strawberry.enum(
    ImportField,
    description=(
        "A lead field a CSV column can feed. NAME and SOURCE are required; OUTCOME (won, "
        "lost or blank) makes a closed lead, with CLOSED_AT, LOST_REASON, AMOUNT, CURRENCY."
    ),
)
strawberry.enum(
    DuplicatePolicy,
    description=(
        "What a row whose e-mail or phone matches an existing lead (or an earlier row) does. "
        "REPORT: listed as DUPLICATE, not imported. SKIP: counted as skipped. UPDATE: the "
        "lead's contact data is updated (an open lead only; its stage only forwards)."
    ),
)
strawberry.enum(RowStatus, name="ImportRowStatus", description="What became of one CSV row.")


@strawberry.input(description="Which CSV column feeds a field.")
class ImportColumnInput:
    field: ImportField = strawberry.field(description="The lead field.")
    column: str = strawberry.field(description="The CSV header it comes from.")


@strawberry.input(description="A CSV file of leads and how to read it.")
class ImportLeadsInput:
    file: Upload | None = strawberry.field(
        default=None,
        description="The CSV as a multipart upload (GraphQL multipart request spec).",
    )
    csv: str | None = strawberry.field(
        default=None, description="The CSV as text; exactly one of file and csv."
    )
    mapping: list[ImportColumnInput] | None = strawberry.field(
        default=None,
        description=(
            "Columns for fields. Fields not listed take the header that spells their name "
            "(any case; spaces, _ and - ignored: `Business domain`)."
        ),
    )
    dry_run: bool = strawberry.field(
        default=False, description="Check and report what would happen; write nothing."
    )
    on_duplicate: DuplicatePolicy = strawberry.field(
        default=DuplicatePolicy.REPORT, description="What a duplicate row does."
    )
    all_or_nothing: bool = strawberry.field(
        default=False, description="Import nothing when any row is invalid."
    )
