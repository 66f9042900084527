"""The cost rule, operation by operation: what each kind of field adds (web/cost.py)."""

from typing import Any

import pytest
from graphql import parse

from schema.root import schema
from web.cost import operation_costs

LEADS = "edges { node { id } }"


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ __typename }", {}, 0),
        ("{ pipeline { paidAmount transferRate } }", {}, 1),  # one object, scalars free
        ("{ pipeline { leadsByStage { count } } }", {}, 11),  # an unpaged list: 10
        (f"{{ leads {{ {LEADS} }} }}", {}, 41),  # 1 + 20 * (edge + node)
        (f"{{ leads(first: 5) {{ totalCount pageInfo {{ hasNextPage }} {LEADS} }} }}", {}, 12),
        (f"{{ leads(last: 100) {{ {LEADS} }} }}", {}, 201),
        (f"{{ leads(first: 500) {{ {LEADS} }} }}", {}, 201),  # never more than 100
        (f"{{ leads(first: 2, last: 3) {{ {LEADS} }} }}", {}, 11),  # both: their sum
        (f"{{ leads(first: null) {{ {LEADS} }} }}", {}, 41),
        (
            "{ leads(first: 10) { edges { node { messages(first: 3) { edges { node { id } } }"
            " stageHistory { actor } sale { id } } } } }",
            {},
            1 + 10 * (2 + (1 + 3 * 2) + 10 + 1),
        ),
        (f"query($n: Int) {{ leads(first: $n) {{ {LEADS} }} }}", {"n": 7}, 15),
        (f"query($n: Int) {{ leads(first: $n) {{ {LEADS} }} }}", {}, 41),
        (f"query($n: Int = 3) {{ leads(first: $n) {{ {LEADS} }} }}", {}, 7),
        (f"query($n: Int = 3) {{ leads(first: $n) {{ {LEADS} }} }}", {"n": None}, 41),
        (f"query($n: Int) {{ leads(first: $n) {{ {LEADS} }} }}", {"n": "many"}, 201),
        (
            "query($n: Int) { leads(first: $n) { edges { node { messages(first: $n)"
            " { edges { node { id } } } } } } }",
            {"n": 4},
            1 + 4 * (2 + 1 + 4 * 2),
        ),
        ('{ node(id: "x") { ... on Lead { stageHistory { actor } } } }', {}, 11),
        (f"{{ ...F }} fragment F on Query {{ a: leads(first: 1) {{ {LEADS} }} }}", {}, 3),
        ('mutation { updateLead(input: {leadId: "x"}) { lead { id } } }', {}, 102),
        ('mutation { analyzeLead(input: {leadId: "x"}) { userErrors { code } } }', {}, 1011),
        ("{ __schema { types { fields { type { name } } } } }", {}, 0),
    ],
)
def test_the_cost_of_an_operation(query: str, variables: dict[str, Any], cost: int) -> None:
    (formula,) = operation_costs(schema._schema, parse(query)).values()
    assert formula.total(variables) == cost


def test_fragments_spread_again_and_again_keep_the_formula_small() -> None:
    # given fragments that each spread the one before twice: 2**40 leads pages in all
    fragments = ["fragment F0 on Query { leads(first: $n) { edges { node { id } } } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)]
    document = parse("query($n: Int) { ...F40 } " + " ".join(fragments))
    # when its cost is worked out, then it is quick, exact and unbounded by any shortcut
    (formula,) = operation_costs(schema._schema, document).values()
    assert formula.total({"n": 1}) == 2**40 * 3
