"""Webhook endpoints and deliveries. Fields read `db.records.WebhookRecord` and
`WebhookDeliveryRecord` rows directly; no field ever reads a secret: the payloads of
createWebhook and rotateWebhookSecret are the only places one is shown."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.records import WebhookDeliveryRecord, WebhookRecord
from resolvers import webhooks as resolve
from resolvers.pagination import total_count
from schema.enums import EventType
from schema.node import Node, PageInfo, UserError
from schema.webhook_inputs import DeliveryStatus

if TYPE_CHECKING:
    from schema.events import Event

_Event = Annotated["Event", strawberry.lazy("schema.events")]
_ERRORS = "Business rules the input broke; empty on success."


@strawberry.type(
    description=(
        "An endpoint that receives this tenant's events: each delivery is a signed POST "
        "(see the README's Webhooks section), retried for about a day until it gets a 2xx."
    )
)
class Webhook(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID.", resolver=resolve.webhook_global_id
    )
    url: str = strawberry.field(description="Where events are POSTed.")
    description: str | None = strawberry.field(description="What the endpoint is for.")
    event_types: list[EventType] = strawberry.field(
        description="The events it receives.", resolver=resolve.webhook_event_types
    )
    enabled: bool = strawberry.field(
        description="False: nothing is sent to it (see disabledReason)."
    )
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled; null while enabled."
    )
    disabled_reason: str | None = strawberry.field(
        description=(
            "Why it was disabled: by whom, or, when deliveries kept failing, how many and "
            "the last error. Cleared by enabling it again."
        )
    )
    consecutive_failures: int = strawberry.field(
        description=(
            "Deliveries in a row that failed every attempt; a successful one resets it. "
            "At CRM_WEBHOOK_DISABLE_AFTER the webhook is disabled."
        )
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description=(
            "After rotateWebhookSecret: until when the replaced secret still signs too (a "
            "second `v1` in CRM-Signature). Null when no old secret signs."
        )
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, WebhookRecord)


@strawberry.type(description="One event on its way to one webhook, and how its attempts went.")
class WebhookDelivery(Node):
    id: strawberry.ID = strawberry.field(
        description="Global ID; sent as the CRM-Delivery-Id header.",
        resolver=resolve.delivery_global_id,
    )
    webhook: Webhook = strawberry.field(
        description="The endpoint.", resolver=resolve.delivery_webhook
    )
    event_id: strawberry.ID = strawberry.field(
        description="The event's global ID: the body's `id` and the CRM-Event-Id header.",
        resolver=resolve.delivery_event_id,
    )
    event: _Event | None = strawberry.field(
        description="The event; null once the journal's retention removed it.",
        resolver=resolve.delivery_event,
    )
    event_type: EventType = strawberry.field(
        description="What happened.", resolver=resolve.delivery_event_type
    )
    status: DeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due, while PENDING after a failed one."
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When the last attempt was made; null before the first."
    )
    last_response_status: int | None = strawberry.field(
        description="The HTTP status the endpoint last answered; null if it did not answer."
    )
    last_error: str | None = strawberry.field(
        description="What went wrong with the last attempt; null after a success."
    )
    delivered_at: datetime | None = strawberry.field(
        description="When the endpoint accepted it (SUCCEEDED)."
    )
    created_at: datetime = strawberry.field(description="When the delivery was made.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, WebhookDeliveryRecord)


@strawberry.type(description="A webhook delivery in a list, with its cursor.")
class WebhookDeliveryEdge:
    node: WebhookDelivery = strawberry.field(description="The delivery.")
    cursor: str = strawberry.field(description="Pass as `after` to page on from here.")


@strawberry.type(description="A page of webhook deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="The deliveries of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(
        description="Deliveries matching the filter across all pages (counted only when asked).",
        resolver=total_count,
    )


@strawberry.type(description="Result of updateWebhook.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(description="The webhook after the change.")
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of createWebhook and rotateWebhookSecret.")
class WebhookSecretPayload:
    webhook: Webhook | None = strawberry.field(description="The webhook.")
    secret: str | None = strawberry.field(
        description=(
            "The signing secret (`whsec_…`), to verify CRM-Signature with. Shown only here, "
            "only once: it cannot be read again (rotate it to get a new one)."
        )
    )
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of deleteWebhook.")
class DeleteWebhookPayload:
    deleted_webhook_id: strawberry.ID | None = strawberry.field(
        description="The global ID of the webhook that was deleted."
    )
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Result of redeliverWebhookEvent.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The new delivery, PENDING: its first attempt is on its way."
    )
    user_errors: list[UserError] = strawberry.field(description=_ERRORS)
