"""Build leads, sales and closed history in a wanted state through the public API, as a
person would.

Nothing here writes to the database directly: every row is made by the mutations the
service offers, so a factory never produces a state the rules would not allow.
"""

import asyncio
import itertools
from typing import Any

from domain.outcomes import in_held_out_split
from tests.api.operations import (
    Json,
    advance,
    analyze,
    change_sale_stage,
    create_lead,
    database_id,
    ok,
    read_lead,
    record_message,
    transfer,
)
from tests.conftest import GraphQLClient

SALE_PATH = ("NEW", "KYC", "AGREEMENT", "PAID")

# The heuristic scores this lead about 0.79: partner source, qualified, 12 messages, domain.
ELIGIBLE_LEAD: dict[str, Any] = {"source": "PARTNER", "businessDomain": "fintech"}
ELIGIBLE_MESSAGES = 12


async def record_messages(gql: GraphQLClient, lead_id: str, count: int) -> None:
    """`count` inbound messages, sent concurrently (the lead's row lock orders them)."""
    payloads = await asyncio.gather(*(record_message(gql, lead_id) for _ in range(count)))
    for payload in payloads:
        ok(payload)


async def lead_at_stage(gql: GraphQLClient, stage: str, **fields: Any) -> Json:
    """A lead in `stage`; a TRANSFERRED one is made eligible and really transferred."""
    if stage == "TRANSFERRED":
        lead, _sale = await transferred_lead(gql, **fields)
        return lead
    lead = await create_lead(gql, **fields)
    if stage == "NEW":
        return lead
    return await advance(gql, lead["id"], stage)


async def eligible_lead(
    gql: GraphQLClient, *, messages: int = ELIGIBLE_MESSAGES, **fields: Any
) -> Json:
    """A QUALIFIED lead with a business domain, `messages` messages and a fresh analysis:
    with the defaults every transfer gate is met."""
    lead = await create_lead(gql, **{**ELIGIBLE_LEAD, **fields})
    await record_messages(gql, lead["id"], messages)
    await advance(gql, lead["id"], "QUALIFIED")
    ok(await analyze(gql, lead["id"]))
    return await read_lead(gql, lead["id"])


async def transferred_lead(gql: GraphQLClient, **fields: Any) -> tuple[Json, Json]:
    """An eligible lead handed to sales: (the TRANSFERRED lead, its NEW sale)."""
    lead = await eligible_lead(gql, **fields)
    payload = ok(await transfer(gql, lead["id"]))
    return payload["lead"], payload["sale"]


async def sale_at_stage(
    gql: GraphQLClient, stage: str, *, amount: str = "1250.00", currency: str = "EUR"
) -> Json:
    """A sale moved one step at a time to `stage`; the amount is given on the way to PAID."""
    # One message already lifts the lead over the threshold (about 0.65); fewer writes.
    _lead, sale = await transferred_lead(gql, messages=1)
    for step in SALE_PATH[1 : SALE_PATH.index(stage) + 1]:
        money = {"amount": amount, "currency": currency} if step == "PAID" else {}
        sale = ok(await change_sale_stage(gql, sale["id"], step, **money))["sale"]
    return sale


_HISTORY_IMPORT = """
mutation($csv: String!) {
  importLeads(input: {csv: $csv}) { report { created } userErrors { message } }
}"""
_NEWEST_LEAD = "{ leads(first: 1) { edges { node { id } } } }"  # newest first by default
_HISTORY_HEADER = "name,source,business_domain,message_count,stage,outcome,closed_at,amount"


async def closed_history(gql: GraphQLClient, *, wins: int, losses: int) -> int:
    """Closed leads brought in as history (importLeads, one lead per import, as each must
    be checked against the held-out split), until `wins` won and `losses` lost ones fall
    outside that split; returns how many closed leads training may use. Won leads are
    partner leads with a domain, lost ones cold outreach lost at CONTACTED."""
    trainable = {True: 0, False: 0}
    while trainable[True] < wins or trainable[False] < losses:
        won = trainable[True] < wins
        lead_id = await _imported(gql, won=won)
        if not in_held_out_split(lead_id):
            trainable[won] += 1
    return wins + losses


_history_numbers = itertools.count(1)  # each imported row differs, so none is UNCHANGED


async def _imported(gql: GraphQLClient, *, won: bool) -> int:
    name = f"History {next(_history_numbers)}"
    row = (
        f"{name},partner,fintech,8,,won,,1000.00"
        if won
        else f"{name},cold_outreach,,1,contacted,lost,,"
    )
    data = await gql.data(_HISTORY_IMPORT, {"csv": f"{_HISTORY_HEADER}\n{row}\n"})
    report = data["importLeads"]["report"]
    assert report["created"] == 1, data
    newest = await gql.data(_NEWEST_LEAD)
    return database_id(newest["leads"]["edges"][0]["node"]["id"])
