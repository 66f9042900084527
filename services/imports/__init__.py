"""Bulk import of leads, and of closed leads with their outcomes, from CSV.

`import_leads` (service.py) is the one entry point, used by the `importLeads` mutation
and by `python -m server import-leads` (cli/imports.py): read the file (parsing.py), map its columns
(columns.py), check each row (rows.py), decide what each row does (plan.py), then write
it all in one transaction (writing.py).
"""

from services.imports.columns import ImportField
from services.imports.report import DuplicatePolicy, ImportReport, RowError, RowResult, RowStatus
from services.imports.service import ImportLimits, ImportRequest, content_of, import_leads

__all__ = [
    "DuplicatePolicy",
    "ImportField",
    "ImportLimits",
    "ImportReport",
    "ImportRequest",
    "RowError",
    "RowResult",
    "RowStatus",
    "content_of",
    "import_leads",
]
