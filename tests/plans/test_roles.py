"""Plans read only for a caller whose role may read, and answer every role as the executor
does. Every role has READ today (domain/access.py), so the refusal is seen by withdrawing
it from VIEWER for one test, in this process: both servers then refuse alike."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
from graphql import parse

from db.database import app_login_url
from db.read_pool import ReadPool
from domain.access import GRANTS, Permission, Role
from domain.global_ids import to_global_id
from plans.compiler import compile_plans
from plans.runner import ReadPlans
from schema.root import schema
from services.scope import Scope
from settings import Settings
from tests.plans.conftest import PlansDatabase, Twins, key_for, twin_servers, twins_for
from worker.runner import libpq_url

ONE = "query One($id: ID!) { lead(id: $id) { id name latestAnalysis { score } sale { amount } } }"
LIST = "{ leads(first: 10) { edges { cursor node { id stage } } pageInfo { endCursor } } }"
BOTH = "query Both($id: ID!) { lead(id: $id) { id } leads(first: 2) { edges { cursor } } }"


@dataclass(frozen=True)
class Callers:
    by_role: dict[Role, Twins]
    lead_id: str


@pytest.fixture(scope="module")
async def callers(plans_database: PlansDatabase, settings: Settings) -> AsyncIterator[Callers]:
    url, tenant = plans_database.url, plans_database.tenant_id
    keys = {role: await key_for(url, tenant, f"{role.value}@roles.example", role) for role in Role}
    async with twin_servers(settings, url) as servers, AsyncExitStack() as clients:
        by_role = {
            role: await clients.enter_async_context(twins_for(servers, key))
            for role, key in keys.items()
        }
        yield Callers(by_role, _paid_lead(plans_database))


def _paid_lead(plans_database: PlansDatabase) -> str:
    """The hand-made lead whose sale is paid, in cents (tests/plans/conftest.py)."""
    return to_global_id("Lead", plans_database.odd_lead_ids[3])


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_as_the_executor_answers(callers: Callers, role: Role) -> None:
    twins = callers.by_role[role]
    one = await twins.same(ONE, {"id": callers.lead_id})
    await twins.same(LIST)
    await twins.same(BOTH, {"id": callers.lead_id})
    assert one["data"]["lead"]["sale"]["amount"] == "12.50"


async def test_a_role_without_read_is_refused_as_the_executor_refuses(
    callers: Callers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: VIEWER may no longer read
    monkeypatch.setitem(GRANTS, Role.VIEWER, GRANTS[Role.VIEWER] - {Permission.READ})
    twins = callers.by_role[Role.VIEWER]

    # when / then: the planned server refuses exactly as the executor does
    for query in (ONE, LIST, BOTH):
        refused = await twins.same(query, {"id": callers.lead_id} if "$id" in query else None)
        assert {error["extensions"]["code"] for error in refused["errors"]} == {"FORBIDDEN"}


async def test_a_caller_without_a_role_is_handed_to_the_executor(
    plans_database: PlansDatabase,
) -> None:
    plan = compile_plans(schema._schema, parse(ONE))[None]
    pool = ReadPool(libpq_url(app_login_url(plans_database.url)), size=1, statement_timeout_ms=0)
    await pool.start()
    try:
        plans = ReadPlans(schema, pool)
        variables = {"id": _paid_lead(plans_database)}
        tenant = plans_database.tenant_id

        # given a pool that answers a reader (so a refusal is the plan's own)
        admin = await plans.answer(plan, variables, Scope(tenant_id=tenant, role=Role.ADMIN))
        # when the caller has no role
        nobody = await plans.answer(plan, variables, Scope(tenant_id=tenant, role=None))
    finally:
        await pool.close()

    assert admin is not None
    assert admin["lead"]["id"] == variables["id"]
    assert nobody is None
