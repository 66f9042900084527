"""changeLeadStage over HTTP: every (from, to) pair of LeadStage, and the audit trail."""

import itertools

import pytest

from tests.api.operations import (
    change_stage,
    codes,
    create_lead,
    moment,
    ok,
    read_lead,
    record_message,
    update_lead,
)
from tests.conftest import TEST_ADMIN_EMAIL, GraphQLClient, UserClient
from tests.factories import lead_at_stage

STAGES = ("NEW", "CONTACTED", "QUALIFIED", "TRANSFERRED", "LOST")
FINAL = ("TRANSFERRED", "LOST")
ALLOWED = {
    ("NEW", "CONTACTED"),
    ("CONTACTED", "QUALIFIED"),
    ("NEW", "LOST"),
    ("CONTACTED", "LOST"),
    ("QUALIFIED", "LOST"),
}
ACTOR = TEST_ADMIN_EMAIL  # the authenticated user is the actor
REASON = "Chose a competitor"


def _refusal(source: str) -> str:
    return "IMMUTABLE" if source in FINAL else "INVALID_TRANSITION"


ALLOWED_PAIRS = sorted(ALLOWED)
REFUSED_PAIRS = [
    (source, target, _refusal(source))
    for source, target in itertools.product(STAGES, STAGES)
    if (source, target) not in ALLOWED
]


def _reason_for(target: str) -> str | None:
    return REASON if target == "LOST" else None


@pytest.mark.parametrize(("source", "target"), ALLOWED_PAIRS)
async def test_allowed_change_moves_the_lead_and_records_it(
    gql: GraphQLClient, source: str, target: str
) -> None:
    # given a lead in the source stage
    lead = await lead_at_stage(gql, source)
    before = await read_lead(gql, lead["id"])

    # when a person moves it to the target stage
    payload = await change_stage(gql, lead["id"], target, reason=_reason_for(target))

    # then it moves, its version bumps by one and the history gains exactly this change
    changed = ok(payload)["lead"]
    assert changed["stage"] == target
    assert changed["version"] == before["version"] + 1
    assert moment(changed["updatedAt"]) > moment(before["updatedAt"])
    assert changed["lostReason"] == _reason_for(target)
    after = await read_lead(gql, lead["id"])
    assert after["stage"] == target
    assert after["stageHistory"][:-1] == before["stageHistory"]
    newest = after["stageHistory"][-1]
    assert {k: newest[k] for k in ("fromStage", "toStage", "actor", "reason")} == {
        "fromStage": source,
        "toStage": target,
        "actor": ACTOR,
        "reason": _reason_for(target),
    }


@pytest.mark.parametrize(("source", "target", "code"), REFUSED_PAIRS)
async def test_refused_change_leaves_the_lead_as_it_was(
    gql: GraphQLClient, source: str, target: str, code: str
) -> None:
    # given a lead in the source stage
    lead = await lead_at_stage(gql, source)
    before = await read_lead(gql, lead["id"])

    # when a person asks for a change the rules do not allow
    payload = await change_stage(gql, lead["id"], target, reason=_reason_for(target))

    # then it is refused with the rule's code, and nothing about the lead changed
    assert payload["lead"] is None
    assert codes(payload) == [code]
    if code == "INVALID_TRANSITION":
        assert payload["userErrors"][0]["field"] == ["input", "stage"]
    assert await read_lead(gql, lead["id"]) == before


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize("source", ["NEW", "CONTACTED", "QUALIFIED"])
async def test_lost_needs_a_reason(gql: GraphQLClient, source: str, reason: str | None) -> None:
    # given an open lead
    lead = await lead_at_stage(gql, source)
    before = await read_lead(gql, lead["id"])

    # when it is marked LOST without a real reason
    payload = await change_stage(gql, lead["id"], "LOST", reason=reason)

    # then the reason field is at fault and the lead stays open
    assert codes(payload) == ["VALIDATION_FAILED"]
    assert payload["userErrors"][0]["field"] == ["input", "reason"]
    assert await read_lead(gql, lead["id"]) == before


async def test_the_whole_path_is_recorded_in_order(gql: GraphQLClient, gql_as: UserClient) -> None:
    # given a lead created by the tests' admin
    lead = await create_lead(gql)
    bob, carol, dave = [await gql_as(f"{name}@example.com") for name in ("bob", "carol", "dave")]

    # when two people move it along and a third marks it lost
    ok(await change_stage(bob, lead["id"], "CONTACTED"))
    ok(await change_stage(carol, lead["id"], "QUALIFIED"))
    ok(await change_stage(dave, lead["id"], "LOST", reason="  Budget cut  "))

    # then the history lists every change, oldest first, with who did it and why
    after = await read_lead(gql, lead["id"])
    history = [
        (h["fromStage"], h["toStage"], h["actor"], h["reason"]) for h in after["stageHistory"]
    ]
    assert history == [
        (None, "NEW", TEST_ADMIN_EMAIL, None),
        ("NEW", "CONTACTED", "bob@example.com", None),
        ("CONTACTED", "QUALIFIED", "carol@example.com", None),
        ("QUALIFIED", "LOST", "dave@example.com", "Budget cut"),
    ]
    moments = [moment(h["at"]) for h in after["stageHistory"]]
    assert moments == sorted(moments)
    assert after["version"] == 4
    assert after["lostReason"] == "Budget cut"


async def test_a_lost_lead_refuses_every_edit(gql: GraphQLClient) -> None:
    # given a lost lead
    lead = await lead_at_stage(gql, "LOST")
    before = await read_lead(gql, lead["id"])

    # when someone edits it or logs a message with it
    edited = await update_lead(gql, lead["id"], name="Someone else")
    messaged = await record_message(gql, lead["id"])

    # then both are refused as IMMUTABLE and the lead is untouched
    assert codes(edited) == ["IMMUTABLE"]
    assert codes(messaged) == ["IMMUTABLE"]
    assert await read_lead(gql, lead["id"]) == before


async def test_unknown_or_foreign_ids_are_refused(gql: GraphQLClient) -> None:
    # given a lead, so that id 1 exists, and ids that name nothing or something else
    await create_lead(gql)
    missing_lead = "TGVhZDo5OTk5OTk"  # Lead:999999
    a_sale = "U2FsZTox"  # Sale:1

    # when a stage change names them
    missing = await change_stage(gql, missing_lead, "CONTACTED")
    wrong_type = await change_stage(gql, a_sale, "CONTACTED")

    # then the leadId field is at fault
    assert codes(missing) == ["NOT_FOUND"]
    assert missing["userErrors"][0]["field"] == ["input", "leadId"]
    assert codes(wrong_type) == ["VALIDATION_FAILED"]
    assert wrong_type["userErrors"][0]["field"] == ["input", "leadId"]
