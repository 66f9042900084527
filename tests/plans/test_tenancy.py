"""The read pool keeps tenants apart. Its connections remember the tenant they last read
for and switch only when another asks; Row Level Security still decides what each sees.

Two tenants read at once through a server whose pool has two connections, so they keep
changing hands; and the pool is driven directly, as the app's login, with no tenant
condition in the SQL at all."""

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from db.database import app_login_url
from db.read_pool import ReadPool
from domain.global_ids import to_global_id
from settings import Settings
from tests.plans.conftest import PlansDatabase, Sent, client_of, send, serving, without_plans
from tests.tenants import SecondTenant, second_tenant
from worker.runner import libpq_url

OTHER_LEADS = 25
CONCURRENT_REQUESTS = 300

_OTHER_TENANTS_LEADS = """
INSERT INTO leads (tenant_id, name, email, source, business_domain, stage, message_count,
                   created_at, updated_at)
SELECT :t, 'Other ' || n, 'other' || n || '@example.org', 'website', 'retail',
       CASE WHEN n % 5 = 0 THEN 'transferred' ELSE 'new' END, n,
       timestamptz '2024-01-01 00:00:00+00' + n * interval '41 seconds',
       timestamptz '2024-01-01 00:00:00+00' + n * interval '41 seconds'
  FROM generate_series(1, :count) AS n
"""
_OTHER_TENANTS_SALES = """
INSERT INTO sales (tenant_id, lead_id, stage, amount, currency)
SELECT tenant_id, id, 'paid', 99.99, 'GBP' FROM leads
 WHERE tenant_id = :t AND stage = 'transferred'
"""

LIST = """{ leads(first: 100, orderBy: {field: MESSAGE_COUNT}) {
  edges { cursor node { id name sale { amount } } } pageInfo { hasNextPage endCursor } } }"""
ONE = "query One($id: ID!) { lead(id: $id) { id name email sale { id amount currency } } }"


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    key: str
    leads: int
    a_lead: str  # a global ID of one of its leads


@dataclass(frozen=True)
class TwoTenants:
    bench: Tenant
    other: Tenant
    owner_url: str


@pytest.fixture(scope="module")
async def tenants(plans_database: PlansDatabase) -> AsyncIterator[TwoTenants]:
    async with second_tenant(plans_database.url, "Plans Other") as other:
        first_lead = await _fill(other)
        bench = Tenant(
            plans_database.tenant_id,
            plans_database.dataset.admin_key,
            plans_database.dataset.leads + len(plans_database.odd_lead_ids),
            to_global_id("Lead", plans_database.odd_lead_ids[0]),
        )
        yield TwoTenants(
            bench,
            Tenant(other.tenant_id, other.admin_key, OTHER_LEADS, to_global_id("Lead", first_lead)),
            plans_database.url,
        )


async def _fill(other: SecondTenant) -> int:
    """The other tenant's leads (a fifth with a paid sale); the id of its first one."""
    params = {"t": other.tenant_id, "count": OTHER_LEADS}
    async with other.owner.transaction() as conn:
        await conn.execute(text(_OTHER_TENANTS_LEADS), params)
        await conn.execute(text(_OTHER_TENANTS_SALES), params)
        first = await conn.scalar(
            text("SELECT min(id) FROM leads WHERE tenant_id = :t AND stage = 'transferred'"),
            params,
        )
    return int(first)


@dataclass(frozen=True)
class Ask:
    tenant: Tenant
    query: str
    variables: dict[str, Any] | None


async def test_interleaved_tenants_each_read_only_their_own(
    tenants: TwoTenants, settings: Settings
) -> None:
    bench, other = tenants.bench, tenants.other
    asks = [
        Ask(bench, LIST, None),
        Ask(other, LIST, None),
        Ask(bench, ONE, {"id": bench.a_lead}),
        Ask(other, ONE, {"id": other.a_lead}),
        Ask(bench, ONE, {"id": other.a_lead}),  # another tenant's lead: not found
        Ask(other, ONE, {"id": bench.a_lead}),
    ]
    small_pools = replace(settings, db_pool_size=2)  # few connections: they change tenants
    async with (
        serving(small_pools, tenants.owner_url) as planned,
        serving(without_plans(small_pools), tenants.owner_url) as executed,
        client_of(planned, bench.key) as bench_client,
        client_of(planned, other.key) as other_client,
    ):
        clients = {bench.tenant_id: bench_client, other.tenant_id: other_client}
        # given: what the executor answers each, one at a time
        expected = [await _executor_answer(executed, ask) for ask in asks]
        _assert_apart(expected, bench, other)

        # when: both tenants ask at once, in random order, through the planned server
        order = random.Random(7).choices(range(len(asks)), k=CONCURRENT_REQUESTS)
        answers = await asyncio.gather(
            *(
                send(clients[asks[i].tenant.tenant_id], asks[i].query, asks[i].variables)
                for i in order
            )
        )

    # then: each got exactly its own answer
    for i, answer in zip(order, answers, strict=True):
        assert answer == expected[i], (asks[i], answer.body[:500])


async def _executor_answer(server: Any, ask: Ask) -> Sent:
    async with client_of(server, ask.tenant.key) as client:
        return await send(client, ask.query, ask.variables)


def _assert_apart(expected: list[Sent], bench: Tenant, other: Tenant) -> None:
    """The expected answers are what they should be: lists of the tenant's own leads."""
    bench_list, other_list, bench_one, other_one, crossed, crossed_back = (
        sent.json()["data"] for sent in expected
    )
    assert len(other_list["leads"]["edges"]) == OTHER_LEADS
    assert len(bench_list["leads"]["edges"]) == 100
    other_names = {edge["node"]["name"] for edge in other_list["leads"]["edges"]}
    bench_names = {edge["node"]["name"] for edge in bench_list["leads"]["edges"]}
    assert all(name.startswith("Other ") for name in other_names)
    assert not other_names & bench_names
    assert bench_one["lead"]["id"] == bench.a_lead
    assert other_one["lead"]["sale"]["amount"] == "99.99"
    assert crossed == {"lead": None}
    assert crossed_back == {"lead": None}


_COUNTS = """SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM sales),
                    (SELECT count(*) FROM lead_analyses),
                    (SELECT count(*) FROM leads WHERE tenant_id <> $1)"""


async def test_a_pooled_connection_reads_as_the_tenant_it_acts_for(tenants: TwoTenants) -> None:
    bench, other = tenants.bench, tenants.other
    # One connection, so every switch happens on it.
    pool = ReadPool(libpq_url(app_login_url(tenants.owner_url)), size=1, statement_timeout_ms=0)
    await pool.start()
    try:
        seen, backends = [], set()
        for tenant in (bench, other, other, bench, other):
            async with pool.acting_for(tenant.tenant_id) as conn:
                seen.append((tenant, await conn.fetchrow(_COUNTS, tenant.tenant_id)))
                backends.add(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await pool.close()

    owner_counts = await _owner_counts(tenants)
    for tenant, (leads, sales, analyses, others) in seen:
        assert (leads, sales, analyses) == owner_counts[tenant.tenant_id]
        assert leads == tenant.leads
        assert others == 0  # no tenant condition in the SQL: Row Level Security hides them
    assert len(backends) == 1  # one session, switched back and forth


async def _owner_counts(tenants: TwoTenants) -> dict[int, tuple[int, int, int]]:
    conn = await asyncpg.connect(libpq_url(tenants.owner_url))
    try:
        counts = {}
        for tenant in (tenants.bench, tenants.other):
            row = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM leads WHERE tenant_id = $1),
                          (SELECT count(*) FROM sales WHERE tenant_id = $1),
                          (SELECT count(*) FROM lead_analyses WHERE tenant_id = $1)""",
                tenant.tenant_id,
            )
            counts[tenant.tenant_id] = (row[0], row[1], row[2])
        return counts
    finally:
        await conn.close()
