"""The leads connection over HTTP: keyset pages in every order, filters, pipeline figures.

Each test builds one varied set of leads and checks a whole table of cases against it, so
the set is made once per test rather than once per case.
"""

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.operations import (
    LEADS,
    Json,
    advance,
    analyze,
    change_sale_stage,
    create_lead,
    database_id,
    list_leads,
    moment,
    ok,
    pipeline,
    transfer,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, record_messages

SOURCES = ("PARTNER", "REFERRAL", "WEBSITE", "COLD_OUTREACH", "TELEGRAM", "EVENT", "OTHER")
DOMAINS = ("fintech", "Fintech", "FINTECH", "retail", None)
STAGE_BY_REMAINDER = {1: "CONTACTED", 2: "QUALIFIED", 3: "LOST"}
LEAD_COUNT = 25
# Names and companies that put LIKE wildcards into the data, and near misses for them.
SPECIAL_FIELDS = {
    3: {"name": "100% Growth"},
    4: {"name": "100 Percent Growth"},
    5: {"company": "under_score Ltd"},
    6: {"company": "underXscore Inc"},
}


async def many_leads(gql: GraphQLClient) -> list[Json]:
    """25 leads of every source, some domains, stages, messages and scores; returned as
    `leads(first: 100)` lists them (newest first)."""
    ids = []
    for i in range(LEAD_COUNT):
        fields: Json = {
            "name": f"Lead {i:02d}",
            "source": SOURCES[i % len(SOURCES)],
            "company": f"Company {i:02d}",
            "email": f"person{i:02d}@example.com",
            **SPECIAL_FIELDS.get(i, {}),
        }
        if DOMAINS[i % len(DOMAINS)] is not None:
            fields["businessDomain"] = DOMAINS[i % len(DOMAINS)]
        ids.append((await create_lead(gql, **fields))["id"])
    # Touch leads newest first, so updatedAt orders them differently from createdAt.
    for i in reversed(range(LEAD_COUNT)):
        await record_messages(gql, ids[i], i % 4)
        if i % 6 in STAGE_BY_REMAINDER:
            await advance(gql, ids[i], STAGE_BY_REMAINDER[i % 6])
        if i % 3 == 0:
            ok(await analyze(gql, ids[i]))
    listed = await list_leads(gql, first=100)
    assert listed["totalCount"] == LEAD_COUNT
    nodes: list[Json] = [edge["node"] for edge in listed["edges"]]
    return nodes


def score_of(node: Json) -> float:
    """The SCORE sort value: unanalyzed leads count as -1, below every real score."""
    analysis = node["latestAnalysis"]
    return -1.0 if analysis is None else float(analysis["score"])


SORT_KEYS: dict[str, Callable[[Json], Any]] = {
    "CREATED_AT": lambda node: moment(node["createdAt"]),
    "UPDATED_AT": lambda node: moment(node["updatedAt"]),
    "SCORE": score_of,
    "MESSAGE_COUNT": lambda node: node["messageCount"],
}
ORDERS = [(field, direction) for field in SORT_KEYS for direction in ("ASC", "DESC")]


def expected_ids(nodes: list[Json], field: str, direction: str) -> list[str]:
    """Sorted by the field, ties broken by id in the same direction."""
    ordered = sorted(
        nodes,
        key=lambda node: (SORT_KEYS[field](node), database_id(node["id"])),
        reverse=direction == "DESC",
    )
    return [node["id"] for node in ordered]


def ids_of(connection: Json) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def walk_forward(gql: GraphQLClient, size: int, **arguments: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = await list_leads(gql, first=size, after=after, **arguments)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert len(page["edges"]) <= size
        seen += ids_of(page)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]


async def walk_backward(gql: GraphQLClient, size: int, **arguments: Any) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        page = await list_leads(gql, last=size, before=before, **arguments)
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        seen = ids_of(page) + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            return seen
        assert len(page["edges"]) == size
        before = page["pageInfo"]["startCursor"]
        assert before == page["edges"][0]["cursor"]


async def test_pages_of_seven_cover_every_order_without_gaps(gql: GraphQLClient) -> None:
    # given 25 varied leads, some analyzed, some with messages, some moved on
    nodes = await many_leads(gql)
    assert len({score_of(n) for n in nodes}) > 3
    assert len({n["messageCount"] for n in nodes}) == 4

    for field, direction in ORDERS:
        order = {"field": field, "direction": direction}
        expected = expected_ids(nodes, field, direction)

        # when the leads are read in one page, then 7 at a time forward and backward
        whole = ids_of(await list_leads(gql, first=100, orderBy=order))
        forward = await walk_forward(gql, 7, orderBy=order)
        backward = await walk_backward(gql, 7, orderBy=order)

        # then all three are the same complete order: no duplicate, no gap
        assert whole == expected, order
        assert forward == expected, order
        assert backward == expected, order


async def test_default_order_is_newest_first(gql: GraphQLClient) -> None:
    # given a few leads made one after another
    made = [(await create_lead(gql, name=f"Lead {i}"))["id"] for i in range(3)]

    # when leads are listed without arguments
    listed = (await gql.data(LEADS))["leads"]

    # then the newest comes first
    assert ids_of(listed) == list(reversed(made))
    assert listed["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("arguments", "mistake"),
    [
        pytest.param({"first": 5, "last": 5}, "both directions", id="first-and-last"),
        pytest.param({"first": 101}, "page too large", id="first-101"),
        pytest.param({"last": -1}, "negative page", id="last-negative"),
        pytest.param({"after": "not-a-cursor"}, "garbage cursor", id="garbage-after"),
        pytest.param({"before": "WzEsMiwzXQ"}, "a forged cursor", id="forged-before"),
    ],
)
async def test_bad_paging_arguments_are_bad_requests(
    gql: GraphQLClient, arguments: Json, mistake: str
) -> None:
    body = await gql(LEADS, arguments)
    assert body["data"] is None, mistake
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], mistake


async def test_a_cursor_only_works_with_the_order_it_came_from(gql: GraphQLClient) -> None:
    # given a cursor from a page ordered by creation
    for i in range(3):
        await create_lead(gql, name=f"Lead {i}")
    page = await list_leads(gql, first=1, orderBy={"field": "CREATED_AT", "direction": "DESC"})
    cursor = page["pageInfo"]["endCursor"]

    for field in ("UPDATED_AT", "SCORE", "MESSAGE_COUNT"):
        # when it is used to page another order
        body = await gql(LEADS, {"first": 1, "after": cursor, "orderBy": {"field": field}})

        # then the request is refused instead of returning a wrong page
        assert body["data"] is None, field
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", field


def _search_hit(term: str) -> Callable[[Json], bool]:
    def hit(node: Json) -> bool:
        text = " ".join(node[k] or "" for k in ("name", "company", "email"))
        return term.strip().lower() in text.lower()

    return hit


def _score_between(low: float, high: float) -> Callable[[Json], bool]:
    def hit(node: Json) -> bool:
        return node["latestAnalysis"] is not None and low <= score_of(node) <= high

    return hit


FILTERS: list[tuple[Json, Callable[[Json], bool]]] = [
    ({"stage": ["CONTACTED"]}, lambda n: n["stage"] == "CONTACTED"),
    ({"stage": ["NEW", "LOST"]}, lambda n: n["stage"] in ("NEW", "LOST")),
    ({"source": ["PARTNER", "EVENT"]}, lambda n: n["source"] in ("PARTNER", "EVENT")),
    ({"businessDomain": "FINTECH"}, lambda n: (n["businessDomain"] or "").lower() == "fintech"),
    ({"businessDomain": "retail"}, lambda n: n["businessDomain"] == "retail"),
    ({"hasBusinessDomain": True}, lambda n: n["businessDomain"] is not None),
    ({"hasBusinessDomain": False}, lambda n: n["businessDomain"] is None),
    ({"search": "lead 0"}, _search_hit("lead 0")),
    ({"search": "COMPANY 1"}, _search_hit("company 1")),
    ({"search": "PERSON2"}, _search_hit("person2")),
    ({"search": "  growth "}, _search_hit("growth")),
    ({"search": "100%"}, _search_hit("100%")),
    ({"search": "%"}, _search_hit("%")),
    ({"search": "under_score"}, _search_hit("under_score")),
    ({"search": "_"}, _search_hit("_")),
    ({"search": "nobody-has-this"}, _search_hit("nobody-has-this")),
    (
        {"stage": ["NEW"], "hasBusinessDomain": True, "search": "lead"},
        lambda n: n["stage"] == "NEW" and n["businessDomain"] is not None and "Lead" in n["name"],
    ),
]


async def test_filters_narrow_the_list_and_its_total(gql: GraphQLClient) -> None:
    # given 25 varied leads
    nodes = await many_leads(gql)
    created = sorted(moment(n["createdAt"]) for n in nodes)
    pivot = next(n["createdAt"] for n in nodes if moment(n["createdAt"]) == created[10])
    scores = sorted(score_of(n) for n in nodes if n["latestAnalysis"] is not None)
    middle, low, high = scores[len(scores) // 2], scores[1], scores[-2]
    cases = [
        *FILTERS,
        ({"createdAfter": pivot}, lambda n: moment(n["createdAt"]) >= moment(pivot)),
        ({"createdBefore": pivot}, lambda n: moment(n["createdAt"]) < moment(pivot)),
        ({"minScore": middle}, _score_between(middle, 1.0)),
        ({"maxScore": middle}, _score_between(0.0, middle)),
        ({"minScore": low, "maxScore": high}, _score_between(low, high)),
    ]

    for lead_filter, matches in cases:
        expected = [n["id"] for n in nodes if matches(n)]
        # every case must tell leads apart, or it could not catch an ignored filter
        assert 0 < len(expected) < LEAD_COUNT or "nobody-has-this" in str(lead_filter)

        # when the leads are filtered, in one page and in pages of three
        listed = await list_leads(gql, first=100, filter=lead_filter)
        paged = await walk_forward(gql, 3, filter=lead_filter)

        # then exactly the matching leads come back, in order, with their total
        assert ids_of(listed) == expected, lead_filter
        assert paged == expected, lead_filter
        assert listed["totalCount"] == len(expected), lead_filter

    # and the wildcard cases really tell the near misses apart
    percent = ids_of(await list_leads(gql, filter={"search": "100%"}))
    underscore = ids_of(await list_leads(gql, filter={"search": "under_score"}))
    assert [n["name"] for n in nodes if n["id"] in percent] == ["100% Growth"]
    assert [n["company"] for n in nodes if n["id"] in underscore] == ["under_score Ltd"]


async def test_pipeline_of_an_empty_tenant(gql: GraphQLClient) -> None:
    stats = await pipeline(gql)
    assert stats == {
        "leadsByStage": [
            {"stage": s, "count": 0}
            for s in ("NEW", "CONTACTED", "QUALIFIED", "TRANSFERRED", "LOST")
        ],
        "salesByStage": [{"stage": s, "count": 0} for s in ("NEW", "KYC", "AGREEMENT", "PAID")],
        "transferRate": None,
        "averageLatestScore": None,
        "paidAmount": "0.00",
    }


async def test_pipeline_figures_follow_the_leads(gql: GraphQLClient) -> None:
    # given two new leads (one analyzed), a contacted and a lost one, and two transfers,
    # one of which was paid
    await create_lead(gql)
    unsure = await create_lead(gql, source="COLD_OUTREACH")
    ok(await analyze(gql, unsure["id"]))
    await advance(gql, (await create_lead(gql))["id"], "CONTACTED")
    await advance(gql, (await create_lead(gql))["id"], "LOST")
    paid = ok(await transfer(gql, (await eligible_lead(gql))["id"]))["sale"]
    ok(await transfer(gql, (await eligible_lead(gql, messages=1))["id"]))
    for step in ("KYC", "AGREEMENT"):
        ok(await change_sale_stage(gql, paid["id"], step))
    ok(await change_sale_stage(gql, paid["id"], "PAID", amount="1250.00", currency="EUR"))
    nodes = (await list_leads(gql, first=100))["edges"]
    scores = [score_of(e["node"]) for e in nodes if e["node"]["latestAnalysis"]]

    # when the pipeline figures are read
    stats = await pipeline(gql)

    # then every stage is listed with its count, and the rates follow from them
    assert stats["leadsByStage"] == [
        {"stage": "NEW", "count": 2},
        {"stage": "CONTACTED", "count": 1},
        {"stage": "QUALIFIED", "count": 0},
        {"stage": "TRANSFERRED", "count": 2},
        {"stage": "LOST", "count": 1},
    ]
    assert stats["salesByStage"] == [
        {"stage": "NEW", "count": 1},
        {"stage": "KYC", "count": 0},
        {"stage": "AGREEMENT", "count": 0},
        {"stage": "PAID", "count": 1},
    ]
    assert stats["transferRate"] == pytest.approx(2 / 3)
    assert len(scores) == 3
    assert stats["averageLatestScore"] == pytest.approx(sum(scores) / len(scores))
    assert stats["paidAmount"] == "1250.00"
