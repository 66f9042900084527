"""Hostile input that used to slip past the checks: odd Unicode, calendar-edge moments,
tampered cursors and non-canonical IDs. Each is refused with a clear error, never a
masked INTERNAL from the database, and nothing odd is stored.
"""

import base64
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from domain.global_ids import to_global_id
from services.validation import Checks, field_path
from tests.api.operations import (
    CHANGE_LEAD_STAGE,
    CHANGE_SALE_STAGE,
    CREATE_LEAD,
    RECORD_LEAD_MESSAGE,
    UPDATE_LEAD,
    Json,
    create_lead,
    database_id,
    mutate,
)
from tests.conftest import GraphQLClient

# ---------------------------------------------------------------- Unicode in text input


@dataclass(frozen=True)
class TextCase:
    id: str
    field: str
    value: str
    message: str = ""  # empty: the value is accepted and stored verbatim


def _lead_text(field: str, value: str) -> tuple[str, str, Json]:
    if field == "reason":
        return CHANGE_LEAD_STAGE, "changeLeadStage", {"stage": "LOST", "reason": value}
    if field in ("text", "channel"):
        return RECORD_LEAD_MESSAGE, "recordLeadMessage", {"direction": "INBOUND", field: value}
    return UPDATE_LEAD, "updateLead", {field: value}


CONTROL = "Control characters are not allowed"
INVISIBLE = "Invisible formatting characters are not allowed"
LAYOUT = "Line breaks and tabs are not allowed"
VISIBLE = "at least one visible character"

TEXT_CASES = [
    TextCase("C1 control (CSI)", "name", "Ada\x9b31mLovelace", f"{CONTROL} (found U+009B)"),
    TextCase("next line (NEL)", "company", "Acme\x85Corp", f"{CONTROL} (found U+0085)"),
    TextCase("line separator", "company", "Acme\u2028Corp", f"{CONTROL} (found U+2028)"),
    TextCase("paragraph separator in free text", "reason", "No\u2029budget", CONTROL),
    TextCase("right-to-left override", "name", "Ada\u202eecalevoL", f"{INVISIBLE} (found U+202E)"),
    TextCase("bidi isolate", "company", "Acme \u2067Corp\u2069", f"{INVISIBLE} (found U+2067)"),
    TextCase("left-to-right mark", "businessDomain", "fin\u200etech", INVISIBLE),
    TextCase("right-to-left mark", "channel", "email\u200f", INVISIBLE),
    TextCase("zero-width space", "name", "Ada\u200bLovelace", f"{INVISIBLE} (found U+200B)"),
    TextCase("word joiner", "company", "Acme\u2060", INVISIBLE),
    TextCase("invisible times", "company", "Acme\u2062Corp", INVISIBLE),
    TextCase("byte order mark", "name", "\ufeffAda", f"{INVISIBLE} (found U+FEFF)"),
    TextCase("zero-width space only", "name", "\u200b", INVISIBLE),
    TextCase("joiners only", "name", "\u200c\u200d", VISIBLE),
    TextCase("joiners only in a channel", "channel", " \u200d ", VISIBLE),
    TextCase("bidi override in a message", "text", "Hi \u202eevil", INVISIBLE),
    TextCase("escape in a message", "text", "Hi \x1b[31mred", f"{CONTROL} (found U+001B)"),
    TextCase("line break in a one-line field", "name", "Ada\nLovelace", f"{LAYOUT}"),
    TextCase("tab in a one-line field", "company", "Acme\tCorp", f"{LAYOUT} in this field"),
    TextCase("emoji with zero-width joiner", "name", "Ada \U0001f469\u200d\U0001f4bb"),
    TextCase("Persian with zero-width non-joiner", "name", "\u0645\u06cc\u200c\u0631\u0648\u0645"),
    TextCase("Hindi with joiners", "company", "\u0915\u094d\u200d\u0937"),
    TextCase("right-to-left script", "company", "\u05e9\u05dc\u05d5\u05dd"),
    TextCase("lines and tabs in a reason", "reason", "No budget\r\n\tmaybe next year"),
    TextCase("lines and tabs in a message", "text", "Hello,\n\n\tsee you"),
    TextCase("non-breaking space inside", "name", "Ada\u00a0Lovelace"),
]


@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda case: case.id)
async def test_text_input_refuses_invisible_and_control_characters(
    gql: GraphQLClient, case: TextCase
) -> None:
    # given an open lead
    lead = await create_lead(gql, company="Before", businessDomain="before")
    # when one of its text fields is sent with the case's value
    operation, name, fields = _lead_text(case.field, case.value)
    payload = await mutate(gql, operation, name, {"leadId": lead["id"], **fields})
    if case.message:
        # then it is a VALIDATION_FAILED userError at that field, and nothing changed
        [error] = payload["userErrors"]
        assert (error["code"], error["field"]) == ("VALIDATION_FAILED", ["input", case.field])
        assert case.message in error["message"], error
        assert payload["lead"] is None
        after = await gql.data(
            "query($id: ID!) { lead(id: $id) { name company businessDomain stage lostReason "
            "messages { edges { node { id } } } } }",
            {"id": lead["id"]},
        )
        assert after["lead"] == {
            "name": "Ada Lovelace",
            "company": "Before",
            "businessDomain": "before",
            "stage": "NEW",
            "lostReason": None,
            "messages": {"edges": []},
        }
    else:
        # then it is stored exactly as sent
        assert payload["userErrors"] == []
        assert case.value in str(await _stored_text(gql, lead["id"], case.field))


async def _stored_text(gql: GraphQLClient, lead_id: str, field: str) -> Any:
    data = await gql.data(
        "query($id: ID!) { lead(id: $id) { name company businessDomain lostReason "
        "messages { edges { node { text channel } } } } }",
        {"id": lead_id},
    )
    lead = data["lead"]
    if field == "reason":
        return lead["lostReason"]
    if field in ("text", "channel"):
        [edge] = lead["messages"]["edges"]
        return edge["node"][field]
    return lead[field]


async def test_a_new_lead_whose_name_shows_nothing_is_refused(gql: GraphQLClient) -> None:
    # when createLead gets a name of joiners only
    body = await gql.data(CREATE_LEAD, {"input": {"name": "\u200d", "source": "PARTNER"}})
    # then the name is refused and no lead exists
    payload = body["createLead"]
    assert payload["lead"] is None
    assert payload["userErrors"] == [
        {
            "code": "VALIDATION_FAILED",
            "field": ["input", "name"],
            "message": "This field must contain at least one visible character.",
        }
    ]
    assert (await gql.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("value", "multiline", "message"),
    [
        ("a\ud800b", False, "Control characters are not allowed (found U+D800)."),
        ("a\udfffb", True, "Control characters are not allowed (found U+DFFF)."),
        ("a\u2029b", True, "Control characters are not allowed (found U+2029)."),
        ("a\x00b", True, "Control characters are not allowed (found U+0000)."),
    ],
)
def test_lone_surrogates_and_separators_are_refused_even_in_free_text(
    value: str, multiline: bool, message: str
) -> None:
    # given text no JSON or GraphQL parser lets through, but a caller in Python might pass
    checks = Checks()
    # when it is checked
    checks.text(value, field_path("text"), max_length=100, multiline=multiline)
    # then it is refused, naming the character
    assert [problem.message for problem in checks.problems] == [message]


# ---------------------------------------------------------------- DateTime filters at the edges

OUT_OF_UTC = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("connection", ["leads", "sales"])
@pytest.mark.parametrize("field", ["createdAfter", "createdBefore"])
@pytest.mark.parametrize("value", OUT_OF_UTC)
async def test_a_filter_moment_past_the_utc_calendar_is_a_bad_request(
    gql: GraphQLClient, connection: str, field: str, value: str
) -> None:
    # when a list is filtered by a moment that falls before year 1 or after 9999 in UTC
    body = await gql(
        f"query($at: DateTime) {{ {connection}(filter: {{{field}: $at}}) {{ totalCount }} }}",
        {"at": value},
    )
    # then the error names the filter field and is the client's to fix
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert f"`filter.{field}` is out of range" in error["message"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+00:00"])
async def test_a_filter_moment_at_the_calendar_edge_in_utc_is_fine(
    gql: GraphQLClient, value: str
) -> None:
    # given a lead
    await create_lead(gql)
    # when leads are filtered from the first moment UTC can hold
    data = await gql.data(
        "query($at: DateTime) { leads(filter: {createdAfter: $at}) { totalCount } }",
        {"at": value},
    )
    # then the filter applies
    assert data["leads"]["totalCount"] == 1


# ---------------------------------------------------------------- tampered cursors


def cursor(*parts: Any) -> str:
    """A cursor built by hand, the way a client could forge one."""
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


LEADS_AFTER = "query($after: String) { leads(after: $after) { totalCount } }"
SALES_AFTER = (
    "query($after: String) { sales(orderBy: {field: AMOUNT}, after: $after) { totalCount } }"
)
MESSAGES_AFTER = (
    "query($id: ID!, $after: String) "
    "{ lead(id: $id) { messages(after: $after) { edges { cursor } } } }"
)
SCORES_AFTER = (
    "query($after: String) { leads(orderBy: {field: SCORE}, after: $after) { totalCount } }"
)


@dataclass(frozen=True)
class CursorCase:
    id: str
    query: str
    ordering: str
    value: str

    def forged(self) -> str:
        key = "d" if self.ordering == "sale:amount" else "t"
        return cursor(self.ordering, {key: self.value}, 5)


BEFORE_YEAR_1 = "0001-01-01T00:00:00+14:00"
AFTER_9999 = "9999-12-31T23:59:59-14:00"

FORGED_CURSORS = [
    CursorCase("leads, moment before year 1", LEADS_AFTER, "lead:created_at", BEFORE_YEAR_1),
    CursorCase("leads, moment after 9999", LEADS_AFTER, "lead:created_at", AFTER_9999),
    CursorCase("leads by update, after 9999", LEADS_AFTER, "lead:updated_at", AFTER_9999),
    CursorCase("messages, moment before year 1", MESSAGES_AFTER, "message", BEFORE_YEAR_1),
    CursorCase("messages, moment after 9999", MESSAGES_AFTER, "message", AFTER_9999),
    CursorCase("sales, a million digits", SALES_AFTER, "sale:amount", "1e999999"),
    CursorCase("sales, 10**12", SALES_AFTER, "sale:amount", "1000000000000"),
    CursorCase("sales, below -10**12", SALES_AFTER, "sale:amount", "-1000000000000.00"),
    CursorCase("sales, 3 decimals", SALES_AFTER, "sale:amount", "1.005"),
    CursorCase("sales, a tiny exponent", SALES_AFTER, "sale:amount", "1e-999999"),
    CursorCase("sales, infinity", SALES_AFTER, "sale:amount", "Infinity"),
]

EDGE_CURSORS = [
    CursorCase("leads, start of year 1", LEADS_AFTER, "lead:created_at", "0001-01-01T14:00+14:00"),
    CursorCase("leads, end of 9999", LEADS_AFTER, "lead:created_at", "9999-12-31T09:59-14:00"),
    CursorCase("messages, far east offset", MESSAGES_AFTER, "message", "2024-05-01T12:00:00+14:00"),
    CursorCase("sales, largest amount", SALES_AFTER, "sale:amount", "999999999999.99"),
    CursorCase("sales, no amount", SALES_AFTER, "sale:amount", "-1"),
    CursorCase("sales, trailing zero", SALES_AFTER, "sale:amount", "1.500"),
]  # fmt: skip


@pytest.mark.parametrize("case", FORGED_CURSORS, ids=lambda case: case.id)
async def test_a_cursor_holding_what_the_database_cannot_is_not_a_valid_cursor(
    gql: GraphQLClient, case: CursorCase
) -> None:
    # given a lead (for its messages)
    lead = await create_lead(gql)
    # when a page is asked for after a forged cursor
    body = await gql(case.query, {"after": case.forged(), "id": lead["id"]})
    # then the cursor is refused as a client mistake
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert "is not a valid cursor" in error["message"]


@pytest.mark.parametrize("case", EDGE_CURSORS, ids=lambda case: case.id)
async def test_a_cursor_at_the_edge_of_the_range_still_pages(
    gql: GraphQLClient, case: CursorCase
) -> None:
    # given a lead
    lead = await create_lead(gql)
    # when a page is asked for after a hand-built cursor the database can compare with
    body = await gql(case.query, {"after": case.forged(), "id": lead["id"]})
    # then the page is served
    assert "errors" not in body, body["errors"]


async def test_a_score_cursor_must_be_a_finite_number(gql: GraphQLClient) -> None:
    # when a score cursor holds a number no float can (JSON has no infinity)
    body = await gql(SCORES_AFTER, {"after": cursor("lead:score", 1e308, 5)})
    assert "errors" not in body
    forged = base64.urlsafe_b64encode(b'["lead:score", 1e999, 5]').decode()
    body = await gql(SCORES_AFTER, {"after": forged})
    # then it is not a valid cursor
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "is not a valid cursor" in error["message"]


# ---------------------------------------------------------------- canonical global IDs


def raw_id(text: str) -> str:
    """An ID of hand-made content, in base64 like the API's own."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _digits(row: int, zero: str) -> str:
    return "".join(chr(ord(zero) + int(digit)) for digit in str(row))


# Other spellings of lead `row` (or near it) that this API never issues.
NON_CANONICAL_IDS = {
    "space before the number": lambda row: raw_id(f"Lead: {row}"),
    "underscore in the number": lambda row: raw_id(f"Lead:{row}_0"),
    "plus sign": lambda row: raw_id(f"Lead:+{row}"),
    "leading zero": lambda row: raw_id(f"Lead:0{row}"),
    "trailing newline": lambda row: raw_id(f"Lead:{row}\n"),
    "Arabic-Indic digits": lambda row: raw_id("Lead:" + _digits(row, "\u0660")),
    "fullwidth digits": lambda row: raw_id("Lead:" + _digits(row, "\uff10")),
    "2**63": lambda row: raw_id(f"Lead:{2**63}"),
    "twenty digits": lambda row: raw_id(f"Lead:{row:020d}"),
    "stray bits in the last base64 character": lambda row: raw_id(f"Lead:{row}0")[:-1] + "h",
    "junk after the base64": lambda row: to_global_id("Lead", row) + "!",
    "junk inside the base64": lambda row: "!" + to_global_id("Lead", row),
}
ID_CASES = pytest.mark.parametrize("spelling", NON_CANONICAL_IDS.values(), ids=NON_CANONICAL_IDS)


@ID_CASES
@pytest.mark.parametrize("root_field", ["lead", "node"])
async def test_a_query_refuses_an_id_this_api_never_issued(
    gql: GraphQLClient, spelling: Any, root_field: str
) -> None:
    # given a lead
    lead = await create_lead(gql)
    # when it is looked up by another spelling of its ID
    forged = spelling(database_id(lead["id"]))
    body = await gql(f"query($id: ID!) {{ {root_field}(id: $id) {{ id }} }}", {"id": forged})
    # then the ID is refused, not resolved to a row
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert error["message"] == f"{forged!r} is not a valid ID."


@ID_CASES
async def test_a_mutation_refuses_an_id_this_api_never_issued(
    gql: GraphQLClient, spelling: Any
) -> None:
    # given a lead
    lead = await create_lead(gql)
    # when a mutation names it by another spelling of its ID
    forged = spelling(database_id(lead["id"]))
    payload = await mutate(gql, UPDATE_LEAD, "updateLead", {"leadId": forged, "name": "Eve"})
    # then it is a userError at leadId, and the lead is untouched
    assert payload == {
        "lead": None,
        "userErrors": [
            {
                "code": "VALIDATION_FAILED",
                "field": ["input", "leadId"],
                "message": f"{forged!r} is not a valid ID.",
            }
        ],
    }
    unchanged = await gql.data("query($id: ID!) { lead(id: $id) { name } }", {"id": lead["id"]})
    assert unchanged["lead"]["name"] == "Ada Lovelace"


async def test_a_mutation_given_an_id_of_another_type_says_which_type_it_wanted(
    gql: GraphQLClient,
) -> None:
    # given a lead, and the Sale ID and Lead ID of its row
    lead = await create_lead(gql)
    sale_id = to_global_id("Sale", database_id(lead["id"]))
    # when each is passed where the other type belongs
    lead_payload = await mutate(gql, UPDATE_LEAD, "updateLead", {"leadId": sale_id, "name": "E"})
    sale_payload = await mutate(
        gql, CHANGE_SALE_STAGE, "changeSaleStage", {"saleId": lead["id"], "stage": "KYC"}
    )
    # then each says what it expected, at the field
    assert lead_payload["userErrors"] == [
        {
            "code": "VALIDATION_FAILED",
            "field": ["input", "leadId"],
            "message": "Expected a Lead ID, got a Sale ID.",
        }
    ]
    assert sale_payload["userErrors"] == [
        {
            "code": "VALIDATION_FAILED",
            "field": ["input", "saleId"],
            "message": "Expected a Sale ID, got a Lead ID.",
        }
    ]


@pytest.mark.parametrize("row", [1, 42, 2**63 - 1])
async def test_the_ids_this_api_issues_are_accepted(gql: GraphQLClient, row: int) -> None:
    # when a lead is looked up by an ID in the API's own form (found or not)
    body = await gql("query($id: ID!) { lead(id: $id) { id } }", {"id": to_global_id("Lead", row)})
    # then there is no error
    assert body == {"data": {"lead": None}}
