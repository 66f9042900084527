"""Good rows become leads as the file describes them, each with its lead.created event."""

from tests.api.operations import LEAD_FIELDS
from tests.conftest import GraphQLClient
from tests.imports.operations import csv_of, report_of

LEADS = (
    """
{ leads(first: 10, orderBy: {field: CREATED_AT, direction: ASC}) {
    edges { node { ...LeadFields } } } }"""
    + LEAD_FIELDS
)


async def test_good_rows_become_leads_in_their_stage(gql: GraphQLClient) -> None:
    # given a file of two open leads, headers spelled loosely
    csv = csv_of(
        "Ada Lovelace,ADA@Example.com,+44 20 7946 0000,Partner,fintech,qualified,7,2024-01-05",
        "Bob,,,cold outreach,,,,2024-02-01T10:00:00Z",
        header="Name,E-mail,Phone,SOURCE,Business domain,stage,Message_Count,created at",
    )

    # when it is imported
    report = await report_of(gql, csv)

    # then both rows are created, none listed (the list is for rows not plainly created)
    assert (report["rowsRead"], report["created"], report["invalid"]) == (2, 2, 0)
    assert report["rows"] == []
    assert report["rowsOmitted"] == 0
    assert report["applied"] is True
    assert report["importId"] is not None
    leads = [edge["node"] for edge in (await gql.data(LEADS))["leads"]["edges"]]
    ada, bob = leads
    assert ada["name"] == "Ada Lovelace"
    assert ada["email"] == "ada@example.com"
    assert (ada["source"], ada["stage"], ada["messageCount"]) == ("PARTNER", "QUALIFIED", 7)
    assert ada["businessDomain"] == "fintech"
    assert ada["createdAt"].startswith("2024-01-05T00:00:00")
    assert (bob["source"], bob["stage"], bob["email"]) == ("COLD_OUTREACH", "NEW", None)
    assert bob["createdAt"].startswith("2024-02-01T10:00:00")
