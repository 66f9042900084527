"""The GraphQL operations the API tests send, and one-call helpers around them.

Helpers named for an action (`create_lead`, `change_stage`, ...) return the mutation's
payload or the object it made; `ok` asserts a payload has no userErrors.
"""

import base64
from datetime import datetime
from typing import Any

from tests.conftest import GraphQLClient

Json = dict[str, Any]

LEAD_FIELDS = """
fragment LeadFields on Lead {
  id name company email phone source businessDomain hasBusinessDomain stage lostReason
  messageCount version createdAt updatedAt
}
"""

SALE_FIELDS = """
fragment SaleFields on Sale {
  id stage amount currency version createdAt updatedAt
  lead { id stage }
  stageHistory { fromStage toStage actor reason at }
}
"""

ANALYSIS_FIELDS = """
fragment AnalysisFields on LeadAnalysis {
  id score recommendation reason scorer createdAt
  factors { name impact note }
  input { source stage messageCount hasBusinessDomain businessDomain daysSinceCreated }
}
"""

CREATE_LEAD = (
    """
mutation CreateLead($input: CreateLeadInput!) {
  createLead(input: $input) { lead { ...LeadFields } userErrors { code message field } }
}"""
    + LEAD_FIELDS
)

UPDATE_LEAD = (
    """
mutation UpdateLead($input: UpdateLeadInput!) {
  updateLead(input: $input) { lead { ...LeadFields } userErrors { code message field } }
}"""
    + LEAD_FIELDS
)

CHANGE_LEAD_STAGE = (
    """
mutation ChangeLeadStage($input: ChangeLeadStageInput!) {
  changeLeadStage(input: $input) { lead { ...LeadFields } userErrors { code message field } }
}"""
    + LEAD_FIELDS
)

RECORD_LEAD_MESSAGE = (
    """
mutation RecordLeadMessage($input: RecordLeadMessageInput!) {
  recordLeadMessage(input: $input) { lead { ...LeadFields } userErrors { code message field } }
}"""
    + LEAD_FIELDS
)

ANALYZE_LEAD = (
    """
mutation AnalyzeLead($input: AnalyzeLeadInput!) {
  analyzeLead(input: $input) {
    analysis { ...AnalysisFields }
    lead { ...LeadFields }
    userErrors { code message field }
  }
}"""
    + LEAD_FIELDS
    + ANALYSIS_FIELDS
)

TRANSFER_LEAD = (
    """
mutation TransferLead($input: TransferLeadInput!) {
  transferLead(input: $input) {
    lead { ...LeadFields }
    sale { ...SaleFields }
    userErrors { code message field }
  }
}"""
    + LEAD_FIELDS
    + SALE_FIELDS
)

CHANGE_SALE_STAGE = (
    """
mutation ChangeSaleStage($input: ChangeSaleStageInput!) {
  changeSaleStage(input: $input) { sale { ...SaleFields } userErrors { code message field } }
}"""
    + SALE_FIELDS
)

LEAD = (
    """
query Lead($id: ID!) {
  lead(id: $id) {
    ...LeadFields
    stageHistory { fromStage toStage actor reason at }
    latestAnalysis { ...AnalysisFields }
    analyses(first: 20) { edges { cursor node { id createdAt } } }
    transferEligibility { eligible minScore blockers { code message field } }
    sale { id stage }
  }
}"""
    + LEAD_FIELDS
    + ANALYSIS_FIELDS
)

SALE = (
    """
query Sale($id: ID!) { sale(id: $id) { ...SaleFields } }"""
    + SALE_FIELDS
)

LEADS = """
query Leads(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: LeadFilter, $orderBy: LeadOrder
) {
  leads(first: $first, after: $after, last: $last, before: $before,
        filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id name company email stage source businessDomain messageCount createdAt updatedAt
        latestAnalysis { score }
      }
    }
  }
}
"""

SALES = """
query Sales(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: SaleFilter, $orderBy: SaleOrder
) {
  sales(first: $first, after: $after, last: $last, before: $before,
        filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id stage amount currency lead { id } } }
  }
}
"""

PIPELINE = """
{
  pipeline {
    leadsByStage { stage count }
    salesByStage { stage count }
    transferRate
    averageLatestScore
    paidAmount
  }
}
"""


def database_id(global_id: str) -> int:
    """The row id inside a Relay global ID (base64 of "Type:id")."""
    decoded = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(decoded.partition(":")[2])


def moment(value: str) -> datetime:
    """A DateTime the API returned; it must carry a UTC offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed


def codes(payload: Json) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def ok(payload: Json) -> Json:
    """The payload of a mutation that must have succeeded."""
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def mutate(gql: GraphQLClient, operation: str, name: str, input: Json) -> Json:
    """Send one mutation and return its payload; any GraphQL error fails the test."""
    body = await gql(operation, {"input": input})
    assert "errors" not in body, body["errors"]
    payload: Json = body["data"][name]
    return payload


async def create_lead(gql: GraphQLClient, **fields: Any) -> Json:
    """A new lead (name "Ada Lovelace", source PARTNER unless given)."""
    values = {"name": "Ada Lovelace", "source": "PARTNER", **fields}
    lead: Json = ok(await mutate(gql, CREATE_LEAD, "createLead", values))["lead"]
    return lead


async def update_lead(gql: GraphQLClient, lead_id: str, **fields: Any) -> Json:
    return await mutate(gql, UPDATE_LEAD, "updateLead", {"leadId": lead_id, **fields})


async def change_stage(
    gql: GraphQLClient,
    lead_id: str,
    stage: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Json:
    values: Json = {"leadId": lead_id, "stage": stage}
    if reason is not None:
        values["reason"] = reason
    if expected_version is not None:
        values["expectedVersion"] = expected_version
    return await mutate(gql, CHANGE_LEAD_STAGE, "changeLeadStage", values)


async def record_message(
    gql: GraphQLClient, lead_id: str, *, direction: str = "INBOUND", text: str = "Hello"
) -> Json:
    values = {"leadId": lead_id, "direction": direction, "text": text}
    return await mutate(gql, RECORD_LEAD_MESSAGE, "recordLeadMessage", values)


async def analyze(gql: GraphQLClient, lead_id: str, *, force: bool = False) -> Json:
    return await mutate(gql, ANALYZE_LEAD, "analyzeLead", {"leadId": lead_id, "force": force})


async def transfer(
    gql: GraphQLClient,
    lead_id: str,
    *,
    expected_version: int | None = None,
) -> Json:
    values: Json = {"leadId": lead_id}
    if expected_version is not None:
        values["expectedVersion"] = expected_version
    return await mutate(gql, TRANSFER_LEAD, "transferLead", values)


async def change_sale_stage(gql: GraphQLClient, sale_id: str, stage: str, **fields: Any) -> Json:
    values = {"saleId": sale_id, "stage": stage, **fields}
    return await mutate(gql, CHANGE_SALE_STAGE, "changeSaleStage", values)


async def read_lead(gql: GraphQLClient, lead_id: str) -> Json:
    lead: Json = (await gql.data(LEAD, {"id": lead_id}))["lead"]
    return lead


async def read_sale(gql: GraphQLClient, sale_id: str) -> Json:
    sale: Json = (await gql.data(SALE, {"id": sale_id}))["sale"]
    return sale


async def list_leads(gql: GraphQLClient, **arguments: Any) -> Json:
    connection: Json = (await gql.data(LEADS, arguments))["leads"]
    return connection


async def list_sales(gql: GraphQLClient, **arguments: Any) -> Json:
    connection: Json = (await gql.data(SALES, arguments))["sales"]
    return connection


async def pipeline(gql: GraphQLClient) -> Json:
    stats: Json = (await gql.data(PIPELINE))["pipeline"]
    return stats


LEAD_PATH = ("NEW", "CONTACTED", "QUALIFIED")


async def advance(gql: GraphQLClient, lead_id: str, stage: str) -> Json:
    """Move an open lead step by step from its stage to `stage` (NEW, CONTACTED,
    QUALIFIED) or to LOST; returns the lead as it ends up."""
    lead = await read_lead(gql, lead_id)
    if stage == "LOST":
        lead = ok(await change_stage(gql, lead_id, "LOST", reason="No budget"))["lead"]
    else:
        steps = LEAD_PATH[LEAD_PATH.index(lead["stage"]) + 1 : LEAD_PATH.index(stage) + 1]
        for step in steps:
            lead = ok(await change_stage(gql, lead_id, step))["lead"]
    return lead
