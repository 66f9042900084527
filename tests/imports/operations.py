"""The importLeads operation and helpers around it, for the import tests."""

from typing import Any

from sqlalchemy import text

from db.database import open_database
from tests.conftest import GraphQLClient

Json = dict[str, Any]

IMPORT_LEADS = """
mutation ImportLeads($input: ImportLeadsInput!) {
  importLeads(input: $input) {
    report {
      importId dryRun applied fileSha256 rowsRead created updated unchanged skipped
      duplicates invalid ignoredColumns rowsOmitted
      rows { line status leadId matchedLeadId matchedLine errors { column message } }
    }
    userErrors { code message field }
  }
}"""

HEADER = "name,email,phone,source,business_domain,stage,message_count,created_at"


def csv_of(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


async def import_csv(gql: GraphQLClient, csv: str, **options: Any) -> Json:
    """The importLeads payload for inline `csv` (options: dryRun, onDuplicate, ...)."""
    body = await gql(IMPORT_LEADS, {"input": {"csv": csv, **options}})
    assert "errors" not in body, body["errors"]
    payload: Json = body["data"]["importLeads"]
    return payload


async def report_of(gql: GraphQLClient, csv: str, **options: Any) -> Json:
    """The report of an import that the file as a whole passed."""
    payload = await import_csv(gql, csv, **options)
    assert payload["userErrors"] == [], payload["userErrors"]
    report: Json = payload["report"]
    return report


def rows_by_line(report: Json) -> dict[int, Json]:
    return {row["line"]: row for row in report["rows"]}


async def table_counts(database_url: str, *tables: str) -> dict[str, int]:
    """Rows in each table, counted as the owner (every tenant)."""
    db = open_database(database_url, pool_size=1)
    try:
        async with db.read() as conn:
            return {
                name: int((await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one())
                for name in tables
            }
    finally:
        await db.dispose()


WRITTEN_TABLES = (
    "leads",
    "sales",
    "lead_outcomes",
    "stage_changes",
    "events",
    "audit_log",
    "lead_imports",
    "lead_import_rows",
)
