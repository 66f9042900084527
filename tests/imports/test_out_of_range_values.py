"""Values Python or the database cannot take as they are (digits that are not ASCII, a
count too long to be a number, a moment with no UTC form) are per-row errors, the same
on a dry run as on a real one; never a failure of the whole import."""

import pytest

from tests.conftest import GraphQLClient
from tests.imports.operations import Json, csv_of, report_of, rows_by_line, table_counts

HEADER = "name,source,message_count,created_at,outcome,closed_at"
COUNTS = csv_of(
    "Good,partner,0001000,,,",  # line 2
    "Superscript,partner,²,,,",  # 3: str.isdigit() is true, int() refuses it
    "Arabic digits,partner,٣,,,",  # 4
    f"Endless,partner,{'1' * 5000},,,",  # 5: over int()'s 4,300 digits
    header=HEADER,
)
MOMENTS = csv_of(
    "Good,partner,,1900-01-01T04:00:00+03:00,,",  # line 2: in UTC, 1900-01-01 01:00
    "Year one,partner,,0001-01-01T00:00:00+05:00,,",  # 3: year 0 in UTC
    "Too old,partner,,1899-12-31,,",  # 4
    "Closed long ago,partner,,,lost,0001-01-01T00:00:00+05:00",  # 5
    header=HEADER,
)
COUNT_ERROR = "Give a whole number from 0 to 1000000."
MOMENT_ERROR = "Give a moment from the year 1900 on."


def _errors(report: Json) -> dict[int, list[tuple[str | None, str]]]:
    return {
        line: [(error["column"], error["message"]) for error in row["errors"]]
        for line, row in rows_by_line(report).items()
    }


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        (COUNTS, {line: [("message_count", COUNT_ERROR)] for line in (3, 4, 5)}),
        (
            MOMENTS,
            {
                3: [("created_at", MOMENT_ERROR)],
                4: [("created_at", MOMENT_ERROR)],
                5: [("closed_at", MOMENT_ERROR)],
            },
        ),
    ],
    ids=["message_count", "moments"],
)
async def test_out_of_range_values_are_row_errors_on_a_dry_run_and_a_real_one(
    gql: GraphQLClient, migrated: str, csv: str, expected: dict[int, list[tuple[str, str]]]
) -> None:
    # when the file is checked, then imported
    dry = await report_of(gql, csv, dryRun=True)
    real = await report_of(gql, csv)

    # then both report the same rows invalid, on their columns, and the good row is imported
    for report in (dry, real):
        assert (report["rowsRead"], report["created"], report["invalid"]) == (4, 1, 3)
        assert _errors(report) == expected
    assert dry["rows"] == real["rows"]
    assert (await table_counts(migrated, "leads"))["leads"] == 1
