"""The compiled read path's test bed: the read benchmark's data set (300 leads in every
stage and source, with nulls, analyses and sales) in a database of its own, plus a few
leads that carry what the generated data lacks (phones, model tokens, odd characters,
tied timestamps, cents, an empty business domain, a transferred lead without a sale and a
sale left on a lost lead); and two servers on it: one answering with plans, one with the
executor alone, whose answers must be the same."""

import asyncio
import dataclasses
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bench.dataset import Dataset, ensure_dataset
from db.database import open_database
from domain.access import Role
from services import api_keys, users
from services.scope import Scope
from settings import Settings
from tests.conftest import LiveServer, bearer, start_server
from tests.databases import throwaway_database

LEADS = 300
FIRST_ODD_LEAD = LEADS + 1  # a new database numbers rows from 1: the data set's come first

# Leads unlike the generated ones; columns in this order:
# name, company, email, phone, source, business_domain, stage, lost_reason, message_count,
# version, created_at, updated_at
_ODD_LEADS = """
INSERT INTO leads (tenant_id, name, company, email, phone, source, business_domain, stage,
                   lost_reason, message_count, version, created_at, updated_at)
VALUES
 (:t, 'Ratio 100% sure', 'Under_score Ltd', 'back\\slash@example.com', '+49 30 123456',
  'partner', 'FinTech', 'transferred', NULL, 3, 4,
  '2024-01-01 01:00:00+00', '2024-03-01 12:00:00.123456+00'),
 (:t, 'Zoë Ürban', NULL, NULL, '555-0100', 'event', 'retail', 'lost', 'Went quiet', 0, 2,
  '2024-01-01 01:00:00+00', '2024-01-01 01:00:00+00'),
 (:t, 'Tie Breaker', 'Same Moment GmbH', 'tie@example.com', NULL, 'other', NULL, 'new', NULL,
  22, 1, '2024-01-01 01:00:00+00', '2024-01-01 01:00:00+00'),
 (:t, 'Paid Cents', '50% Off_Sale \\ Co', NULL, NULL, 'website', 'health', 'transferred',
  NULL, 7, 3, '2024-01-01 02:00:00.5+00', '2024-02-02 00:00:00+00'),
 (:t, 'No Deal Yet', NULL, 'nodeal@example.com', NULL, 'referral', '', 'transferred',
  NULL, 1, 5, '2024-01-01 02:00:00.5+00', '2024-01-01 02:00:00.5+00')
RETURNING id
"""

_ODD_ANALYSES = """
INSERT INTO lead_analyses (tenant_id, lead_id, score, recommendation, reason, factors, input,
                           scorer, prompt_version, latency_ms, tokens_in, tokens_out, created_at)
SELECT :t, id, score, recommendation, 'Odd analysis', '[]'::jsonb, '{}'::jsonb,
       'openai:gpt-test', 'v7', 812, 1200, 95, created_at + interval '5 minutes'
  FROM (VALUES (CAST(:a AS bigint), 1.0::float8, 'transfer_to_sales'),
               (:b, 0.0::float8, 'mark_lost'),
               (:c, 0.333333333333333::float8, 'continue_nurturing'))
       AS odd (lead, score, recommendation)
  JOIN leads ON leads.id = odd.lead
"""

_ODD_LATEST = """
UPDATE leads AS l SET latest_analysis_id = a.id, latest_score = a.score
  FROM lead_analyses AS a
 WHERE a.lead_id = l.id AND a.scorer = 'openai:gpt-test'
"""

# A sale with cents; a sale left behind on a lead that was lost afterwards (it is hidden).
_ODD_SALES = """
INSERT INTO sales (tenant_id, lead_id, stage, amount, currency, version, created_at, updated_at)
VALUES (:t, :paid, 'paid', 12.50, 'USD', 5, '2024-01-05 00:00:00+00', '2024-01-06 00:00:00+00'),
       (:t, :lost, 'kyc', NULL, NULL, 1, '2024-01-05 00:00:00+00', '2024-01-05 00:00:00+00'),
       (:t, :first, 'agreement', 0.01, 'EUR', 2, '2024-01-05 00:00:00+00',
        '2024-01-05 00:00:00+00')
"""


@dataclass(frozen=True)
class PlansDatabase:
    dataset: Dataset
    odd_lead_ids: tuple[int, ...]

    @property
    def url(self) -> str:
        return self.dataset.database_url

    @property
    def tenant_id(self) -> int:
        return self.dataset.tenant_id


@pytest.fixture(scope="package")
async def plans_database(database_url: str) -> AsyncIterator[PlansDatabase]:
    # Named for this process: another run of these tests may share the server.
    async with throwaway_database(database_url, f"crm_plans_test_{os.getpid()}") as url:
        dataset = await ensure_dataset(url, leads=LEADS)
        odd = await _add_odd_leads(url, dataset.tenant_id)
        assert odd[0] == FIRST_ODD_LEAD
        yield PlansDatabase(dataset, odd)


async def _add_odd_leads(url: str, tenant_id: int) -> tuple[int, ...]:
    db = open_database(url, pool_size=1)
    try:
        async with db.transaction() as conn:
            made = await conn.execute(text(_ODD_LEADS), {"t": tenant_id})
            ids = tuple(int(row[0]) for row in made)
            first, lost, _tie, paid, _no_sale = ids
            await conn.execute(
                text(_ODD_ANALYSES), {"t": tenant_id, "a": first, "b": lost, "c": paid}
            )
            await conn.execute(text(_ODD_LATEST))
            await conn.execute(
                text(_ODD_SALES), {"t": tenant_id, "paid": paid, "lost": lost, "first": first}
            )
    finally:
        await db.dispose()
    return ids


async def key_for(url: str, tenant_id: int, email: str, role: Role) -> str:
    """An API key of a new user of `role` in the tenant."""
    db = open_database(url, pool_size=1)
    try:
        admin = Scope(tenant_id=tenant_id, actor="tests", role=Role.ADMIN)
        user = await users.create_user(db=db, scope=admin, email=email, role=role)
        owner = Scope(tenant_id=tenant_id, actor=email, user_id=user.id, role=role)
        return (await api_keys.issue_key(db=db, scope=owner, name="plans tests")).secret
    finally:
        await db.dispose()


def without_plans(settings: Settings) -> Settings:
    return dataclasses.replace(settings, read_plans=False)


@dataclass(frozen=True)
class Sent:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


async def send(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    operation_name: str | None = None,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> Sent:
    """One GraphQL request, by POST (JSON body) or GET (URL parameters)."""
    if method == "GET":
        params = {"query": query}
        if variables is not None:
            params["variables"] = json.dumps(variables)
        if operation_name is not None:
            params["operationName"] = operation_name
        response = await client.get("/graphql", params=params, headers=headers)
    else:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        response = await client.post("/graphql", json=payload, headers=headers)
    return Sent(response.status_code, response.text)


@asynccontextmanager
async def serving(settings: Settings, url: str) -> AsyncIterator[LiveServer]:
    server = await start_server(settings, url)
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def client_of(server: LiveServer, key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=bearer(key)) as client:
        yield client


@dataclass(frozen=True)
class TwinServers:
    """Two servers on one database: one answering with plans, one with the executor alone."""

    planned: LiveServer
    executed: LiveServer


@asynccontextmanager
async def twin_servers(settings: Settings, url: str) -> AsyncIterator[TwinServers]:
    async with serving(settings, url) as planned, serving(without_plans(settings), url) as executed:
        yield TwinServers(planned, executed)


@dataclass(frozen=True)
class Twins:
    """One caller's clients of the twin servers."""

    planned: httpx.AsyncClient
    executed: httpx.AsyncClient

    async def both(self, query: str, variables: Any = None, **options: Any) -> tuple[Sent, Sent]:
        planned, executed = await asyncio.gather(
            send(self.planned, query, variables, **options),
            send(self.executed, query, variables, **options),
        )
        return planned, executed

    async def same(self, query: str, variables: Any = None, **options: Any) -> Any:
        """The planned server's answer, once it is the executor's to the byte."""
        planned, executed = await self.both(query, variables, **options)
        assert planned == executed, difference(query, variables, options, planned, executed)
        return planned.json()


@asynccontextmanager
async def twins_for(servers: TwinServers, key: str) -> AsyncIterator[Twins]:
    async with (
        client_of(servers.planned, key) as planned,
        client_of(servers.executed, key) as executed,
    ):
        yield Twins(planned, executed)


def difference(query: str, variables: Any, options: Any, planned: Sent, executed: Sent) -> str:
    return (
        f"\nquery: {query}\nvariables: {variables}\noptions: {options}"
        f"\nplanned  ({planned.status}): {planned.body[:3000]}"
        f"\nexecuted ({executed.status}): {executed.body[:3000]}"
    )
