"""Closed rows are history the learned scorer learns from: a won row is a TRANSFERRED
lead with a PAID sale and a WIN, a lost row a LOST lead with a LOSS, each outcome kept
with what a scorer would have seen just before the lead was decided."""

from typing import Any

from sqlalchemy import text

from db.database import open_database
from tests.conftest import GraphQLClient
from tests.imports.operations import csv_of, report_of

HEADER = (
    "name,source,business domain,stage,message_count,created_at,outcome,closed_at,"
    "amount,currency,lost_reason"
)


async def _rows(database_url: str, query: str) -> list[dict[str, Any]]:
    db = open_database(database_url, pool_size=1)
    try:
        async with db.read() as conn:
            return [dict(row._mapping) for row in await conn.execute(text(query))]
    finally:
        await db.dispose()


async def test_won_and_lost_rows_become_closed_leads_with_outcomes(
    gql: GraphQLClient, migrated: str
) -> None:
    # given a won, a lost (at contacted) and a lost (stage not given) row
    csv = csv_of(
        "Won Co,partner,fintech,,9,2024-01-01,won,2024-01-31,1250.50,eur,",
        "Lost Co,website,,contacted,2,2024-02-01,LOST,2024-02-11,,,too expensive",
        "Gone Co,event,,,,2024-03-01,lost,2024-03-02T12:00:00+02:00,,,",
        header=HEADER,
    )

    # when it is imported
    report = await report_of(gql, csv)
    assert report["created"] == 3

    # then each lead is in its final stage, written directly
    leads = await _rows(migrated, "SELECT name, stage, lost_reason FROM leads ORDER BY id")
    assert [(lead["stage"], lead["lost_reason"]) for lead in leads] == [
        ("transferred", None),
        ("lost", "too expensive"),
        ("lost", "Imported as lost"),
    ]
    # and the won one has its paid sale
    (sale,) = await _rows(migrated, "SELECT stage, amount, currency, created_at FROM sales")
    assert (sale["stage"], str(sale["amount"]), sale["currency"]) == ("paid", "1250.50", "EUR")
    # and every one its outcome, imported, with the features before the close
    outcomes = await _rows(
        migrated,
        "SELECT result, origin, features, sale_id IS NOT NULL AS has_sale, occurred_at"
        " FROM lead_outcomes ORDER BY lead_id",
    )
    assert [(o["result"], o["origin"], o["has_sale"]) for o in outcomes] == [
        ("win", "imported", True),
        ("loss", "imported", False),
        ("loss", "imported", False),
    ]
    won, lost, gone = (o["features"] for o in outcomes)
    assert won == {
        "source": "partner",
        "stage": "qualified",
        "message_count": 9,
        "has_business_domain": True,
        "business_domain": "fintech",
        "days_since_created": 30,
    }
    assert (lost["stage"], lost["days_since_created"], lost["message_count"]) == (
        "contacted",
        10,
        2,
    )
    assert (gone["stage"], gone["days_since_created"]) == ("new", 1)
    assert outcomes[0]["occurred_at"].isoformat().startswith("2024-01-31T00:00:00")


async def test_each_change_has_its_event_and_the_import_one_audit_entry(
    gql: GraphQLClient, migrated: str
) -> None:
    # given a file of an open and a won lead
    csv = csv_of(
        "Open Co,partner,,,,,,,,,",
        "Won Co,partner,,,,2024-01-01,won,2024-01-31,100,,",
        header=HEADER,
    )

    # when it is imported
    report = await report_of(gql, csv)

    # then each lead has its lead.created (and the won one sale.created), naming the import
    events = await _rows(migrated, "SELECT type, data FROM events ORDER BY id")
    assert [event["type"] for event in events] == ["lead.created", "lead.created", "sale.created"]
    import_ids = {event["data"]["importId"] for event in events}
    assert len(import_ids) == 1
    assert [event["data"]["toStage"] for event in events] == ["new", "transferred", "paid"]
    # and the import is one audit entry, with its counts
    (entry,) = await _rows(
        migrated, "SELECT action, entity_type, entity_id, changes FROM audit_log"
    )
    assert (entry["action"], entry["entity_type"]) == ("leads.imported", "LeadImport")
    assert entry["entity_id"] == import_ids.pop()
    assert entry["changes"]["created"] == {"before": None, "after": 2}
    assert report["importId"] is not None
