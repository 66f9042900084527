"""createLead and updateLead over HTTP: validation, idempotency, omitted versus null."""

import asyncio
from typing import Any

import pytest

from tests.api.operations import (
    CREATE_LEAD,
    codes,
    create_lead,
    list_leads,
    mutate,
    ok,
    read_lead,
    update_lead,
)
from tests.conftest import GraphQLClient


async def _create(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    values = {"name": "Ada Lovelace", "source": "REFERRAL", **fields}
    return await mutate(gql, CREATE_LEAD, "createLead", values)


async def _lead_count(gql: GraphQLClient) -> int:
    count: int = (await list_leads(gql, first=0))["totalCount"]
    return count


async def test_a_new_lead_starts_new_with_clean_data(gql: GraphQLClient) -> None:
    # when a lead is created with padded, mixed-case contact data
    payload = await _create(
        gql,
        name="  Ada Lovelace ",
        company=" Analytical Engines ",
        email=" Ada@Example.COM ",
        phone="+44 (20) 7946-0000",
        businessDomain=" fintech ",
    )

    # then it is NEW at version 1, trimmed, with the e-mail lower-cased
    lead = ok(payload)["lead"]
    assert {k: lead[k] for k in ("name", "company", "email", "phone", "businessDomain")} == {
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "email": "ada@example.com",
        "phone": "+44 (20) 7946-0000",
        "businessDomain": "fintech",
    }
    assert (lead["stage"], lead["version"], lead["messageCount"]) == ("NEW", 1, 0)
    assert lead["source"] == "REFERRAL"
    assert lead["hasBusinessDomain"] is True
    assert lead["lostReason"] is None


@pytest.mark.parametrize("name", ["A", "x" * 200, "Zoë Ünal-李", "O'Brien & Sons"])
async def test_names_up_to_200_characters_are_accepted(gql: GraphQLClient, name: str) -> None:
    payload = await _create(gql, name=name)
    assert ok(payload)["lead"]["name"] == name


INVALID_FIELDS = [
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": "   "}, "name", id="blank-name"),
    pytest.param({"name": "x" * 201}, "name", id="long-name"),
    pytest.param({"name": "Ada\x00Lovelace"}, "name", id="nul-in-name"),
    pytest.param({"name": "Ada\x07"}, "name", id="bell-in-name"),
    pytest.param({"name": "Ada\nLovelace"}, "name", id="newline-in-name"),
    pytest.param({"name": "Ada\x7f"}, "name", id="delete-in-name"),
    pytest.param({"email": "ada"}, "email", id="email-without-at"),
    pytest.param({"email": "ada@example"}, "email", id="email-without-tld"),
    pytest.param({"email": "ada lovelace@example.com"}, "email", id="email-with-space"),
    pytest.param({"email": "a@b@example.com"}, "email", id="email-two-ats"),
    pytest.param({"email": "a" * 250 + "@example.com"}, "email", id="long-email"),
    pytest.param({"phone": "call me"}, "phone", id="phone-letters"),
    pytest.param({"phone": "12"}, "phone", id="phone-too-short"),
    pytest.param({"phone": "1" * 41}, "phone", id="phone-too-long"),
    pytest.param({"company": "c" * 201}, "company", id="long-company"),
    pytest.param({"company": "Acme\x1b[31m"}, "company", id="escape-in-company"),
    pytest.param({"businessDomain": "d" * 101}, "businessDomain", id="long-domain"),
    pytest.param({"businessDomain": "fin\ttech"}, "businessDomain", id="tab-in-domain"),
    pytest.param({"idempotencyKey": "k" * 201}, "idempotencyKey", id="long-key"),
]


@pytest.mark.parametrize(("fields", "at_fault"), INVALID_FIELDS)
async def test_invalid_field_is_refused_with_its_path(
    gql: GraphQLClient, fields: dict[str, str], at_fault: str
) -> None:
    # when a lead is created with one bad field
    payload = await _create(gql, **fields)

    # then that field, and only that field, is named, and no lead exists
    assert payload["lead"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("VALIDATION_FAILED", ["input", at_fault])
    ]
    assert payload["userErrors"][0]["message"]
    assert await _lead_count(gql) == 0


async def test_every_problem_is_reported_at_once(gql: GraphQLClient) -> None:
    # when a lead is created with five bad fields
    payload = await _create(
        gql,
        name=" ",
        email="not-an-email",
        phone="phone",
        company="c" * 201,
        businessDomain="d" * 101,
    )

    # then all five are named in one answer, once each
    assert sorted(e["field"][1] for e in payload["userErrors"]) == [
        "businessDomain",
        "company",
        "email",
        "name",
        "phone",
    ]
    assert set(codes(payload)) == {"VALIDATION_FAILED"}
    assert await _lead_count(gql) == 0


async def test_same_idempotency_key_returns_the_first_lead(gql: GraphQLClient) -> None:
    # given a lead created with a key
    first = ok(await _create(gql, name="First", idempotencyKey="import-42"))["lead"]

    # when the same key is sent again, even with other data
    again = ok(await _create(gql, name="Second", idempotencyKey="import-42"))["lead"]
    other = ok(await _create(gql, name="Third", idempotencyKey="import-43"))["lead"]

    # then the first lead comes back unchanged; only another key makes another lead
    assert again == first
    assert other["id"] != first["id"]
    assert await _lead_count(gql) == 2
    assert len((await read_lead(gql, first["id"]))["stageHistory"]) == 1


async def test_concurrent_retries_with_one_key_make_one_lead(gql: GraphQLClient) -> None:
    # when ten retries of one create arrive at the same moment
    payloads = await asyncio.gather(
        *(_create(gql, name=f"Retry {i}", idempotencyKey="retry-me") for i in range(10))
    )

    # then all ten answer with the same lead, and only one row exists
    ids = {ok(payload)["lead"]["id"] for payload in payloads}
    assert len(ids) == 1
    assert await _lead_count(gql) == 1


async def test_omitted_fields_are_kept(gql: GraphQLClient) -> None:
    # given a lead with every contact field set
    lead = await create_lead(
        gql, company="Acme", email="ada@acme.test", phone="+1 555 0100", businessDomain="fintech"
    )

    # when only the company is changed
    updated = ok(await update_lead(gql, lead["id"], company="Acme Corp"))["lead"]

    # then the company changes, everything else stays, and the version bumps
    assert updated == {
        **lead,
        "company": "Acme Corp",
        "version": 2,
        "updatedAt": updated["updatedAt"],
    }
    assert updated["updatedAt"] != lead["updatedAt"]


async def test_explicit_null_clears_optional_fields(gql: GraphQLClient) -> None:
    # given a lead with every contact field set
    lead = await create_lead(
        gql, company="Acme", email="ada@acme.test", phone="+1 555 0100", businessDomain="fintech"
    )

    # when the optional fields are sent as null
    payload = await update_lead(
        gql, lead["id"], businessDomain=None, company=None, email=None, phone=None
    )

    # then they are cleared, and the lead no longer has a business domain
    updated = ok(payload)["lead"]
    assert (updated["businessDomain"], updated["company"], updated["email"], updated["phone"]) == (
        None,
        None,
        None,
        None,
    )
    assert updated["hasBusinessDomain"] is False
    assert updated["name"] == lead["name"]
    assert (await read_lead(gql, lead["id"]))["hasBusinessDomain"] is False


@pytest.mark.parametrize("name", [None, "", "   "])
async def test_the_name_cannot_be_cleared(gql: GraphQLClient, name: str | None) -> None:
    # given a lead
    lead = await create_lead(gql)
    before = await read_lead(gql, lead["id"])

    # when its name is sent as null or blank
    payload = await update_lead(gql, lead["id"], name=name)

    # then the name is at fault and nothing changes
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("VALIDATION_FAILED", ["input", "name"])
    ]
    assert await read_lead(gql, lead["id"]) == before


async def test_update_reports_every_bad_field_and_changes_nothing(gql: GraphQLClient) -> None:
    # given a lead
    lead = await create_lead(gql, company="Acme")
    before = await read_lead(gql, lead["id"])

    # when an update carries one good and two bad fields
    payload = await update_lead(gql, lead["id"], company="Acme Corp", email="nope", phone="x")

    # then both bad fields are named and even the good one is not applied
    assert sorted(e["field"][1] for e in payload["userErrors"]) == ["email", "phone"]
    assert await read_lead(gql, lead["id"]) == before


async def test_an_update_without_changes_keeps_the_version(gql: GraphQLClient) -> None:
    # given a lead
    lead = await create_lead(gql)

    # when an update names no field at all
    payload = await update_lead(gql, lead["id"])

    # then the lead comes back as it was
    assert ok(payload)["lead"] == lead


async def test_updating_a_missing_lead_is_not_found(gql: GraphQLClient) -> None:
    payload = await update_lead(gql, "TGVhZDo0MjQy", name="Nobody")  # Lead:4242
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_FOUND", ["input", "leadId"])
    ]
