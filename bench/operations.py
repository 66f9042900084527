"""The read benchmark's operations, each as the same requests to both contenders: a
GraphQL POST to our server and a GET to the floor (bench/read_floor.py), built from the
data set (which leads to look up, where the deep page starts). And the mutation mix,
which has no floor.
"""

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import text

from bench.dataset import Dataset
from bench.read_floor import (
    DEEP_QUERY,
    LEAD_QUERY,
    LIST_QUERY,
    PIPELINE_QUERY,
    SEARCH_QUERY,
    STAGE_QUERY,
    newest_cursor,
)
from db.database import create_engine
from domain.global_ids import to_global_id

SEARCH_TERM = "company 42"  # about 7,400 leads of 1,000,000 (Company 42, 420-429, 4200-4299)
DEEP_SHARE = 0.9  # the deep page starts after the lead 900,000 of 1,000,000, newest first
LOOKED_UP = 100  # point lookups cycle through this many leads, spread over the data set

MUTATIONS = "mutations"
READS = ("list", "stage", "lead", "deep", "search", "pipeline")
ALL = (*READS, MUTATIONS)

CREATE_LEAD = """mutation CreateLead($name: String!) {
  createLead(input: {name: $name, source: WEBSITE}) { lead { id stage } userErrors { code } }
}"""
CHANGE_STAGE = """mutation Contact($leadId: ID!) {
  changeLeadStage(input: {leadId: $leadId, stage: CONTACTED}) {
    lead { id stage } userErrors { code }
  }
}"""
RECORD_MESSAGE = """mutation Message($leadId: ID!) {
  recordLeadMessage(input: {leadId: $leadId, direction: INBOUND, channel: "email",
                            text: "Hello, tell me more"}) {
    lead { id messageCount } userErrors { code }
  }
}"""


@dataclass(frozen=True)
class Request:
    """One question put to both contenders."""

    query: str
    variables: dict[str, Any]
    floor_path: str

    def graphql(self) -> dict[str, Any]:
        """As bench/k6/reads.js sends it to our server."""
        body = orjson.dumps({"query": self.query, "variables": self.variables}).decode()
        return {"method": "POST", "path": "/graphql", "body": body}

    def floor(self) -> dict[str, Any]:
        return {"method": "GET", "path": self.floor_path, "body": None}


@dataclass(frozen=True)
class ReadOperation:
    name: str
    requests: tuple[Request, ...]  # cycled through under load


async def read_operations(dataset: Dataset) -> dict[str, ReadOperation]:
    """Every read operation, by name, for this data set."""
    looked_up, deep = await _landmarks(dataset)
    operations = [
        ReadOperation("list", (Request(LIST_QUERY, {}, "/leads"),)),
        ReadOperation("stage", (Request(STAGE_QUERY, {}, "/leads?stage=qualified"),)),
        ReadOperation("lead", tuple(_lookup(lead_id) for lead_id in looked_up)),
        ReadOperation("deep", (Request(DEEP_QUERY, {"after": deep}, f"/leads?after={deep}"),)),
        ReadOperation(
            "search",
            (
                Request(
                    SEARCH_QUERY, {"search": SEARCH_TERM}, f"/leads?search={quote(SEARCH_TERM)}"
                ),
            ),
        ),
        ReadOperation("pipeline", (Request(PIPELINE_QUERY, {}, "/pipeline"),)),
    ]
    return {operation.name: operation for operation in operations}


def _lookup(lead_id: int) -> Request:
    global_id = to_global_id("Lead", lead_id)
    return Request(LEAD_QUERY, {"id": global_id}, f"/leads/{global_id}")


_SPREAD = """
SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k
                  FROM leads WHERE tenant_id = :tenant) AS numbered
 WHERE k % :step = 0 ORDER BY id LIMIT :count
"""
_AT_POSITION = """
SELECT created_at, id FROM leads WHERE tenant_id = :tenant
 ORDER BY created_at DESC, id DESC OFFSET :skip LIMIT 1
"""


async def _landmarks(dataset: Dataset) -> tuple[list[int], str]:
    """The leads to look up, and the cursor of the deep page."""
    engine = create_engine(dataset.database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            tenant = {"tenant": dataset.tenant_id}
            step = max(1, dataset.leads // LOOKED_UP)
            spread = await conn.execute(text(_SPREAD), {**tenant, "step": step, "count": LOOKED_UP})
            skip = deep_position(dataset.leads) - 1
            created_at, lead_id = (
                await conn.execute(text(_AT_POSITION), {**tenant, "skip": skip})
            ).one()
    finally:
        await engine.dispose()
    return [row.id for row in spread], newest_cursor(created_at, lead_id)


def deep_position(leads: int) -> int:
    """Where the deep page's cursor points, counted from the newest lead (1 is the newest)."""
    return max(1, math.floor(leads * DEEP_SHARE))
