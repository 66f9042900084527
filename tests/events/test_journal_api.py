"""The event journal over HTTP: every change appends its event, and `events(after:)`
lets a client that was offline catch up from the last event it saw."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database
from domain.global_ids import to_global_id
from resolvers.ids import decode_id
from services.retention import prune_events
from tests.api.operations import (
    Json,
    advance,
    analyze,
    change_sale_stage,
    change_stage,
    codes,
    create_lead,
    ok,
    record_message,
    transfer,
    update_lead,
)
from tests.conftest import GraphQLClient
from tests.factories import eligible_lead

EVENTS = """
query Events($after: ID, $first: Int, $types: [EventType!]) {
  events(after: $after, first: $first, types: $types) {
    edges { cursor node { id type occurredAt data lead { id stage } sale { id stage }
                          analysis { id score } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def journal(gql: GraphQLClient, **arguments: Any) -> Json:
    connection: Json = (await gql.data(EVENTS, arguments))["events"]
    return connection


async def events_after(gql: GraphQLClient, after: str | None) -> list[Json]:
    return [edge["node"] for edge in (await journal(gql, after=after, first=100))["edges"]]


async def latest_event_id(gql: GraphQLClient) -> str | None:
    latest: str | None = (await gql.data("{ latestEventId }"))["latestEventId"]
    return latest


async def test_each_lead_change_appends_one_event_with_its_facts(gql: GraphQLClient) -> None:
    # given a lead created, edited, moved on and written to
    lead = await create_lead(gql, name="Ada", source="PARTNER")
    ok(await update_lead(gql, lead["id"], name="Ada Lovelace", company="Analytical"))
    ok(await change_stage(gql, lead["id"], "CONTACTED"))
    ok(await record_message(gql, lead["id"]))
    # when the journal is read from the start
    found = await events_after(gql, None)
    # then each change is there once, in order, with its facts and its lead
    assert [(e["type"], e["data"]) for e in found] == [
        ("LEAD_CREATED", {"fromStage": None, "toStage": "new"}),
        ("LEAD_UPDATED", {"fields": ["company", "name"]}),
        ("LEAD_STAGE_CHANGED", {"fromStage": "new", "toStage": "contacted"}),
        ("LEAD_MESSAGE_RECORDED", {"direction": "inbound", "messageCount": 1}),
    ]
    assert {e["lead"]["id"] for e in found} == {lead["id"]}
    assert all(e["sale"] is None and e["analysis"] is None for e in found)


async def test_analysis_transfer_and_sale_steps_append_their_events(gql: GraphQLClient) -> None:
    # given an eligible lead (created, messaged, qualified, analyzed)
    lead = await eligible_lead(gql, messages=1)
    start = await latest_event_id(gql)
    # when it is analyzed again, transferred and its sale moved on
    analysis = ok(await analyze(gql, lead["id"], force=True))["analysis"]
    sale = ok(await transfer(gql, lead["id"]))["sale"]
    ok(await change_sale_stage(gql, sale["id"], "KYC"))
    found = await events_after(gql, start)
    # then the journal names the analysis, the transfer, the new sale and its step
    assert [e["type"] for e in found] == [
        "LEAD_ANALYZED",
        "LEAD_TRANSFERRED",
        "SALE_CREATED",
        "SALE_STAGE_CHANGED",
    ]
    analyzed, transferred, created, stepped = found
    assert analyzed["analysis"]["id"] == analysis["id"]
    assert analyzed["data"]["score"] == analysis["score"]
    assert analyzed["data"]["previousScore"] == lead["latestAnalysis"]["score"]
    assert transferred["data"] == {"fromStage": "qualified", "toStage": "transferred"}
    assert created["data"] == {"fromStage": None, "toStage": "new"}
    assert stepped["data"] == {"fromStage": "new", "toStage": "kyc"}
    assert {e["sale"]["id"] for e in (transferred, created, stepped)} == {sale["id"]}


async def test_a_refused_change_appends_no_event(gql: GraphQLClient) -> None:
    # given a lead and the newest event
    lead = await create_lead(gql)
    start = await latest_event_id(gql)
    # when changes are refused (a skipped stage, a transfer that misses its gates)
    assert codes(await change_stage(gql, lead["id"], "QUALIFIED")) == ["INVALID_TRANSITION"]
    assert codes(await transfer(gql, lead["id"]))
    # then nothing was appended
    assert await events_after(gql, start) == []
    assert await latest_event_id(gql) == start


async def test_an_edit_to_what_is_already_there_appends_nothing(gql: GraphQLClient) -> None:
    # given a lead with a name and no phone
    lead = await create_lead(gql, name="Ada")
    start = await latest_event_id(gql)
    # when it is "updated" to the same values
    same = ok(await update_lead(gql, lead["id"], name="Ada", phone=None))["lead"]
    # then nothing happened: no event, and the version is unchanged
    assert await events_after(gql, start) == []
    assert same["version"] == lead["version"]
    # and clearing a field that is set is a change that names it
    ok(await update_lead(gql, lead["id"], company="Analytical"))
    ok(await update_lead(gql, lead["id"], company=None))
    assert [e["data"] for e in await events_after(gql, start)] == [
        {"fields": ["company"]},
        {"fields": ["company"]},
    ]


async def test_a_client_catches_up_page_by_page_from_the_last_event_it_saw(
    gql: GraphQLClient,
) -> None:
    # given five events
    lead = await create_lead(gql)
    for stage in ("CONTACTED", "QUALIFIED"):
        await advance(gql, lead["id"], stage)
    await record_message(gql, lead["id"])
    await record_message(gql, lead["id"])
    # when a client reads two at a time, passing back each page's endCursor
    seen: list[str] = []
    after = None
    while True:
        page = await journal(gql, after=after, first=2)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert [edge["cursor"] for edge in page["edges"]] == [
            edge["node"]["id"] for edge in page["edges"]
        ]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    # then it saw each event once, oldest first, and ends at the newest
    assert len(seen) == 5 == len(set(seen))
    assert after == seen[-1] == await latest_event_id(gql)
    # and a page with nothing new keeps its place
    empty = await journal(gql, after=after)
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": after,
    }


async def test_types_narrow_the_journal(gql: GraphQLClient) -> None:
    # given a created lead that moved on once
    lead = await create_lead(gql)
    await advance(gql, lead["id"], "CONTACTED")
    # when only stage changes are asked for
    found = await events_after_types(gql, ["LEAD_STAGE_CHANGED"])
    # then only they come
    assert [e["type"] for e in found] == ["LEAD_STAGE_CHANGED"]


async def events_after_types(gql: GraphQLClient, types: list[str]) -> list[Json]:
    return [edge["node"] for edge in (await journal(gql, types=types))["edges"]]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"after": "not-an-id"}, "after"),
        ({"after": to_global_id("Lead", 1)}, "Event ID"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"types": []}, "types"),
        ({"after": to_global_id("Event", 10**12)}, "past your newest event"),
    ],
)
async def test_bad_arguments_are_bad_requests(
    gql: GraphQLClient, arguments: Json, fragment: str
) -> None:
    answer = await gql(EVENTS, arguments)
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert fragment in answer["errors"][0]["message"]


async def test_an_event_is_a_node(gql: GraphQLClient) -> None:
    await create_lead(gql)
    event_id = await latest_event_id(gql)
    found = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Event { id type } } }", {"id": event_id}
    )
    assert found["node"] == {"id": event_id, "type": "LEAD_CREATED"}


async def test_a_cursor_older_than_retention_is_refused_not_silently_skipped(
    gql: GraphQLClient, owner: Database
) -> None:
    # given three events, and retention removing the first two (they are made old)
    lead = await create_lead(gql)
    first = await latest_event_id(gql)
    await advance(gql, lead["id"], "CONTACTED")
    second = await latest_event_id(gql)
    await advance(gql, lead["id"], "QUALIFIED")
    third = await latest_event_id(gql)
    async with owner.transaction() as conn:
        await conn.execute(
            text("UPDATE events SET occurred_at = now() - interval '8 days' WHERE id <= :id"),
            {"id": _row_id(second)},
        )
    assert await prune_events(owner, keep=timedelta(days=7)) == 2
    # when a client that saw only the first catches up
    answer = await gql(EVENTS, {"after": first})
    # then it is told it missed events, rather than handed the third as if complete
    assert answer["errors"][0]["extensions"]["code"] == "EVENTS_EXPIRED"
    assert answer["data"] is None
    # and a client that saw the second misses nothing and goes on as before
    assert [e["id"] for e in await events_after(gql, second)] == [third]
    assert [e["id"] for e in await events_after(gql, None)] == [third]


def _row_id(global_id: str | None) -> int:
    assert global_id is not None
    return decode_id(global_id, "Event")
