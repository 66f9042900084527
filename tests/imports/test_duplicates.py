"""Rows whose e-mail (any case) or phone (its digits) match a lead of the tenant, or an
earlier row of the file, are reported, skipped or merged as `onDuplicate` says."""

import httpx

from tests.api.operations import advance, create_lead, read_lead
from tests.conftest import GraphQLClient, bearer
from tests.imports.operations import Json, csv_of, report_of, rows_by_line, table_counts
from tests.tenants import second_tenant

FILE = csv_of(
    "Ada Again,ADA@example.com,,partner,,,,",  # 2: matches the lead by e-mail
    "Phone Twin,,+49 (30) 1234-567,website,,,,",  # 3: matches the lead by phone digits
    "New One,new@example.com,,website,,,,",  # 4: new
    "New Twin,NEW@example.com,,referral,,,,",  # 5: matches line 4
)


async def _existing(gql: GraphQLClient) -> Json:
    return await create_lead(gql, name="Ada", email="ada@example.com", phone="+49 30 1234567")


async def test_report_lists_duplicates_with_what_they_match(gql: GraphQLClient) -> None:
    # given a lead with an e-mail and a phone
    lead = await _existing(gql)

    # when a file with matching rows is imported (REPORT is the default)
    report = await report_of(gql, FILE)

    # then the matching rows are DUPLICATE, naming the lead or the line they match
    assert (report["created"], report["duplicates"]) == (1, 3)
    rows = rows_by_line(report)
    assert rows[2]["status"] == rows[3]["status"] == rows[5]["status"] == "DUPLICATE"
    assert rows[2]["matchedLeadId"] == rows[3]["matchedLeadId"] == lead["id"]
    assert rows[5]["matchedLine"] == 4
    assert rows[5]["matchedLeadId"] is not None
    assert 4 not in rows  # plainly created
    assert (await read_lead(gql, lead["id"]))["name"] == "Ada"  # untouched


async def test_skip_counts_duplicates_as_skipped(gql: GraphQLClient) -> None:
    await _existing(gql)
    report = await report_of(gql, FILE, onDuplicate="SKIP")
    assert (report["created"], report["skipped"], report["duplicates"]) == (1, 3, 0)
    assert {row["status"] for row in report["rows"]} == {"SKIPPED"}


async def test_update_merges_contact_data_into_open_leads(gql: GraphQLClient) -> None:
    # given an open lead
    lead = await _existing(gql)

    # when the file is imported with UPDATE
    report = await report_of(gql, FILE, onDuplicate="UPDATE")

    # then the lead takes the rows' contact data (the last row to match wins) and the
    # file's twin row updates the lead its first row created
    assert (report["created"], report["updated"]) == (1, 3)
    after = await read_lead(gql, lead["id"])
    assert after["name"] == "Phone Twin"
    assert after["email"] == "ada@example.com"
    assert after["version"] == lead["version"] + 2
    rows = rows_by_line(report)
    assert rows[5]["leadId"] is not None
    assert rows[5]["matchedLine"] == 4
    # and each update has its lead.updated event, naming the import and the fields
    events = await gql.data("{ events(first: 20) { edges { node { type data } } } }")
    updated = [e["node"] for e in events["events"]["edges"] if e["node"]["type"] == "LEAD_UPDATED"]
    assert len(updated) == 3
    assert updated[0]["data"]["importId"] is not None
    twin = await read_lead(gql, rows[5]["leadId"])
    assert twin["name"] == "New Twin"
    assert twin["source"] == "WEBSITE"


async def test_update_moves_an_open_stage_forward_never_back(gql: GraphQLClient) -> None:
    # given a CONTACTED lead
    lead = await create_lead(gql, email="ada@example.com")
    await advance(gql, lead["id"], "CONTACTED")

    # when rows say NEW, then QUALIFIED
    backwards = csv_of("Ada Lovelace,ada@example.com,,partner,,new,,")
    assert (await report_of(gql, backwards, onDuplicate="UPDATE"))["unchanged"] == 1
    forwards = csv_of("Ada Lovelace,ada@example.com,,partner,,qualified,,")
    assert (await report_of(gql, forwards, onDuplicate="UPDATE"))["updated"] == 1

    # then the lead moved forward only
    assert (await read_lead(gql, lead["id"]))["stage"] == "QUALIFIED"


async def test_update_never_changes_a_closed_lead(gql: GraphQLClient) -> None:
    # given a LOST lead
    lead = await create_lead(gql, email="ada@example.com")
    await advance(gql, lead["id"], "LOST")

    # when a matching row is imported with UPDATE
    report = await report_of(
        gql, csv_of("Renamed,ada@example.com,,partner,,,,"), onDuplicate="UPDATE"
    )

    # then it is reported, and the lead is unchanged
    (row,) = report["rows"]
    assert row["status"] == "DUPLICATE"
    assert row["matchedLeadId"] == lead["id"]
    assert "lost" in row["errors"][0]["message"]
    assert (await read_lead(gql, lead["id"]))["name"] == "Ada Lovelace"


async def test_leads_of_another_tenant_are_never_matched(gql: GraphQLClient, migrated: str) -> None:
    # given another tenant with a lead of the same e-mail
    async with second_tenant(migrated, "Other Co") as other:
        await other_lead(other.admin_key, gql)

        # when this tenant imports a row with that e-mail
        report = await report_of(gql, csv_of("Ada,ada@example.com,,partner,,,,"))

        # then it is a new lead here
        assert (report["created"], report["duplicates"]) == (1, 0)
        assert (await table_counts(migrated, "leads"))["leads"] == 2


async def other_lead(key: str, gql: GraphQLClient) -> None:
    """A lead with e-mail ada@example.com, made by another tenant's admin."""
    async with httpx.AsyncClient(
        base_url=str(gql.http.base_url), headers=bearer(key), timeout=30
    ) as http:
        await create_lead(GraphQLClient(http), email="ada@example.com")
