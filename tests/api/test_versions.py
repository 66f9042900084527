"""Optimistic concurrency over HTTP: expectedVersion, and races between real requests."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.api.operations import (
    Json,
    change_sale_stage,
    change_stage,
    codes,
    create_lead,
    ok,
    read_lead,
    read_sale,
    record_message,
    transfer,
    update_lead,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead, sale_at_stage

Change = Callable[[GraphQLClient, Json, int], Awaitable[Json]]


async def _rename(gql: GraphQLClient, lead: Json, version: int) -> Json:
    return await update_lead(gql, lead["id"], name="Grace Hopper", expectedVersion=version)


async def _contact(gql: GraphQLClient, lead: Json, version: int) -> Json:
    return await change_stage(gql, lead["id"], "CONTACTED", expected_version=version)


async def _lose(gql: GraphQLClient, lead: Json, version: int) -> Json:
    return await change_stage(gql, lead["id"], "LOST", reason="Gone", expected_version=version)


LEAD_CHANGES = [
    pytest.param(_rename, id="updateLead"),
    pytest.param(_contact, id="changeLeadStage"),
    pytest.param(_lose, id="changeLeadStage-LOST"),
]


@pytest.mark.parametrize("change", LEAD_CHANGES)
@pytest.mark.parametrize("stale_by", [-1, 1, 100])
async def test_stale_expected_version_changes_nothing(
    gql: GraphQLClient, change: Change, stale_by: int
) -> None:
    # given a lead at version 2 (someone already edited it)
    lead = await create_lead(gql)
    ok(await update_lead(gql, lead["id"], company="Analytical Engines"))
    before = await read_lead(gql, lead["id"])
    assert before["version"] == 2

    # when a client sends a version other than the current one
    payload = await change(gql, lead, before["version"] + stale_by)

    # then it is told to reload, and the lead is untouched
    assert codes(payload) == ["VERSION_CONFLICT"]
    assert payload["userErrors"][0]["field"] == ["input", "expectedVersion"]
    assert payload["lead"] is None
    assert await read_lead(gql, lead["id"]) == before


@pytest.mark.parametrize("change", LEAD_CHANGES)
async def test_current_expected_version_succeeds(gql: GraphQLClient, change: Change) -> None:
    # given a lead at version 2
    lead = await create_lead(gql)
    ok(await update_lead(gql, lead["id"], company="Analytical Engines"))

    # when a client sends the version it read
    payload = await change(gql, lead, 2)

    # then the change is made and the version moves on by one
    assert ok(payload)["lead"]["version"] == 3


async def test_stale_transfer_is_refused_and_current_one_succeeds(gql: GraphQLClient) -> None:
    # given an eligible lead
    lead = await eligible_lead(gql)
    version = lead["version"]

    # when it is transferred with a stale version, then with the current one
    stale = await transfer(gql, lead["id"], expected_version=version - 1)
    current = await transfer(gql, lead["id"], expected_version=version)

    # then only the second transfer happens
    assert codes(stale) == ["VERSION_CONFLICT"]
    assert ok(current)["lead"]["stage"] == "TRANSFERRED"


async def test_stale_sale_change_is_refused_and_current_one_succeeds(gql: GraphQLClient) -> None:
    # given a new sale at version 1
    sale = await sale_at_stage(gql, "NEW")

    # when it is moved with a stale version, then with the current one
    stale = await change_sale_stage(gql, sale["id"], "KYC", expectedVersion=2)
    unchanged = await read_sale(gql, sale["id"])
    current = await change_sale_stage(gql, sale["id"], "KYC", expectedVersion=1)

    # then only the second change happens
    assert codes(stale) == ["VERSION_CONFLICT"]
    assert unchanged == sale
    assert ok(current)["sale"]["version"] == 2


@pytest.mark.parametrize(
    ("expected_version", "loser_code"),
    [(None, "INVALID_TRANSITION"), (1, "VERSION_CONFLICT")],
)
async def test_concurrent_stage_changes_have_one_winner(
    gql: GraphQLClient, expected_version: int | None, loser_code: str
) -> None:
    # given a NEW lead
    lead = await create_lead(gql)

    # when 10 people move it to CONTACTED at the same moment
    payloads = await asyncio.gather(
        *(
            change_stage(gql, lead["id"], "CONTACTED", expected_version=expected_version)
            for _ in range(10)
        )
    )

    # then exactly one wins, the rest are refused, and only one change is recorded
    winners = [p for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    assert sorted(code for p in payloads for code in codes(p)) == [loser_code] * 9
    after = await read_lead(gql, lead["id"])
    assert after["version"] == 2
    assert [h["toStage"] for h in after["stageHistory"]] == ["NEW", "CONTACTED"]


async def test_concurrent_updates_with_one_expected_version_have_one_winner(
    gql: GraphQLClient,
) -> None:
    # given a lead at version 1
    lead = await create_lead(gql)

    # when 10 clients that all read version 1 rename it at once
    names = [f"Name {i}" for i in range(10)]
    payloads = await asyncio.gather(
        *(update_lead(gql, lead["id"], name=name, expectedVersion=1) for name in names)
    )

    # then one rename wins, the others conflict, and the lead carries the winner's name
    winners = [p for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    assert sorted(code for p in payloads for code in codes(p)) == ["VERSION_CONFLICT"] * 9
    after = await read_lead(gql, lead["id"])
    assert after["name"] == winners[0]["lead"]["name"]
    assert after["version"] == 2


async def test_concurrent_changes_without_versions_lose_no_update(gql: GraphQLClient) -> None:
    # given a lead
    lead = await create_lead(gql)

    # when messages and edits of different fields arrive at the same moment
    await asyncio.gather(
        *(record_message(gql, lead["id"]) for _ in range(10)),
        update_lead(gql, lead["id"], company="Analytical Engines"),
        update_lead(gql, lead["id"], email="ada@example.com"),
        update_lead(gql, lead["id"], phone="+44 20 7946 0000"),
    )

    # then every one of them is kept, and each bumped the version once
    after = await read_lead(gql, lead["id"])
    assert after["messageCount"] == 10
    assert (after["company"], after["email"], after["phone"]) == (
        "Analytical Engines",
        "ada@example.com",
        "+44 20 7946 0000",
    )
    assert after["version"] == 1 + 10 + 3
