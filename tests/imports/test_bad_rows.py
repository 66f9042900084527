"""Bad rows are reported by line and column, several problems per row, and not imported;
the good rows of the same file are. A file that cannot be read at all is refused whole."""

import pytest
from sqlalchemy import text

from db.database import open_database
from db.models import DEFAULT_TENANT_ID
from domain.access import Role
from domain.errors import DomainError
from services.imports import ImportLimits, ImportRequest, import_leads
from services.scope import Scope
from tests.conftest import GraphQLClient
from tests.imports.operations import Json, csv_of, import_csv, report_of, rows_by_line

FULL = "name,email,phone,source,stage,message_count,created_at,outcome,closed_at,amount,lost_reason"


def _errors(row: Json) -> dict[str | None, str]:
    return {error["column"]: error["message"] for error in row["errors"]}


async def test_each_kind_of_bad_value_is_reported_on_its_line_and_column(
    gql: GraphQLClient,
) -> None:
    # given a file with one good row and one row per kind of mistake
    csv = csv_of(
        "Good,good@example.com,,partner,,,,,,,",  # line 2
        ",no-name@example.com,,partner,,,,,,,",  # 3: name missing
        "Bad source,,,carrier pigeon,,,,,,,",  # 4
        "Bad email,not-an-email,,website,,,,,,,",  # 5
        "Bad phone,,call me,website,,,,,,,",  # 6
        "Bad stage,,,website,sleeping,,,,,,",  # 7
        "Bad count,,,website,,-3,,,,,",  # 8
        "Bad date,,,website,,,31/12/2024,,,,",  # 9
        "Future,,,website,,,2999-01-01,,,,",  # 10
        "Bad outcome,,,website,,,,maybe,,,",  # 11
        "Closes early,,,website,,,2024-05-01,lost,2024-04-01,,",  # 12
        "Won without amount,,,website,,,,won,,,",  # 13
        "Open with amount,,,website,,,,,,100,",  # 14
        "Open but closed,,,website,,,,,2024-01-01,,",  # 15
        "Open lost reason,,,website,,,,,,,too pricey",  # 16
        "Lost as stage,,,website,lost,,,,,,",  # 17
        ",broken,,nowhere,,,,,,,",  # 18: three problems at once
        header=FULL,
    )

    # when it is imported
    report = await report_of(gql, csv)

    # then only the good row is created; each bad one names its column
    assert (report["created"], report["invalid"], report["rowsRead"]) == (1, 16, 17)
    rows = rows_by_line(report)
    assert all(row["status"] == "INVALID" for row in rows.values())
    expected_columns = {
        3: {"name"},
        4: {"source"},
        5: {"email"},
        6: {"phone"},
        7: {"stage"},
        8: {"message_count"},
        9: {"created_at"},
        10: {"created_at"},
        11: {"outcome"},
        12: {"closed_at"},
        13: {"amount"},
        14: {"amount"},
        15: {"closed_at"},
        16: {"lost_reason"},
        17: {"stage"},
        18: {"name", "email", "source"},
    }
    assert {line: set(_errors(row)) for line, row in rows.items()} == expected_columns
    assert "carrier pigeon" in _errors(rows[4])["source"]
    assert "valid e-mail" in _errors(rows[5])["email"]
    assert "future" in _errors(rows[10])["created_at"]


async def test_line_numbers_count_quoted_line_breaks_and_skip_blank_lines(
    gql: GraphQLClient,
) -> None:
    # given a row whose quoted note spans two lines, then a blank line, then a bad row
    csv = 'name,source,notes\nAda,partner,"two\nlines"\n\nBad,unknown,\n'

    # when it is imported
    report = await report_of(gql, csv)

    # then the bad row is reported at the line it starts on in the file
    assert (report["rowsRead"], report["invalid"]) == (2, 1)
    assert [row["line"] for row in report["rows"]] == [5]


async def test_unknown_columns_are_ignored_and_listed(gql: GraphQLClient) -> None:
    report = await report_of(gql, "name,source,notes,\nAda,partner,call back,\n")
    assert report["created"] == 1
    assert report["ignoredColumns"] == ["notes"]


async def test_a_mapping_names_the_column_of_a_field(gql: GraphQLClient) -> None:
    # given headers that spell no field, mapped explicitly
    csv = "Full name;Channel;Mail\nAda;Referral;ada@example.com\n"  # semicolons, sniffed
    mapping = [
        {"field": "NAME", "column": "Full name"},
        {"field": "SOURCE", "column": "channel"},
        {"field": "EMAIL", "column": "Mail"},
    ]

    # when it is imported with the mapping
    report = await report_of(gql, csv, mapping=mapping)

    # then the row is read through it
    assert (report["created"], report["ignoredColumns"]) == (1, [])


async def test_files_that_cannot_be_read_are_refused_whole(gql: GraphQLClient) -> None:
    cases = {
        "name,email\nAda,a@example.com\n": "No column gives SOURCE",
        "": "empty",
        'name,source\n"unclosed,partner\n': "not valid CSV",
    }
    for csv, message in cases.items():
        payload = await import_csv(gql, csv)
        assert payload["report"] is None
        assert message in payload["userErrors"][0]["message"], payload
    mapped = await import_csv(
        gql, "name,source\nAda,partner\n", mapping=[{"field": "EMAIL", "column": "Mail"}]
    )
    assert mapped["userErrors"][0]["field"] == ["input", "mapping", "0"]
    both = await import_csv(gql, "name,source\n", file=None)
    assert both["report"] is not None  # file null and csv given: fine
    neither = await gql(
        "mutation { importLeads(input: {}) { report { created } userErrors { message } } }"
    )
    assert "either" in neither["data"]["importLeads"]["userErrors"][0]["message"]


async def test_non_utf8_and_oversized_files_are_refused_by_the_service(migrated: str) -> None:
    # given the service with small limits
    db = open_database(migrated, pool_size=1)
    scope = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
    limits = ImportLimits(max_bytes=200, max_rows=2)
    try:
        for content, message in (
            ("name,source\nJosé,partner\n".encode("latin-1"), "not UTF-8"),
            (b"name,source\n" + b"Ada,partner\n" * 3, "more than 2 rows"),
            (b"name,source\n" + b"x" * 300, "larger than 200 bytes"),
        ):
            # when such a file is imported, then it is refused with a clear message
            with pytest.raises(DomainError, match=message):
                await import_leads(
                    db=db, scope=scope, request=ImportRequest(content=content), limits=limits
                )
        # and nothing is written
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM leads"))).scalar_one() == 0
    finally:
        await db.dispose()


async def test_a_bom_is_allowed(gql: GraphQLClient, migrated: str) -> None:
    db = open_database(migrated, pool_size=1)
    scope = Scope(tenant_id=DEFAULT_TENANT_ID, actor="tests", role=Role.ADMIN)
    try:
        report = await import_leads(
            db=db,
            scope=scope,
            request=ImportRequest(content="\ufeffname,source\nAda,partner\n".encode()),
            limits=ImportLimits(max_bytes=1000, max_rows=10),
        )
    finally:
        await db.dispose()
    assert report.rows_read == 1
    assert report.ignored_columns == ()


async def test_a_row_with_more_cells_than_the_header_is_invalid(gql: GraphQLClient) -> None:
    # given a row with a value beyond the last column (trailing empty cells are fine)
    report = await report_of(gql, "name,source\nAda,partner,,\nBob,partner,stray\n")

    # then only that row is refused, for the row as a whole
    assert (report["created"], report["invalid"]) == (1, 1)
    (row,) = report["rows"]
    assert row["line"] == 3
    assert row["errors"][0]["column"] is None
