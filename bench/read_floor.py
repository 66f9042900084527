"""The floor for reads: what hand-written SQL on asyncpg answers, with no GraphQL at all.

    python -m bench.read_floor PORT DATABASE_URL TENANT_ID

A bare Starlette app on the same uvicorn stack, one asyncpg pool, one query per request,
orjson. It answers the benchmark's read operations with exactly the JSON our GraphQL
server gives for the same documents (LIST_QUERY, LEAD_QUERY), within one tenant, so the
two are compared on equal work; `bench/reads.py` checks they agree before timing. It is
the physical limit of Python on this work and the denominator of every ratio.
"""

import base64
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.global_ids import to_global_id

# The GraphQL documents the floor stands in for.
_FIELDS = """
  id name company stage source businessDomain messageCount createdAt
  latestAnalysis { score recommendation createdAt }
  sale { id stage amount currency }
"""
LIST_QUERY = "query NewestLeads { leads(first: 50) { edges { node {" + _FIELDS + "} } } }"
LEAD_QUERY = "query OneLead($id: ID!) { lead(id: $id) {" + _FIELDS + "} }"

_SELECT = """
SELECT l.id, l.name, l.company, l.stage, l.source, l.business_domain, l.message_count,
       l.created_at, a.score, a.recommendation, a.created_at AS analyzed_at,
       s.id AS sale_id, s.stage AS sale_stage, s.amount, s.currency
  FROM leads AS l
  LEFT JOIN lead_analyses AS a ON a.id = l.latest_analysis_id
  LEFT JOIN sales AS s ON s.lead_id = l.id
"""
_NEWEST = _SELECT + " WHERE l.tenant_id = $1 ORDER BY l.created_at DESC, l.id DESC LIMIT 50"
_ONE = _SELECT + " WHERE l.tenant_id = $1 AND l.id = $2"


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


def create_floor_app(database_url: str, tenant_id: int) -> Starlette:
    """GET /leads (the 50 newest) and GET /leads/{global id}; `database_url` is libpq's
    (postgresql://...)."""
    pool: asyncpg.Pool | None = None

    async def newest(_request: Request) -> Response:
        assert pool is not None
        rows = await pool.fetch(_NEWEST, tenant_id)
        edges = [{"node": node(row)} for row in rows]
        return _json({"data": {"leads": {"edges": edges}}})

    async def one(request: Request) -> Response:
        assert pool is not None
        row = await pool.fetchrow(_ONE, tenant_id, _database_id(request.path_params["id"]))
        return _json({"data": {"lead": None if row is None else node(row)}})

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(database_url, min_size=2, max_size=10)
        yield
        await pool.close()

    return Starlette(
        routes=[
            Route("/leads", newest),
            Route("/leads/{id}", one),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def _database_id(global_id: str) -> int:
    """The number in a Lead's global id (as the GraphQL server decodes it; 0: not one)."""
    try:
        decoded = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, number = decoded.partition(":")
        return int(number) if type_name == "Lead" else 0
    except ValueError:
        return 0


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


if __name__ == "__main__":
    port, url, tenant = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    uvicorn.run(
        create_floor_app(url, tenant),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )
