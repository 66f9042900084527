"""Imports of one tenant run one at a time: the same file sent twice at once creates
each lead exactly once, whichever request comes first."""

import asyncio

from tests.conftest import GraphQLClient
from tests.imports.operations import csv_of, report_of, table_counts

FILE = csv_of(*(f"Lead {n},lead{n}@example.com,,partner,,,," for n in range(40)))


async def test_concurrent_identical_imports_create_each_lead_once(
    gql: GraphQLClient, migrated: str
) -> None:
    # when the same file is imported by four requests at once
    reports = await asyncio.gather(*(report_of(gql, FILE) for _ in range(4)))

    # then one import created every lead, and the others found them all imported
    assert sorted(report["created"] for report in reports) == [0, 0, 0, 40]
    assert sorted(report["unchanged"] for report in reports) == [0, 40, 40, 40]
    counts = await table_counts(migrated, "leads", "lead_import_rows", "lead_imports")
    assert counts == {"leads": 40, "lead_import_rows": 40, "lead_imports": 4}
