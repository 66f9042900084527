"""The floor for reads: what hand-written SQL on asyncpg answers, with no GraphQL at all.

    python -m bench.read_floor PORT DATABASE_URL TENANT_ID [POOL]

A bare Starlette app on the same uvicorn stack, one query per request, orjson. POOL is
`asyncpg` (the default: asyncpg's Pool, as a minimal app would have it, which starts a
task and a timer for each query it hands back) or `queue`, the strict floor: the least
a pool can be, connections opened at start-up and handed out from an asyncio queue.

It answers the benchmark's read operations with exactly the JSON our GraphQL server gives
for the same documents (the *_QUERY constants below), within one tenant, so the two are
compared on equal work; `bench/reads.py` checks they agree before timing. It is the
physical limit of Python on this work and the denominator of every ratio.

    GET /leads                      LIST_QUERY: the 50 newest
    GET /leads?stage=qualified      STAGE_QUERY: the same, in one stage
    GET /leads?search=TEXT          SEARCH_QUERY: the same, name/company/e-mail matching
    GET /leads?after=CURSOR         DEEP_QUERY: the 50 after a cursor our API issued
    GET /leads/{global id}          LEAD_QUERY
    GET /pipeline                   PIPELINE_QUERY
"""

import asyncio
import base64
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.enums import LeadStage, SaleStage
from domain.global_ids import to_global_id

# The GraphQL documents the floor stands in for.
_FIELDS = """
  id name company stage source businessDomain messageCount createdAt
  latestAnalysis { score recommendation createdAt }
  sale { id stage amount currency }
"""
_EDGES = "edges { node {" + _FIELDS + "} }"
LIST_QUERY = "query NewestLeads { leads(first: 50) { " + _EDGES + " } }"
LEAD_QUERY = "query OneLead($id: ID!) { lead(id: $id) {" + _FIELDS + "} }"
STAGE_QUERY = (
    "query QualifiedLeads { leads(first: 50, filter: {stage: [QUALIFIED]}) { " + _EDGES + " } }"
)
SEARCH_QUERY = (
    "query SearchLeads($search: String!) { leads(first: 50, filter: {search: $search}) { "
    + _EDGES
    + " } }"
)
DEEP_QUERY = (
    "query DeepPage($after: String!) { leads(first: 50, after: $after) { "
    + _EDGES
    + " pageInfo { hasNextPage endCursor } } }"
)
PIPELINE_QUERY = """query Pipeline { pipeline {
  leadsByStage { stage count } salesByStage { stage count }
  transferRate averageLatestScore paidAmount
} }"""

PAGE = 50
# The cursor of the default order (resolvers/pagination.py): base64 of JSON
# [ordering, {"t": created_at}, id].
NEWEST_ORDERING = "lead:created_at"

_SELECT = """
SELECT l.id, l.name, l.company, l.stage, l.source, l.business_domain, l.message_count,
       l.created_at, a.score, a.recommendation, a.created_at AS analyzed_at,
       s.id AS sale_id, s.stage AS sale_stage, s.amount, s.currency
  FROM leads AS l
  LEFT JOIN lead_analyses AS a ON a.id = l.latest_analysis_id
  LEFT JOIN sales AS s ON s.lead_id = l.id
"""
_ORDER = " ORDER BY l.created_at DESC, l.id DESC LIMIT "
_NEWEST = _SELECT + " WHERE l.tenant_id = $1" + _ORDER + str(PAGE)
_IN_STAGE = _SELECT + " WHERE l.tenant_id = $1 AND l.stage = $2" + _ORDER + str(PAGE)
# db/models.py SEARCH_TEXT, the expression the trigram index ix_leads_search holds.
_MATCHING = (
    _SELECT
    + " WHERE l.tenant_id = $1"
    + " AND (coalesce(l.name, '') || ' ' || coalesce(l.company, '') || ' ' ||"
    + " coalesce(l.email, '')) ILIKE $2 ESCAPE '\\'"
    + _ORDER
    + str(PAGE)
)
# One row more than the page tells whether another page follows.
_AFTER = (
    _SELECT + " WHERE l.tenant_id = $1 AND (l.created_at, l.id) < ($2, $3)" + _ORDER + str(PAGE + 1)
)
_ONE = _SELECT + " WHERE l.tenant_id = $1 AND l.id = $2"
_PIPELINE = """
SELECT 'lead' AS kind, stage::text AS stage, count(*) AS count,
       coalesce(sum(latest_score), 0.0) AS score_total, count(latest_score) AS scored,
       NULL::numeric AS amount
  FROM leads WHERE tenant_id = $1 GROUP BY stage
UNION ALL
SELECT 'sale', stage::text, count(*), NULL, NULL, coalesce(sum(amount), 0)
  FROM sales WHERE tenant_id = $1 GROUP BY stage
"""


def node(row: asyncpg.Record) -> dict[str, Any]:
    """One lead as the GraphQL server shapes it: enum names, ISO times, global ids."""
    return {
        "id": to_global_id("Lead", row["id"]),
        "name": row["name"],
        "company": row["company"],
        "stage": row["stage"].upper(),
        "source": row["source"].upper(),
        "businessDomain": row["business_domain"],
        "messageCount": row["message_count"],
        "createdAt": row["created_at"].isoformat(),
        "latestAnalysis": None
        if row["score"] is None
        else {
            "score": row["score"],
            "recommendation": row["recommendation"].upper(),
            "createdAt": row["analyzed_at"].isoformat(),
        },
        "sale": None
        if row["sale_id"] is None
        else {
            "id": to_global_id("Sale", row["sale_id"]),
            "stage": row["sale_stage"].upper(),
            "amount": None if row["amount"] is None else str(row["amount"]),
            "currency": row["currency"],
        },
    }


def edges(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"node": node(row)} for row in rows]


def search_pattern(term: str) -> str:
    """The ILIKE pattern matching `term` anywhere, literally (escape character `\\`)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def newest_cursor(created_at: datetime, lead_id: int) -> str:
    raw = orjson.dumps([NEWEST_ORDERING, {"t": created_at.isoformat()}, lead_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def newest_position(cursor: str) -> tuple[datetime, int]:
    """(created_at, id) of a cursor of the default order."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    ordering, value, lead_id = orjson.loads(raw)
    if ordering != NEWEST_ORDERING or not isinstance(lead_id, int):
        raise ValueError("not a cursor of the default order")
    return datetime.fromisoformat(value["t"]), lead_id


def deep_page(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """A page after a cursor, with the pageInfo DEEP_QUERY selects."""
    page = rows[:PAGE]
    last = page[-1] if page else None
    return {
        "edges": edges(page),
        "pageInfo": {
            "hasNextPage": len(rows) > PAGE,
            "endCursor": None if last is None else newest_cursor(last["created_at"], last["id"]),
        },
    }


def pipeline(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """PIPELINE_QUERY's answer, computed as services/pipeline.py does."""
    leads = {row["stage"]: row for row in rows if row["kind"] == "lead"}
    sales = {row["stage"]: row for row in rows if row["kind"] == "sale"}
    scored = sum(row["scored"] for row in leads.values())
    score_total = sum(row["score_total"] for row in leads.values())
    transferred, lost = (_count(leads, stage) for stage in (LeadStage.TRANSFERRED, LeadStage.LOST))
    paid = sales.get(SaleStage.PAID.value)
    return {
        "leadsByStage": [{"stage": s.name, "count": _count(leads, s)} for s in LeadStage],
        "salesByStage": [{"stage": s.name, "count": _count(sales, s)} for s in SaleStage],
        "transferRate": transferred / (transferred + lost) if transferred + lost else None,
        "averageLatestScore": score_total / scored if scored else None,
        "paidAmount": str(Decimal(paid["amount"] if paid else 0).quantize(Decimal("0.01"))),
    }


def _count(rows: dict[str, asyncpg.Record], stage: LeadStage | SaleStage) -> int:
    row = rows.get(stage.value)
    return 0 if row is None else int(row["count"])


POOL_SIZE = 10  # as our server's default CRM_DB_POOL_SIZE


class QueuePool:
    """Connections opened at start-up, handed out from a queue: nothing more."""

    def __init__(self, connections: list[asyncpg.Connection]) -> None:
        self._idle: asyncio.Queue[asyncpg.Connection] = asyncio.Queue()
        for conn in connections:
            self._idle.put_nowait(conn)
        self._all = connections

    @classmethod
    async def open(cls, database_url: str, size: int) -> "QueuePool":
        return cls([await asyncpg.connect(database_url) for _ in range(size)])

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self._idle.get()
        try:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            return rows
        finally:
            self._idle.put_nowait(conn)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        conn = await self._idle.get()
        try:
            row: asyncpg.Record | None = await conn.fetchrow(query, *args)
            return row
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


async def open_pool(database_url: str, kind: str) -> QueuePool | asyncpg.Pool:
    if kind == "queue":
        return await QueuePool.open(database_url, POOL_SIZE)
    if kind == "asyncpg":
        return await asyncpg.create_pool(
            database_url, min_size=2, max_size=POOL_SIZE, reset=_nothing_to_reset
        )
    raise ValueError(f"no pool {kind!r}: queue or asyncpg")


def create_floor_app(database_url: str, tenant_id: int, pool_kind: str = "asyncpg") -> Starlette:
    """The routes listed at the top; `database_url` is libpq's (postgresql://...)."""
    pool: QueuePool | asyncpg.Pool | None = None

    async def listed(request: Request) -> Response:
        assert pool is not None
        given = request.query_params
        if "after" in given:
            after = newest_position(given["after"])
            return _data("leads", deep_page(await pool.fetch(_AFTER, tenant_id, *after)))
        if "stage" in given:
            rows = await pool.fetch(_IN_STAGE, tenant_id, given["stage"])
        elif "search" in given:
            rows = await pool.fetch(_MATCHING, tenant_id, search_pattern(given["search"]))
        else:
            rows = await pool.fetch(_NEWEST, tenant_id)
        return _data("leads", {"edges": edges(rows)})

    async def one(request: Request) -> Response:
        assert pool is not None
        row = await pool.fetchrow(_ONE, tenant_id, _database_id(request.path_params["id"]))
        return _data("lead", None if row is None else node(row))

    async def figures(_request: Request) -> Response:
        assert pool is not None
        return _data("pipeline", pipeline(await pool.fetch(_PIPELINE, tenant_id)))

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await open_pool(database_url, pool_kind)
        yield
        await pool.close()

    return Starlette(
        routes=[
            Route("/leads", listed),
            Route("/leads/{id}", one),
            Route("/pipeline", figures),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """The floor's connections only ever run one read in autocommit: no session state to
    undo, so a connection goes back to the pool without asyncpg's reset query (a round
    trip: the floor is one query per request and nothing else)."""


def _database_id(global_id: str) -> int:
    """The number in a Lead's global id (as the GraphQL server decodes it; 0: not one)."""
    try:
        decoded = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, number = decoded.partition(":")
        return int(number) if type_name == "Lead" else 0
    except ValueError:
        return 0


def _data(field: str, value: Any) -> Response:
    return Response(orjson.dumps({"data": {field: value}}), media_type="application/json")


if __name__ == "__main__":
    port, url, tenant = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    pool_kind = sys.argv[4] if len(sys.argv) > 4 else "asyncpg"
    uvicorn.run(
        create_floor_app(url, tenant, pool_kind),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )
