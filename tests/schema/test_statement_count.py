"""Loaders batch each relation per request: a page of 100 costs what a page of 1 costs.

Reads go over HTTP to the live server; the pipeline behind them is built with a few
real mutations plus bulk SQL rows (data setup only, so the suite stays fast).
The pinned counts are exact so that a loader bypassed by a change fails here.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import create_engine
from db.models import (
    DEFAULT_TENANT_ID,
    Lead,
    LeadAnalysis,
    LeadMessage,
    Sale,
    StageChange,
    table,
)
from domain.enums import LeadSource, LeadStage, MessageDirection, Recommendation, SaleStage
from tests.conftest import (
    AUTHENTICATION_STATEMENTS,
    TENANT_STATEMENTS,
    GraphQLClient,
    StatementCounter,
)


def reads(queries: int) -> int:
    """Statements of `queries` reads, each in its own tenant-scoped transaction."""
    return queries * (1 + TENANT_STATEMENTS)


BULK_LEADS = 116
API_LEADS = 4

LEAD_FIELDS = "id latestAnalysis { score } sale { id stage } stageHistory { toStage }"
LEADS_PAGE = (
    f"query($first: Int!) {{ leads(first: $first) {{ edges {{ node {{ {LEAD_FIELDS} }} }} }} }}"
)
ONE_LEAD = f"query($id: ID!) {{ lead(id: $id) {{ {LEAD_FIELDS} }} }}"
SALES_PAGE = "{ sales(first: 50) { edges { node { lead { name } stageHistory { toStage } } } } }"
LEAD_CHILD_PAGES = """
{ leads { edges { node {
    analyses(first: 3) { edges { node { score } } }
    messages(first: 3) { edges { node { text } } }
} } } }
"""


@dataclass(frozen=True)
class Pipeline:
    newest_lead_id: str  # analyzed and transferred, so every loader has work to do


# ---------------------------------------------------------------- data setup


async def _mutate(gql: GraphQLClient, name: str, input: dict[str, Any], payload: str) -> Any:
    data = await gql.data(
        f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
        f"{{ {name}(input: $input) {{ {payload} userErrors {{ code message }} }} }}",
        {"input": input},
    )
    assert data[name]["userErrors"] == [], data[name]["userErrors"]
    return data[name]


async def _transferred_lead_through_the_api(gql: GraphQLClient, name: str) -> str:
    """Create, qualify, message, analyze and transfer one lead the way a person would."""
    new = {"name": name, "source": "PARTNER", "businessDomain": "fintech"}
    lead_id: str = (await _mutate(gql, "createLead", new, "lead { id }"))["lead"]["id"]
    for stage in ("CONTACTED", "QUALIFIED"):
        await _mutate(gql, "changeLeadStage", {"leadId": lead_id, "stage": stage}, "lead { id }")
    message = {"leadId": lead_id, "direction": "INBOUND", "text": "Interested."}
    await _mutate(gql, "recordLeadMessage", message, "lead { id }")
    await _mutate(gql, "analyzeLead", {"leadId": lead_id}, "analysis { id }")
    transfer = await _mutate(gql, "transferLead", {"leadId": lead_id}, "sale { id }")
    assert transfer["sale"] is not None
    return lead_id


def _bulk_stage(i: int) -> LeadStage:
    """A mix: every other lead transferred, the rest spread over the open stages and lost."""
    if i % 2 == 0:
        return LeadStage.TRANSFERRED
    return [LeadStage.NEW, LeadStage.CONTACTED, LeadStage.QUALIFIED, LeadStage.LOST][i // 2 % 4]


async def _bulk_leads(conn: AsyncConnection, count: int) -> None:
    stages = [_bulk_stage(i) for i in range(count)]
    lead_ids = await _insert(
        conn,
        table(Lead),
        [
            {
                "tenant_id": DEFAULT_TENANT_ID,
                "name": f"Bulk lead {i}",
                "source": LeadSource.WEBSITE,
                "business_domain": "retail",
                "stage": stage,
                "lost_reason": "No budget." if stage is LeadStage.LOST else None,
                "message_count": 2,
            }
            for i, stage in enumerate(stages)
        ],
    )
    await _bulk_messages(conn, lead_ids)
    transferred = [i for i, s in zip(lead_ids, stages, strict=True) if s is LeadStage.TRANSFERRED]
    # Every transferred lead was analyzed (a gate of transferLead); some open ones were not.
    await _bulk_analyses(conn, [i for i in lead_ids if i in transferred or i % 3])
    await _bulk_transfers(conn, transferred)


async def _insert(conn: AsyncConnection, target: Any, rows: list[dict[str, Any]]) -> list[int]:
    result = await conn.execute(
        insert(target).returning(target.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


async def _bulk_messages(conn: AsyncConnection, lead_ids: list[int]) -> None:
    rows = [
        {
            "tenant_id": DEFAULT_TENANT_ID,
            "lead_id": lead_id,
            "direction": direction,
            "channel": "email",
            "text": f"{direction.value} to {lead_id}",
        }
        for lead_id in lead_ids
        for direction in (MessageDirection.OUTBOUND, MessageDirection.INBOUND)
    ]
    await _insert(conn, table(LeadMessage), rows)


async def _bulk_analyses(conn: AsyncConnection, lead_ids: list[int]) -> None:
    """Two analyses per lead; the lead points at the newer one, as analyzeLead leaves it."""
    rows = [
        {
            "tenant_id": DEFAULT_TENANT_ID,
            "lead_id": lead_id,
            "score": score,
            "recommendation": Recommendation.CONTINUE_NURTURING,
            "reason": "Bulk test data.",
            "factors": [],
            "input": {},
            "scorer": "heuristic",
            "latency_ms": 1,
        }
        for score in (0.4, 0.7)
        for lead_id in lead_ids
    ]
    await _insert(conn, table(LeadAnalysis), rows)
    await conn.execute(
        text(
            "UPDATE leads SET latest_analysis_id = newest.id, latest_score = newest.score"
            " FROM (SELECT DISTINCT ON (lead_id) id, lead_id, score FROM lead_analyses"
            "       ORDER BY lead_id, id DESC) AS newest"
            " WHERE newest.lead_id = leads.id"
        )
    )


async def _bulk_transfers(conn: AsyncConnection, lead_ids: list[int]) -> None:
    sale_rows = [
        {"tenant_id": DEFAULT_TENANT_ID, "lead_id": i, "stage": SaleStage.KYC} for i in lead_ids
    ]
    sale_ids = await _insert(conn, table(Sale), sale_rows)
    lead_history = [
        {"tenant_id": DEFAULT_TENANT_ID, "lead_id": i, "from_stage": before, "to_stage": after}
        for i in lead_ids
        for before, after in (("new", "qualified"), ("qualified", "transferred"))
    ]
    sale_history = [
        {"tenant_id": DEFAULT_TENANT_ID, "sale_id": i, "from_stage": before, "to_stage": after}
        for i in sale_ids
        for before, after in ((None, "new"), ("new", "kyc"))
    ]
    await _insert(conn, table(StageChange), lead_history)
    await _insert(conn, table(StageChange), sale_history)


@pytest.fixture
async def pipeline(gql: GraphQLClient, migrated: str) -> Pipeline:
    engine = create_engine(migrated, pool_size=1)
    async with engine.begin() as conn:
        await _bulk_leads(conn, BULK_LEADS)
    await engine.dispose()
    # Made after the bulk rows, so these are the newest: `first: 1` reaches one of them.
    newest = ""
    for n in range(API_LEADS):
        newest = await _transferred_lead_through_the_api(gql, f"API lead {n}")
    return Pipeline(newest_lead_id=newest)


async def _statements_for(
    gql: GraphQLClient, counter: StatementCounter, query: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    before = counter.count
    data = await gql.data(query, variables)
    return counter.count - before, data


# ---------------------------------------------------------------- tests


async def test_a_page_of_100_leads_costs_what_a_page_of_1_costs(
    gql: GraphQLClient, count_statements: StatementCounter, pipeline: Pipeline
) -> None:
    # given 120 leads, the newest analyzed and transferred
    # when one lead, then a hundred, are read with their analysis, sale and history
    one, data_one = await _statements_for(gql, count_statements, LEADS_PAGE, {"first": 1})
    hundred, data = await _statements_for(gql, count_statements, LEADS_PAGE, {"first": 100})
    # then the single lead really used every loader
    (only,) = [edge["node"] for edge in data_one["leads"]["edges"]]
    assert only["id"] == pipeline.newest_lead_id
    assert only["latestAnalysis"] is not None
    assert only["sale"] is not None
    assert only["stageHistory"] != []
    # and the hundred are a mix, loaded at the same small cost
    nodes = [edge["node"] for edge in data["leads"]["edges"]]
    assert len(nodes) == 100
    assert {bool(n["sale"]) for n in nodes} == {True, False}
    assert {bool(n["latestAnalysis"]) for n in nodes} == {True, False}
    expected = AUTHENTICATION_STATEMENTS + reads(4)
    assert (one, hundred) == (expected, expected)


@pytest.mark.parametrize(
    ("name", "query", "expected"),
    [
        (
            "one lead with analysis, sale and history",
            ONE_LEAD,
            AUTHENTICATION_STATEMENTS + reads(4),
        ),
        (
            "50 sales with their leads and histories",
            SALES_PAGE,
            AUTHENTICATION_STATEMENTS + reads(3),
        ),
        (
            "20 leads with a page of analyses and of messages each",
            LEAD_CHILD_PAGES,
            AUTHENTICATION_STATEMENTS + reads(3),
        ),
    ],
)
async def test_statements_per_request_are_pinned(
    gql: GraphQLClient,
    count_statements: StatementCounter,
    pipeline: Pipeline,
    name: str,
    query: str,
    expected: int,
) -> None:
    # given the pipeline
    # when the request is made
    statements, data = await _statements_for(
        gql, count_statements, query, {"id": pipeline.newest_lead_id} if "$id" in query else {}
    )
    # then it found data and sent exactly the pinned number of statements
    assert all(data.values()), data
    assert statements == expected, f"{name}: {statements} statements, pinned {expected}"
