"""Lead.outcome is loaded per request in batches: a page of leads with their outcomes and
linked analyses costs the same few statements whether it holds one lead or many."""

from typing import Any

from tests.api.operations import analyze, change_stage, create_lead, ok
from tests.conftest import (
    AUTHENTICATION_STATEMENTS,
    TENANT_STATEMENTS,
    GraphQLClient,
    StatementCounter,
)
from tests.factories import lead_at_stage

LEADS_WITH_OUTCOMES = """
query($first: Int!) {
  leads(first: $first) {
    edges { node { id stage outcome { result analysesBefore { score } } } }
  }
}
"""


def reads(queries: int) -> int:
    """Statements of `queries` reads, each in its own tenant-scoped transaction."""
    return queries * (1 + TENANT_STATEMENTS)


async def _statements_for(
    gql: GraphQLClient, counter: StatementCounter, first: int
) -> tuple[int, list[dict[str, Any]]]:
    before = counter.count
    data = await gql.data(LEADS_WITH_OUTCOMES, {"first": first})
    return counter.count - before, [edge["node"] for edge in data["leads"]["edges"]]


async def test_a_page_of_leads_loads_outcomes_and_their_analyses_in_one_batch_each(
    gql: GraphQLClient, count_statements: StatementCounter
) -> None:
    # given an open lead, then four lost leads, each analysed (the newest come first)
    await lead_at_stage(gql, "CONTACTED")
    for _ in range(4):
        lead = await create_lead(gql)
        ok(await analyze(gql, lead["id"]))
        ok(await change_stage(gql, lead["id"], "LOST", reason="No budget"))
    # when one lead, then all five, are read with their outcomes
    one, first = await _statements_for(gql, count_statements, 1)
    five, nodes = await _statements_for(gql, count_statements, 5)
    # then the single lead really used both loaders
    (only,) = first
    assert only["outcome"]["result"] == "LOSS"
    assert len(only["outcome"]["analysesBefore"]) == 1
    # and of the five, the lost ones have a LOSS with their analysis, the open one none
    assert [n["outcome"] is None for n in nodes] == [False] * 4 + [True]
    assert {len(n["outcome"]["analysesBefore"]) for n in nodes[:4]} == {1}
    # and both cost the leads page, the outcomes and the linked analyses: 3 reads
    expected = AUTHENTICATION_STATEMENTS + reads(3)
    assert (one, five) == (expected, expected)
