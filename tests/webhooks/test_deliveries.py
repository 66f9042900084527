"""Events reach the endpoints that want them: signed, retried, failed visibly, re-sent on
request, and an endpoint that keeps failing is disabled with the reason."""

from datetime import datetime

from services.webhooks import signing
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import (
    REDELIVER,
    ROTATE_SECRET,
    UPDATE_WEBHOOK,
    WEBHOOKS,
    Receiver,
    RunWorker,
    create_lead,
    create_webhook,
    deliveries,
    eventually,
    ok,
    settled,
)


async def test_a_delivery_is_a_signed_post_of_the_event(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint for new leads, whose secret the receiver knows
    webhook, secret = await create_webhook(admin, receiver.endpoint())
    receiver.secrets.append(secret)
    # when a lead is created and the worker runs
    lead_id = await create_lead(admin)
    async with run_worker():
        [delivery] = await settled(admin, 1)
    # then the receiver got one POST: the event with the lead's ID, signed with the secret
    [received] = receiver.received
    assert received.signed
    event = received.event
    assert event["type"] == "lead.created"
    assert event["data"] == {"leadId": lead_id, "fromStage": None, "toStage": "new"}
    assert datetime.fromisoformat(event["createdAt"]).tzinfo is not None
    assert event["id"] == delivery["eventId"] == received.headers["crm-event-id"]
    assert received.headers["crm-delivery-id"] == delivery["id"]
    assert received.headers["crm-event-type"] == "lead.created"
    assert received.headers["content-type"] == "application/json"
    # and the delivery says so
    assert delivery["status"] == "SUCCEEDED"
    assert delivery["attempts"] == 1
    assert delivery["lastResponseStatus"] == 200
    assert delivery["lastError"] is None
    assert delivery["deliveredAt"] is not None
    assert delivery["webhook"]["id"] == webhook["id"]


async def test_a_tampered_body_or_another_secret_does_not_verify(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given a delivery the receiver got
    _webhook, secret = await create_webhook(admin, receiver.endpoint())
    await create_lead(admin)
    async with run_worker():
        await settled(admin, 1)
    [received] = receiver.received
    header = received.headers["crm-signature"]
    # when its signature is checked against the body as sent, a changed body, another
    # secret, and much later
    as_sent = signing.verify(header, received.body, secret)
    changed = signing.verify(
        header, received.body.replace(b"lead.created", b"lead.updated"), secret
    )
    other = signing.verify(header, received.body, signing.new_secret())
    stale = signing.verify(header, received.body, secret, now=datetime.now().timestamp() + 3600)
    # then only the body as sent, with the right secret, and fresh, verifies
    assert (as_sent, changed, other, stale) == (True, False, False, False)


async def test_a_failing_endpoint_gets_the_event_again_until_it_takes_it(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint that fails the first two attempts of each event
    await create_webhook(admin, receiver.endpoint())
    receiver.fail_first = 2
    # when an event happens and the worker runs (3 attempts allowed)
    await create_lead(admin)
    async with run_worker(max_attempts=3):
        [delivery] = await settled(admin, 1)
    # then the third attempt got through, with the same event and body as the first two
    assert (delivery["status"], delivery["attempts"]) == ("SUCCEEDED", 3)
    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1
    assert [r.headers["crm-delivery-attempt"] for r in receiver.received] == ["1", "2", "3"]


async def test_after_the_last_attempt_the_delivery_fails_visibly_and_can_be_sent_again(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint that is down
    webhook, _secret = await create_webhook(admin, receiver.endpoint())
    receiver.failing, receiver.failure_status = True, 503
    await create_lead(admin)
    async with run_worker(max_attempts=2):
        # when every attempt fails
        [failed] = await settled(admin, 1)
        # then the delivery is FAILED, with the last answer, and listed as such
        assert failed["status"] == "FAILED"
        assert failed["attempts"] == 2
        assert failed["lastResponseStatus"] == 503
        assert "503" in failed["lastError"]
        assert failed["nextAttemptAt"] is None
        assert await deliveries(admin, status="FAILED", webhookId=webhook["id"]) == [failed]
        assert await deliveries(admin, status="SUCCEEDED") == []
        # when the endpoint is back and an admin asks for the event again
        receiver.failing = False
        again = ok(
            (await admin.data(REDELIVER, {"input": {"deliveryId": failed["id"]}}))[
                "redeliverWebhookEvent"
            ]
        )["delivery"]
        assert again["status"] == "PENDING"
        assert again["eventId"] == failed["eventId"]
        # then a new delivery of the same event gets through
        found = await settled(admin, 2)
    assert {d["id"]: d["status"] for d in found} == {
        again["id"]: "SUCCEEDED",
        failed["id"]: "FAILED",
    }
    assert receiver.received[-1].event_id == failed["eventId"]


async def test_an_endpoint_that_keeps_failing_is_disabled_with_the_reason(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint that always fails, disabled after 2 failed deliveries in a row
    webhook, _secret = await create_webhook(admin, receiver.endpoint())
    receiver.failing = True
    async with run_worker(max_attempts=1, disable_after_failures=2):
        # when two events fail
        await create_lead(admin, "One")
        await create_lead(admin, "Two")
        await settled(admin, 2)
        # then the endpoint is disabled, and says why
        [disabled] = (await admin.data(WEBHOOKS))["webhooks"]
        assert disabled["enabled"] is False
        assert disabled["disabledAt"] is not None
        assert disabled["consecutiveFailures"] == 2
        assert "2 deliveries in a row" in disabled["disabledReason"]
        assert "HTTP 500" in disabled["disabledReason"]
        # and a later event is not delivered to it, nor can a failed one be re-sent
        await create_lead(admin, "Three")
        assert len(await deliveries(admin)) == 2
        [first, _second] = await deliveries(admin)
        refused = (await admin.data(REDELIVER, {"input": {"deliveryId": first["id"]}}))[
            "redeliverWebhookEvent"
        ]
        assert [e["code"] for e in refused["userErrors"]] == ["VALIDATION_FAILED"]
        # when an admin enables it again, then its failure state is cleared
        enabled = (
            await admin.data(
                UPDATE_WEBHOOK, {"input": {"webhookId": webhook["id"], "enabled": True}}
            )
        )["updateWebhook"]["webhook"]
    assert (enabled["enabled"], enabled["disabledAt"], enabled["disabledReason"]) == (
        True,
        None,
        None,
    )
    assert enabled["consecutiveFailures"] == 0


async def test_a_success_resets_the_count_of_failed_deliveries(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint with one failed delivery
    await create_webhook(admin, receiver.endpoint())
    receiver.failing = True
    async with run_worker(max_attempts=1, disable_after_failures=2):
        await create_lead(admin, "One")
        await settled(admin, 1)
        assert (await admin.data(WEBHOOKS))["webhooks"][0]["consecutiveFailures"] == 1
        # when the next one gets through
        receiver.failing = False
        await create_lead(admin, "Two")
        await settled(admin, 2)
    # then the endpoint's count starts again, and it stays enabled
    [webhook] = (await admin.data(WEBHOOKS))["webhooks"]
    assert (webhook["consecutiveFailures"], webhook["enabled"]) == (0, True)


async def test_after_a_rotation_both_secrets_sign_for_a_while(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given an endpoint whose secret was rotated
    webhook, old = await create_webhook(admin, receiver.endpoint())
    rotated = ok(
        (await admin.data(ROTATE_SECRET, {"input": {"webhookId": webhook["id"]}}))[
            "rotateWebhookSecret"
        ]
    )
    new = rotated["secret"]
    assert new != old
    assert rotated["webhook"]["previousSecretExpiresAt"] is not None
    # when an event is delivered
    await create_lead(admin)
    async with run_worker():
        await settled(admin, 1)
    # then a receiver that knows either secret verifies it
    [received] = receiver.received
    header = received.headers["crm-signature"]
    assert header.count("v1=") == 2
    assert signing.verify(header, received.body, new)
    assert signing.verify(header, received.body, old)


async def test_only_the_event_types_an_endpoint_asked_for_are_sent(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given one endpoint for stage changes and one for new leads
    await create_webhook(admin, receiver.endpoint("/stages"), ["LEAD_STAGE_CHANGED"])
    await create_webhook(admin, receiver.endpoint("/new"), ["LEAD_CREATED"])
    # when a lead is created
    await create_lead(admin)
    async with run_worker():
        await settled(admin, 1)
    # then only the endpoint for new leads heard of it
    assert [r.event["type"] for r in receiver.at("/new")] == ["lead.created"]
    assert receiver.at("/stages") == []


async def test_a_delivery_waits_for_its_event_to_commit(
    admin: GraphQLClient, receiver: Receiver, run_worker: RunWorker
) -> None:
    # given a worker already waiting for jobs, and an endpoint
    await create_webhook(admin, receiver.endpoint())
    async with run_worker():
        # when events happen
        for name in ("One", "Two", "Three"):
            await create_lead(admin, name)
        await settled(admin, 3)
        # then each was delivered once, as it was committed
        await eventually(lambda: _count(receiver, 3))
    assert len(receiver.event_ids()) == 3


async def _count(receiver: Receiver, expected: int) -> bool:
    return len(receiver.received) == expected
