"""One attempt of a delivery, as the worker makes it, and what follows from its outcome.

A job names the delivery and the attempt number it is for. An attempt runs only if the
delivery is still pending and waits for exactly that attempt, and its outcome is written
only under the same condition: a job run twice (a worker died after sending, and its job
was run again) or a stale job (a retry already scheduled) changes nothing. A job that
dies mid-attempt is run again, so a receiver may see a delivery more than once: delivery
is at least once, and receivers deduplicate on the event id.

After an attempt:
- 2xx: SUCCEEDED; the endpoint's count of failed deliveries goes back to 0;
- anything else, with attempts left: PENDING, and the next attempt is deferred, in the
  same transaction, for when the retry schedule says;
- anything else, on the last attempt: FAILED (and re-deliverable); the endpoint counts
  one more failed delivery in a row and is disabled, with the reason, at
  CRM_WEBHOOK_DISABLE_AFTER of them.
No database connection is held while the request is out.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.queries import events as event_rows
from db.queries import webhooks as webhook_rows
from db.records import EventRecord, WebhookDeliveryRecord, WebhookRecord
from db.tenancy import acting_for
from domain.global_ids import to_global_id
from domain.webhooks import DeliveryStatus
from services import audit
from services.audit import Action, Entity
from services.scope import Scope
from services.webhooks import endpoints, signing
from services.webhooks.payload import event_body
from services.webhooks.schedule import RetrySchedule
from services.webhooks.sender import Outcome, Sender

log = logging.getLogger(__name__)

EVENT_ID_HEADER = "CRM-Event-Id"
EVENT_TYPE_HEADER = "CRM-Event-Type"
DELIVERY_ID_HEADER = "CRM-Delivery-Id"
ATTEMPT_HEADER = "CRM-Delivery-Attempt"
WORKER_ACTOR = "webhook worker"  # who the audit log says disabled an endpoint
_MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Deliverer:
    """What attempts need: the app's database (Row Level Security applies), the HTTP
    sender, the retry schedule and when to disable an endpoint."""

    db: Database
    sender: Sender
    schedule: RetrySchedule
    disable_after_failures: int


@dataclass(frozen=True, slots=True)
class _Due:
    delivery: WebhookDeliveryRecord
    webhook: WebhookRecord
    event: EventRecord | None


async def attempt(deliverer: Deliverer, *, tenant_id: int, delivery_id: int, number: int) -> None:
    """Make attempt `number` of the delivery, if it is the one the delivery waits for."""
    with acting_for(tenant_id):
        due = await _due(deliverer.db, tenant_id, delivery_id, number)
        if due is None:
            log.info("delivery %s: attempt %s is not due; nothing to do", delivery_id, number)
            return
        if not due.webhook.enabled or due.event is None:
            reason = (
                "The webhook was disabled before this attempt; nothing was sent."
                if not due.webhook.enabled
                else "The event is no longer kept; nothing was sent."
            )
            async with deliverer.db.transaction() as conn:
                await webhook_rows.give_up(
                    conn,
                    tenant_id=tenant_id,
                    delivery_id=delivery_id,
                    attempt=number,
                    reason=reason,
                )
            return
        outcome = await _send(deliverer.sender, due.delivery, due.webhook, due.event, number)
        async with deliverer.db.transaction() as conn:
            await _settle(conn, deliverer, due, number, outcome)


async def _due(db: Database, tenant_id: int, delivery_id: int, number: int) -> _Due | None:
    async with db.read() as conn:
        delivery = await webhook_rows.get_delivery(
            conn, tenant_id=tenant_id, delivery_id=delivery_id
        )
        if (
            delivery is None
            or delivery.status is not DeliveryStatus.PENDING
            or delivery.attempts != number - 1
        ):
            return None
        webhook = await webhook_rows.get_webhook(
            conn, tenant_id=tenant_id, webhook_id=delivery.webhook_id
        )
        events = await event_rows.get_many(conn, tenant_id=tenant_id, event_ids=[delivery.event_id])
    if webhook is None:
        return None
    return _Due(delivery, webhook, events[0] if events else None)


async def _send(
    sender: Sender,
    delivery: WebhookDeliveryRecord,
    webhook: WebhookRecord,
    event: EventRecord,
    number: int,
) -> Outcome:
    body = event_body(event)
    timestamp = int(time.time())
    secrets = endpoints.signing_secrets(webhook, datetime.now(UTC))
    headers = {
        signing.SIGNATURE_HEADER: signing.signature_header(secrets, timestamp, body),
        EVENT_ID_HEADER: to_global_id("Event", event.id),
        EVENT_TYPE_HEADER: event.type,
        DELIVERY_ID_HEADER: to_global_id("WebhookDelivery", delivery.id),
        ATTEMPT_HEADER: str(number),
    }
    return await sender.send(webhook.url, body, headers)


async def _settle(
    conn: AsyncConnection, deliverer: Deliverer, due: _Due, number: int, outcome: Outcome
) -> None:
    tenant_id, delivery_id = due.delivery.tenant_id, due.delivery.id
    result = {"last_response_status": outcome.status_code, "last_error": outcome.error}
    if outcome.delivered:
        done = await webhook_rows.record_attempt(
            conn,
            tenant_id=tenant_id,
            delivery_id=delivery_id,
            attempt=number,
            values={
                **result,
                "status": DeliveryStatus.SUCCEEDED,
                "next_attempt_at": None,
                "delivered_at": datetime.now(UTC),
            },
        )
        if done is not None:
            await webhook_rows.reset_failures(conn, tenant_id=tenant_id, webhook_id=due.webhook.id)
        return
    wait = deliverer.schedule.wait_after(number)
    if wait is not None:
        next_at = datetime.now(UTC) + wait
        pending = await webhook_rows.record_attempt(
            conn,
            tenant_id=tenant_id,
            delivery_id=delivery_id,
            attempt=number,
            values={**result, "next_attempt_at": next_at},
        )
        if pending is not None:
            await webhook_rows.defer_attempts(
                conn,
                tenant_id=tenant_id,
                delivery_ids=[delivery_id],
                attempt=number + 1,
                run_at=next_at,
            )
        return
    failed = await webhook_rows.record_attempt(
        conn,
        tenant_id=tenant_id,
        delivery_id=delivery_id,
        attempt=number,
        values={**result, "status": DeliveryStatus.FAILED, "next_attempt_at": None},
    )
    if failed is not None:
        await _count_failure(conn, deliverer, due.webhook, outcome)


async def _count_failure(
    conn: AsyncConnection, deliverer: Deliverer, webhook: WebhookRecord, outcome: Outcome
) -> None:
    """One more delivery in a row failed every attempt; at the threshold, disable."""
    counted = await webhook_rows.count_failed_delivery(
        conn, tenant_id=webhook.tenant_id, webhook_id=webhook.id
    )
    if (
        counted is None
        or not counted.enabled
        or counted.consecutive_failures < deliverer.disable_after_failures
    ):
        return
    reason = (
        f"Disabled automatically: {counted.consecutive_failures} deliveries in a row failed "
        f"every attempt. The last: {outcome.error or 'no answer'}"
    )
    disabled = await webhook_rows.update_webhook(
        conn,
        tenant_id=webhook.tenant_id,
        webhook_id=webhook.id,
        values={
            "enabled": False,
            "disabled_at": datetime.now(UTC),
            "disabled_reason": reason[:_MAX_REASON],
        },
    )
    assert disabled is not None, "the endpoint was just counted"
    log.warning("webhook %s disabled: %s", webhook.id, reason)
    await audit.record(
        conn,
        Scope(tenant_id=webhook.tenant_id, actor=WORKER_ACTOR),
        action=Action.WEBHOOK_DISABLED,
        entity_type=Entity.WEBHOOK,
        entity_id=webhook.id,
        before=endpoints.audit_fields(counted),
        after=endpoints.audit_fields(disabled),
    )
