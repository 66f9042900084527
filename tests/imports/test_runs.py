"""A dry run writes nothing and reports what the real run then does; running a file
again creates nothing; with allOrNothing one bad row keeps the whole file out."""

from typing import Any

from tests.api.operations import create_lead
from tests.conftest import GraphQLClient
from tests.imports.operations import (
    WRITTEN_TABLES,
    csv_of,
    import_csv,
    report_of,
    table_counts,
)

FILE = csv_of(
    "Ada,ada@example.com,,partner,fintech,qualified,4,2024-01-02",
    "Ada Twin,ADA@example.com,,website,,,,",  # duplicate of line 2
    "Bob,bob@example.com,,website,,,,",  # duplicate of an existing lead
    "Broken,,,nowhere,,,,",  # invalid
    "Cy,,+1 555 0100,event,,contacted,,",
)


def _without_ids(report: dict[str, Any]) -> dict[str, Any]:
    rows = [{**row, "leadId": None, "matchedLeadId": None} for row in report["rows"]]
    return {**report, "rows": rows, "importId": None, "dryRun": None, "applied": None}


async def test_a_dry_run_writes_nothing_and_reports_what_the_real_run_does(
    gql: GraphQLClient, migrated: str
) -> None:
    # given an existing lead and the counts of every table an import writes
    await create_lead(gql, name="Bob", email="bob@example.com")
    before = await table_counts(migrated, *WRITTEN_TABLES)

    # when the file is imported as a dry run
    dry = await report_of(gql, FILE, dryRun=True)

    # then nothing was written, and nothing has an id
    assert await table_counts(migrated, *WRITTEN_TABLES) == before
    assert (dry["dryRun"], dry["applied"], dry["importId"]) == (True, False, None)
    assert (dry["created"], dry["duplicates"], dry["invalid"]) == (2, 2, 1)

    # and the real run reports the same rows with the same outcome
    real = await report_of(gql, FILE)
    assert (real["dryRun"], real["applied"]) == (False, True)
    assert _without_ids(real) == _without_ids(dry)


async def test_running_the_same_file_again_creates_nothing(
    gql: GraphQLClient, migrated: str
) -> None:
    # given a file imported once
    first = await report_of(gql, FILE)
    after_first = await table_counts(migrated, "leads", "sales", "lead_outcomes")

    # when it is imported again, rows in another order and headers in another case
    lines = FILE.strip().split("\n")
    again = await report_of(gql, "\n".join([lines[0].upper(), *reversed(lines[1:])]))

    # then its created rows are UNCHANGED, naming the leads the first run created
    assert again["created"] == 0
    assert again["unchanged"] == first["created"] == 3  # Ada, Bob and Cy
    assert await table_counts(migrated, "leads", "sales", "lead_outcomes") == after_first
    unchanged = [row for row in again["rows"] if row["status"] == "UNCHANGED"]
    assert all(row["leadId"] is not None for row in unchanged)
    # and a dry run of it says so too
    assert (await report_of(gql, FILE, dryRun=True))["unchanged"] == 3


async def test_all_or_nothing_writes_nothing_when_a_row_is_invalid(
    gql: GraphQLClient, migrated: str
) -> None:
    # given a file with one invalid row
    before = await table_counts(migrated, *WRITTEN_TABLES)

    # when it is imported all or nothing
    payload = await import_csv(gql, FILE, allOrNothing=True)

    # then nothing is written; the report says why, and which row is at fault
    assert await table_counts(migrated, *WRITTEN_TABLES) == before
    report = payload["report"]
    assert (report["applied"], report["importId"], report["invalid"]) == (False, None, 1)
    assert payload["userErrors"][0]["field"] == ["input", "allOrNothing"]
    # and without the bad row, everything is imported
    good = "\n".join(line for line in FILE.split("\n") if "Broken" not in line)
    assert (await report_of(gql, good, allOrNothing=True))["created"] == 3


async def test_the_report_lists_at_most_a_thousand_rows(gql: GraphQLClient) -> None:
    # given 1,005 invalid rows
    csv = csv_of(*(f"Row {n},,,nowhere,,,," for n in range(1005)))

    # when imported
    report = await report_of(gql, csv, dryRun=True)

    # then the first 1,000 are listed and the rest counted
    assert (report["invalid"], len(report["rows"]), report["rowsOmitted"]) == (1005, 1000, 5)


async def test_a_row_repeated_in_one_file_is_imported_once(gql: GraphQLClient) -> None:
    # given a file with the same row twice (no e-mail or phone to match it by)
    csv = csv_of("Ada,,,partner,,,,", "Ada,,,PARTNER,,,,")

    # when it is imported
    report = await report_of(gql, csv)

    # then the second is UNCHANGED, naming the first
    assert (report["created"], report["unchanged"]) == (1, 1)
    assert report["rows"][0]["matchedLine"] == 2
