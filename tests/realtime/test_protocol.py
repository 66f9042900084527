"""The graphql-transport-ws protocol as graphql-ws clients expect it, and who may subscribe."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import text

from db.database import open_database
from domain.access import Role
from domain.global_ids import to_global_id
from services.retention import prune_events
from tests.api.operations import create_lead, database_id
from tests.conftest import GraphQLClient, LiveServer, UserClient
from tests.factories import transferred_lead
from tests.realtime.conftest import Client, Connect

LEAD_STAGES = "subscription($leadId: ID) { leadStageChanged(leadId: $leadId) { eventId } }"
ConnectTo = Callable[..., Awaitable[Client]]


def key_of(client: GraphQLClient) -> str:
    return str(client.http.headers["Authorization"]).removeprefix("Bearer ")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer crm_000000000000_notakeyatall"},
        {"Authorization": "crm_without_the_bearer_scheme"},
        {"Authorization": 42},
    ],
    ids=["missing", "unknown key", "no Bearer", "not a string"],
)
async def test_a_missing_or_bad_credential_is_closed_4403(
    connect_ws: Connect, payload: dict[str, object]
) -> None:
    # given a socket that was not initialised yet
    client = await connect_ws(key=None)
    # when its connection_init carries no valid credential
    await client.send({"type": "connection_init", "payload": payload})
    # then the server closes it as forbidden, without an ack
    closed = await client.closed()
    assert closed.code == 4403


async def test_the_credential_may_be_spelled_in_lower_case(
    connect_ws: Connect, admin_key: str
) -> None:
    client = await connect_ws(key=None)
    assert await client.init(admin_key, field="authorization") == {"type": "connection_ack"}


async def test_subscribing_before_the_ack_is_closed_4401(connect_ws: Connect) -> None:
    # given a socket that has not sent connection_init
    client = await connect_ws(key=None)
    # when it subscribes
    await client.subscribe(LEAD_STAGES, confirm=False)
    # then it is closed as unauthorized
    assert (await client.closed()).code == 4401


async def test_no_connection_init_in_time_is_closed_4408(
    realtime_server: Callable[..., Awaitable[LiveServer]], connect_to: ConnectTo
) -> None:
    # given a server that waits 0.3 s for connection_init
    server = await realtime_server(connection_init_timeout_seconds=0.3)
    # when a client connects and says nothing
    client = await connect_to(server)
    # then it is closed with the init timeout code
    assert (await client.closed()).code == 4408


async def test_a_second_connection_init_is_closed_4429(connect_ws: Connect, admin_key: str) -> None:
    client = await connect_ws()
    await client.send({"type": "connection_init", "payload": {"Authorization": admin_key}})
    assert (await client.closed()).code == 4429


async def test_an_id_already_subscribed_is_closed_4409(connect_ws: Connect) -> None:
    # given a running subscription
    client = await connect_ws()
    await client.subscribe(LEAD_STAGES, id="same")
    # when another subscribe uses its id
    await client.subscribe(LEAD_STAGES, id="same", confirm=False)
    # then the socket is closed, naming the id
    closed = await client.closed()
    assert (closed.code, closed.reason) == (4409, "Subscriber for same already exists")


async def test_a_completed_id_may_be_used_again(gql: GraphQLClient, connect_ws: Connect) -> None:
    # given a subscription the client completed
    client = await connect_ws()
    await client.subscribe(LEAD_STAGES, id="again")
    await client.send({"id": "again", "type": "complete"})
    # when it subscribes again with the same id and a lead is created
    await client.subscribe(LEAD_STAGES, id="again")
    await create_lead(gql)
    # then the new subscription gets it, once
    message = await client.receive()
    assert (message["id"], message["type"]) == ("again", "next")


@pytest.mark.parametrize(
    "protocols", [["graphql-ws"], [], ["graphql-transport-wss"]], ids=["legacy", "none", "other"]
)
async def test_any_subprotocol_but_graphql_transport_ws_is_refused_4406(
    connect_ws: Connect, protocols: list[str]
) -> None:
    client = await connect_ws(key=None, protocols=protocols)
    assert (await client.closed()).code == 4406


@pytest.mark.parametrize(
    "message",
    [
        {
            "type": "subscribe",
            "payload": {"query": "subscription { pipelineUpdated { paidAmount } }"},
        },
        {"id": "1", "type": "subscribe", "payload": {"variables": {}}},
        {"id": "1", "type": "subscribe", "payload": {"query": "{ me { id } }", "variables": []}},
        {"id": "", "type": "complete"},
        {"type": "whatever"},
        {"kind": "connection_init"},
        ["not", "an", "object"],
    ],
    ids=["no id", "no query", "bad variables", "empty id", "unknown type", "no type", "array"],
)
async def test_an_invalid_message_is_closed_4400(connect_ws: Connect, message: object) -> None:
    client = await connect_ws()
    await client.ws.send(orjson.dumps(message).decode())
    assert (await client.closed()).code == 4400


async def test_a_binary_or_non_json_message_is_closed_4400(connect_ws: Connect) -> None:
    binary = await connect_ws()
    await binary.ws.send(b'{"type": "ping"}')
    garbage = await connect_ws()
    await garbage.ws.send("{not json")
    assert (await binary.closed()).code == 4400
    assert (await garbage.closed()).code == 4400


async def test_a_ping_is_answered_with_a_pong(connect_ws: Connect) -> None:
    client = await connect_ws()
    await client.send({"type": "ping", "payload": {"at": 1}})
    assert await client.receive() == {"type": "pong", "payload": {"at": 1}}


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_may_subscribe_even_a_viewer(
    gql: GraphQLClient, gql_as: UserClient, connect_ws: Connect, role: Role
) -> None:
    # given a user of the role, subscribed to lead stage changes
    user = await gql_as(f"watcher-{role.value}@example.com", role)
    client = await connect_ws(key=key_of(user))
    subscription = await client.subscribe(LEAD_STAGES)
    # when a lead is created; then it is delivered to them
    await create_lead(gql)
    event = await client.next_data(subscription)
    assert event["leadStageChanged"]["eventId"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"leadId": "not-an-id"}, "`leadId`: 'not-an-id' is not a valid ID."),
        ({"leadId": "U2FsZToy"}, "`leadId`: Expected a Lead ID, got a Sale ID."),
    ],
    ids=["malformed", "another type"],
)
async def test_a_bad_filter_id_is_an_error_message(
    connect_ws: Connect, variables: dict[str, str], expected: str
) -> None:
    # given a client; when it subscribes with a filter ID that names no lead
    client = await connect_ws()
    subscription = await client.subscribe(LEAD_STAGES, variables)
    # then the subscription is refused with an error saying what is wrong, and the
    # connection stays open for others
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    [error] = message["payload"]
    assert error["message"] == expected
    assert error["extensions"]["code"] == "BAD_REQUEST"
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}


async def test_a_sale_filter_refuses_a_lead_id(gql: GraphQLClient, connect_ws: Connect) -> None:
    lead, _sale = await transferred_lead(gql, messages=1)
    client = await connect_ws()
    subscription = await client.subscribe(
        "subscription($id: ID) { saleStageChanged(saleId: $id) { eventId } }", {"id": lead["id"]}
    )
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    assert message["payload"][0]["message"] == "`saleId`: Expected a Sale ID, got a Lead ID."


async def test_an_invalid_document_is_an_error_message(connect_ws: Connect) -> None:
    client = await connect_ws()
    subscription = await client.subscribe("subscription { leadStageChanged { noSuchField } }")
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "noSuchField" in message["payload"][0]["message"]


async def test_subscriptions_past_the_connection_limit_get_an_error(
    realtime_server: Callable[..., Awaitable[LiveServer]],
    connect_to: ConnectTo,
    admin_key: str,
    gql: GraphQLClient,
) -> None:
    # given a server that allows two subscriptions per connection, and a client using both
    server = await realtime_server(max_subscriptions_per_connection=2)
    client = await connect_to(server, key=admin_key)
    first = await client.subscribe(LEAD_STAGES)
    await client.subscribe(LEAD_STAGES)
    # when it subscribes a third time
    third = await client.subscribe(LEAD_STAGES)
    # then the third gets an error, and the first two still work
    message = await client.receive()
    assert (message["id"], message["type"]) == (third, "error")
    assert message["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    await create_lead(gql)
    received = {(await client.receive())["id"] for _ in range(2)}
    assert first in received
    assert len(received) == 2
    # and once one is completed, a new one fits
    await client.send({"id": first, "type": "complete"})
    fourth = await client.subscribe(LEAD_STAGES)
    await create_lead(gql)
    ids = {(await client.receive())["id"] for _ in range(2)}
    assert fourth in ids
    assert first not in ids


@pytest.mark.parametrize(
    "query",
    [
        "{ leads(first: 1) { totalCount } }",
        'mutation { createLead(input: {name: "WS", source: PARTNER}) { lead { id } } }',
    ],
    ids=["query", "mutation"],
)
async def test_queries_and_mutations_are_refused_over_websocket(
    gql: GraphQLClient, connect_ws: Connect, query: str
) -> None:
    # given a client; when it sends a query or a mutation instead of a subscription
    client = await connect_ws()
    operation = await client.subscribe(query)
    # then it gets an error pointing to HTTP, and nothing ran
    message = await client.receive()
    assert (message["id"], message["type"]) == (operation, "error")
    assert "over HTTP" in message["payload"][0]["message"]
    assert (await gql.data("{ leads { totalCount } }"))["leads"]["totalCount"] == 0


async def test_a_subscription_over_http_is_pointed_to_websocket(gql: GraphQLClient) -> None:
    body = await gql("subscription { pipelineUpdated { paidAmount } }")
    assert "WebSocket" in body["errors"][0]["message"]


async def test_a_client_complete_stops_deliveries(gql: GraphQLClient, connect_ws: Connect) -> None:
    # given two subscriptions, one of them completed by the client
    client = await connect_ws()
    stopped = await client.subscribe(LEAD_STAGES)
    kept = await client.subscribe(LEAD_STAGES)
    await client.send({"id": stopped, "type": "complete"})
    # when two leads are created
    await create_lead(gql)
    await create_lead(gql)
    # then only the other subscription receives them
    assert [(await client.receive())["id"] for _ in range(2)] == [kept, kept]


async def test_a_subscription_over_the_cost_limit_is_an_error_message(connect_ws: Connect) -> None:
    # given a subscription selecting, for each event, 100 messages of 100 analyses' lead
    costly = """
    subscription { leadStageChanged { lead { analyses(first: 100) { edges { node {
      lead { messages(first: 100) { edges { node { text } } } }
    } } } } } }"""
    # when it is sent; then it is refused before it starts, stating its cost
    client = await connect_ws()
    subscription = await client.subscribe(costly)
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "costs" in message["payload"][0]["message"]


async def test_a_socket_whose_credential_is_revoked_is_closed_4403(
    realtime_server: Callable[..., Awaitable[LiveServer]],
    connect_to: ConnectTo,
    gql: GraphQLClient,
    gql_as: UserClient,
) -> None:
    # given a server that checks credentials again every 0.3 s, and a user subscribed
    server = await realtime_server(credential_recheck_seconds=0.3)
    user = await gql_as("leaving@example.com", Role.VIEWER)
    client = await connect_to(server, key=key_of(user))
    await client.subscribe(LEAD_STAGES)
    # when an admin deactivates the user
    me = await user.data("{ me { id } }")
    body = await gql(
        "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { userErrors { code } } }",
        {"id": me["me"]["id"]},
    )
    assert body["data"]["deactivateUser"]["userErrors"] == []
    # then the socket is closed as forbidden
    closed = await client.closed()
    assert (closed.code, closed.reason) == (4403, "Forbidden: the credential is no longer valid")


async def test_resuming_after_a_malformed_event_id_is_an_error_message(connect_ws: Connect) -> None:
    client = await connect_ws()
    subscription = await client.subscribe(
        "subscription($after: ID) { leadStageChanged(after: $after) { eventId } }",
        {"after": "TGVhZDox"},  # a Lead ID
    )
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    assert message["payload"][0]["message"] == "`after`: Expected an Event ID, got a Lead ID."


async def test_resuming_after_events_retention_removed_is_refused(
    gql: GraphQLClient, connect_ws: Connect, migrated: str
) -> None:
    # given two events, the first of which retention has removed (it was made old)
    await create_lead(gql)
    first = (await gql.data("{ latestEventId }"))["latestEventId"]
    await create_lead(gql)
    owner = open_database(migrated, pool_size=1)
    try:
        async with owner.transaction() as conn:
            await conn.execute(
                text("UPDATE events SET occurred_at = now() - interval '8 days' WHERE id = :id"),
                {"id": database_id(first)},
            )
        assert await prune_events(owner, keep=timedelta(days=7)) == 1
    finally:
        await owner.dispose()
    # when a subscriber asks to resume before it
    client = await connect_ws()
    before_first = to_global_id("Event", database_id(first) - 1)
    subscription = await client.subscribe(
        "subscription($after: ID) { leadStageChanged(after: $after) { eventId } }",
        {"after": before_first},
    )
    # then it is told events may be missing, rather than handed a gap
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    assert message["payload"][0]["extensions"]["code"] == "EVENTS_EXPIRED"


async def test_a_close_reason_naming_a_long_id_still_fits_the_frame(connect_ws: Connect) -> None:
    client = await connect_ws()
    long_id = "ü" * 200
    await client.subscribe(LEAD_STAGES, id=long_id)
    await client.subscribe(LEAD_STAGES, id=long_id, confirm=False)
    closed = await client.closed()
    assert closed.code == 4409
    assert len(closed.reason.encode()) <= 123


async def test_resuming_after_an_event_that_does_not_exist_yet_is_refused(
    gql: GraphQLClient, connect_ws: Connect
) -> None:
    # given the tenant's newest event
    await create_lead(gql)
    newest = database_id((await gql.data("{ latestEventId }"))["latestEventId"])
    # when a subscriber asks to resume after a later one
    client = await connect_ws()
    subscription = await client.subscribe(
        "subscription($after: ID) { leadStageChanged(after: $after) { eventId } }",
        {"after": to_global_id("Event", newest + 1000)},
    )
    # then it is refused, rather than skipping every event up to that id
    message = await client.receive()
    assert (message["id"], message["type"]) == (subscription, "error")
    [error] = message["payload"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"].startswith("`after`:")
    assert "past your newest event" in error["message"]
