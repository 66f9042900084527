"""Sales over HTTP: one step at a time, the PAID gate on the amount, and the sales list."""

import itertools
from typing import Any

import pytest

from tests.api.operations import (
    change_sale_stage,
    codes,
    database_id,
    list_sales,
    ok,
    pipeline,
    read_sale,
)
from tests.conftest import TEST_ADMIN_EMAIL, GraphQLClient
from tests.factories import SALE_PATH, sale_at_stage

ACTOR = TEST_ADMIN_EMAIL  # the authenticated user is the actor
ALLOWED = {("NEW", "KYC"), ("KYC", "AGREEMENT"), ("AGREEMENT", "PAID")}
MONEY = {"amount": "1250.00", "currency": "EUR"}

ALLOWED_PAIRS = sorted(ALLOWED)
REFUSED_PAIRS = [
    (source, target, "IMMUTABLE" if source == "PAID" else "INVALID_TRANSITION")
    for source, target in itertools.product(SALE_PATH, SALE_PATH)
    if (source, target) not in ALLOWED
]


def _money_for(target: str) -> dict[str, str]:
    return MONEY if target == "PAID" else {}


@pytest.mark.parametrize(("source", "target"), ALLOWED_PAIRS)
async def test_sale_moves_one_step_forward(gql: GraphQLClient, source: str, target: str) -> None:
    # given a sale in the source stage
    sale = await sale_at_stage(gql, source)

    # when it is moved to the next stage
    payload = await change_sale_stage(gql, sale["id"], target, **_money_for(target))

    # then it moves, its version bumps, and the history gains the change
    moved = ok(payload)["sale"]
    assert moved["stage"] == target
    assert moved["version"] == sale["version"] + 1
    assert moved["stageHistory"][:-1] == sale["stageHistory"]
    newest = moved["stageHistory"][-1]
    assert (newest["fromStage"], newest["toStage"], newest["actor"]) == (source, target, ACTOR)
    assert await read_sale(gql, sale["id"]) == moved


@pytest.mark.parametrize(("source", "target", "code"), REFUSED_PAIRS)
async def test_sale_refuses_skips_repeats_and_going_back(
    gql: GraphQLClient, source: str, target: str, code: str
) -> None:
    # given a sale in the source stage
    sale = await sale_at_stage(gql, source)

    # when it is moved anywhere but the next stage
    payload = await change_sale_stage(gql, sale["id"], target, **_money_for(target))

    # then the rule refuses it and the sale is unchanged
    assert codes(payload) == [code]
    assert payload["sale"] is None
    assert await read_sale(gql, sale["id"]) == sale


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(None, id="missing"),
        "0",
        "0.00",
        "-5.00",
        "12.345",
        "0.001",
        "NaN",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "1000000000000.00",
    ],
)
async def test_paid_needs_a_positive_amount_with_two_decimals(
    gql: GraphQLClient, amount: str | None
) -> None:
    # given a sale in AGREEMENT without an amount
    sale = await sale_at_stage(gql, "AGREEMENT")

    # when it is marked PAID with a missing or unusable amount
    money: dict[str, Any] = {} if amount is None else {"amount": amount}
    payload = await change_sale_stage(gql, sale["id"], "PAID", currency="EUR", **money)

    # then the amount is at fault and the sale stays in AGREEMENT
    assert codes(payload) == ["VALIDATION_FAILED"]
    assert payload["userErrors"][0]["field"] == ["input", "amount"]
    assert await read_sale(gql, sale["id"]) == sale


@pytest.mark.parametrize("currency", ["EU", "EURO", "E1R", "€", "", "   ", "e u"])
async def test_currency_must_be_a_three_letter_code(gql: GraphQLClient, currency: str) -> None:
    # given a sale in AGREEMENT
    sale = await sale_at_stage(gql, "AGREEMENT")

    # when it is paid in something that is not an ISO 4217 code
    payload = await change_sale_stage(gql, sale["id"], "PAID", amount="10.00", currency=currency)

    # then the currency is at fault (a blank one is no currency at all, which is allowed)
    if currency.strip():
        assert codes(payload) == ["VALIDATION_FAILED"]
        assert payload["userErrors"][0]["field"] == ["input", "currency"]
        assert await read_sale(gql, sale["id"]) == sale
    else:
        assert ok(payload)["sale"]["currency"] is None


async def test_every_bad_money_field_is_reported_at_once(gql: GraphQLClient) -> None:
    # given a sale in AGREEMENT
    sale = await sale_at_stage(gql, "AGREEMENT")

    # when both the amount and the currency are wrong
    payload = await change_sale_stage(gql, sale["id"], "PAID", amount="-1", currency="EURO")

    # then both fields are named in one answer
    assert sorted(tuple(e["field"]) for e in payload["userErrors"]) == [
        ("input", "amount"),
        ("input", "currency"),
    ]
    assert set(codes(payload)) == {"VALIDATION_FAILED"}


@pytest.mark.parametrize(
    ("given", "shown"),
    [("1250", "1250.00"), ("1250.5", "1250.50"), ("0.01", "0.01"), ("999999999999.99", None)],
)
async def test_amount_is_an_exact_string_with_two_decimals(
    gql: GraphQLClient, given: str, shown: str | None
) -> None:
    # given a sale in AGREEMENT
    sale = await sale_at_stage(gql, "AGREEMENT")

    # when it is paid with this amount and a lower-case currency
    payload = await change_sale_stage(gql, sale["id"], "PAID", amount=given, currency="eur")

    # then the amount reads back as an exact two-decimal string and the code is upper-case
    paid = ok(payload)["sale"]
    assert paid["amount"] == (shown or given)
    assert paid["currency"] == "EUR"
    assert (await read_sale(gql, sale["id"]))["amount"] == (shown or given)


async def test_an_amount_given_earlier_lets_the_sale_be_paid(gql: GraphQLClient) -> None:
    # given a sale whose amount was agreed on the way to AGREEMENT
    sale = await sale_at_stage(gql, "KYC")
    ok(await change_sale_stage(gql, sale["id"], "AGREEMENT", amount="480.00", currency="USD"))

    # when it is marked PAID without repeating the amount
    payload = await change_sale_stage(gql, sale["id"], "PAID")

    # then the stored amount satisfies the gate
    paid = ok(payload)["sale"]
    assert (paid["stage"], paid["amount"], paid["currency"]) == ("PAID", "480.00", "USD")


async def test_a_paid_sale_is_final(gql: GraphQLClient) -> None:
    # given a paid sale
    sale = await sale_at_stage(gql, "PAID")

    # when someone tries to correct its amount or move it
    payloads = [
        await change_sale_stage(gql, sale["id"], "PAID", amount="1.00"),
        await change_sale_stage(gql, sale["id"], "AGREEMENT"),
    ]

    # then it is IMMUTABLE and unchanged
    assert [codes(p) for p in payloads] == [["IMMUTABLE"], ["IMMUTABLE"]]
    assert await read_sale(gql, sale["id"]) == sale
    assert sale["amount"] == "1250.00"


async def test_sales_filter_by_stage_and_order_by_amount(gql: GraphQLClient) -> None:
    # given sales in several stages, some with an amount and some without
    new = await sale_at_stage(gql, "NEW")
    kyc = await sale_at_stage(gql, "KYC")
    agreed = await sale_at_stage(gql, "AGREEMENT")
    agreed = ok(await change_sale_stage(gql, agreed["id"], "PAID", amount="99.50"))["sale"]
    big = await sale_at_stage(gql, "PAID", amount="1250.00")
    small = await sale_at_stage(gql, "PAID", amount="20.00")

    # when they are filtered by stage
    paid = await list_sales(gql, filter={"stage": ["PAID"]})
    early = await list_sales(gql, filter={"stage": ["NEW", "KYC"]})

    # then each filter returns exactly its stages, with a matching total
    assert {e["node"]["id"] for e in paid["edges"]} == {agreed["id"], big["id"], small["id"]}
    assert paid["totalCount"] == 3
    assert {e["node"]["id"] for e in early["edges"]} == {new["id"], kyc["id"]}
    assert early["totalCount"] == 2

    # and ordered by amount, sales without one come lowest (ties broken by creation order),
    # page after page
    ascending = [new["id"], kyc["id"], small["id"], agreed["id"], big["id"]]
    no_amount_desc = sorted([new["id"], kyc["id"]], key=database_id, reverse=True)
    descending = [big["id"], agreed["id"], small["id"], *no_amount_desc]
    for direction, expected in (("ASC", ascending), ("DESC", descending)):
        order = {"field": "AMOUNT", "direction": direction}
        whole = await list_sales(gql, first=100, orderBy=order)
        assert [e["node"]["id"] for e in whole["edges"]] == expected, direction
        assert await _walk_sales(gql, order) == expected, direction


async def _walk_sales(gql: GraphQLClient, order: dict[str, str]) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = await list_sales(gql, first=2, after=after, orderBy=order)
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def test_paid_amount_adds_up_paid_sales_only(gql: GraphQLClient) -> None:
    # given two paid sales and one agreed but unpaid amount
    await sale_at_stage(gql, "PAID", amount="1250.00")
    await sale_at_stage(gql, "PAID", amount="0.10")
    pending = await sale_at_stage(gql, "KYC")
    ok(await change_sale_stage(gql, pending["id"], "AGREEMENT", amount="500.00"))

    # when the pipeline figures are read
    stats = await pipeline(gql)

    # then only the paid sales count, as an exact string
    assert stats["paidAmount"] == "1250.10"
    assert stats["salesByStage"] == [
        {"stage": "NEW", "count": 0},
        {"stage": "KYC", "count": 0},
        {"stage": "AGREEMENT", "count": 1},
        {"stage": "PAID", "count": 2},
    ]
