"""Deliveries: one per event and endpoint, made in the transaction of the event itself.

Appending an event makes its deliveries and the jobs that will attempt them, in the
statement of the append (migration 0020), so they commit together or not at all: no
event is left without its deliveries, and no delivery names an event that never was.
This module redelivers, prunes and reads them.
"""

from datetime import UTC, datetime, timedelta

from db.database import Database
from db.queries import events as event_rows
from db.queries import webhooks as webhook_rows
from db.records import WebhookDeliveryRecord
from domain.errors import DomainError, ErrorCode, not_found
from domain.global_ids import to_global_id
from domain.webhooks import DeliveryStatus
from services import audit
from services.audit import Action, Entity
from services.scope import Scope
from services.validation import field_path

PRUNE_BATCH = 5_000
STRANDED_AFTER = timedelta(hours=1)  # far longer than any job waits to run


async def redeliver(*, db: Database, scope: Scope, delivery_id: int) -> WebhookDeliveryRecord:
    """A new delivery of the same event to the same endpoint, attempted at once and then
    retried like any other. The endpoint must be enabled, and the event still kept."""
    async with db.transaction() as conn:
        earlier = await webhook_rows.get_delivery(
            conn, tenant_id=scope.tenant_id, delivery_id=delivery_id
        )
        if earlier is None:
            raise not_found("Webhook delivery", field_path("deliveryId"))
        webhook = await webhook_rows.get_webhook(
            conn, tenant_id=scope.tenant_id, webhook_id=earlier.webhook_id, for_update=True
        )
        assert webhook is not None, "a delivery's endpoint is deleted with it"
        if not webhook.enabled:
            raise _refused("The webhook is disabled: enable it (updateWebhook) first.")
        if not await event_rows.get_many(
            conn, tenant_id=scope.tenant_id, event_ids=[earlier.event_id]
        ):
            raise _refused("The event is older than the journal keeps; it cannot be sent again.")
        delivery = await webhook_rows.insert_delivery(
            conn,
            values={
                "tenant_id": scope.tenant_id,
                "webhook_id": webhook.id,
                "event_id": earlier.event_id,
                "event_type": earlier.event_type,
            },
        )
        await webhook_rows.defer_attempts(
            conn, tenant_id=scope.tenant_id, delivery_ids=[delivery.id], attempt=1
        )
        await audit.record(
            conn,
            scope,
            action=Action.WEBHOOK_REDELIVERED,
            entity_type=Entity.WEBHOOK_DELIVERY,
            entity_id=delivery.id,
            before=None,
            after={
                "webhook": to_global_id("Webhook", webhook.id),
                "event": to_global_id("Event", delivery.event_id),
                "redelivery_of": to_global_id("WebhookDelivery", earlier.id),
                "status": DeliveryStatus.PENDING,
            },
        )
    return delivery


async def prune(owner: Database, *, keep: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Remove finished deliveries older than `keep` (as the owner, with the journal's
    retention: their events are gone too); how many."""
    older_than = datetime.now(UTC) - keep
    removed = 0
    while True:
        async with owner.transaction() as conn:
            count = await webhook_rows.prune_deliveries(conn, older_than=older_than, batch=batch)
        removed += count
        if count < batch:
            return removed


async def requeue_stranded(
    owner: Database, *, task_name: str, overdue: timedelta = STRANDED_AFTER
) -> int:
    """Defer again the next attempt of each pending delivery that is long overdue and has
    no job left (its job gave up on errors of the worker's own, say): a delivery never
    stays PENDING for good. As the owner, who may read the job queue; how many."""
    async with owner.transaction() as conn:
        stranded = await webhook_rows.stranded_deliveries(
            conn, older_than=datetime.now(UTC) - overdue, task_name=task_name, batch=PRUNE_BATCH
        )
        for tenant_id, delivery_id, attempts in stranded:
            await webhook_rows.defer_attempts(
                conn, tenant_id=tenant_id, delivery_ids=[delivery_id], attempt=attempts + 1
            )
    return len(stranded)


def _refused(message: str) -> DomainError:
    return DomainError.single(ErrorCode.VALIDATION_FAILED, message, field_path("deliveryId"))
