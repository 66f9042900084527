"""Webhooks: the admin's lists, the fields of endpoints and deliveries, and the mutations."""

import functools
from dataclasses import dataclass, field
from datetime import datetime

from db.queries import webhooks as webhook_rows
from db.records import EventRecord, WebhookDeliveryRecord, WebhookRecord
from domain.access import Permission, allows
from domain.errors import Problem
from domain.events import EventType
from domain.global_ids import to_global_id
from domain.webhooks import DeliveryStatus
from resolvers.context import Info
from resolvers.errors import BadRequest
from resolvers.ids import InvalidId, decode_id
from resolvers.input import given, input_id
from resolvers.mutations import refusals_as
from resolvers.pagination import Connection, PageArgs, list_connection
from schema import webhook_inputs as inputs
from services.scope import Scope
from services.webhooks import deliveries, endpoints

ORDERING = "webhook_deliveries:newest"
NODE_TYPES = frozenset({"Webhook", "WebhookDelivery"})


@dataclass
class WebhookPayload:
    webhook: WebhookRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class WebhookSecretPayload:
    webhook: WebhookRecord | None = None
    secret: str | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class DeleteWebhookPayload:
    deleted_webhook_id: str | None = None
    user_errors: list[Problem] = field(default_factory=list)


@dataclass
class WebhookDeliveryPayload:
    delivery: WebhookDeliveryRecord | None = None
    user_errors: list[Problem] = field(default_factory=list)


def may_see(scope: Scope, record: object) -> bool:
    """Endpoints and deliveries (their URLs, their failures) are for those who manage
    webhooks; every other record is not this rule's business."""
    if isinstance(record, WebhookRecord | WebhookDeliveryRecord):
        return scope.role is not None and allows(scope.role, Permission.MANAGE_WEBHOOKS)
    return True


# ---------------------------------------------------------------- fields


def webhook_global_id(root: WebhookRecord) -> str:
    return to_global_id("Webhook", root.id)


def webhook_event_types(root: WebhookRecord) -> list[EventType]:
    return [EventType(value) for value in root.event_types]


def delivery_global_id(root: WebhookDeliveryRecord) -> str:
    return to_global_id("WebhookDelivery", root.id)


def delivery_event_id(root: WebhookDeliveryRecord) -> str:
    return to_global_id("Event", root.event_id)


def delivery_event_type(root: WebhookDeliveryRecord) -> EventType:
    return EventType(root.event_type)


async def delivery_webhook(root: WebhookDeliveryRecord, info: Info) -> WebhookRecord:
    webhook = await info.context.loaders.webhook_by_id.load(root.webhook_id)
    assert webhook is not None, "a delivery's endpoint is deleted with it"
    return webhook


async def delivery_event(root: WebhookDeliveryRecord, info: Info) -> EventRecord | None:
    return await info.context.loaders.event_by_id.load(root.event_id)


# ---------------------------------------------------------------- queries


async def all_webhooks(info: Info) -> list[WebhookRecord]:
    async with info.context.app.db.read() as conn:
        return await webhook_rows.list_webhooks(conn, tenant_id=info.context.scope.tenant_id)


async def webhook_deliveries(
    info: Info, *, webhook_id: str | None, status: DeliveryStatus | None, page: PageArgs
) -> Connection[WebhookDeliveryRecord]:
    delivery_filter = webhook_rows.DeliveryFilter(
        webhook_id=None if webhook_id is None else _query_id(webhook_id, "Webhook", "webhookId"),
        status=status,
    )
    tenant_id = info.context.scope.tenant_id
    return await list_connection(
        info.context.app.db,
        ordering=ORDERING,
        sort_type=datetime,
        args=page,
        fetch_page=functools.partial(
            webhook_rows.list_deliveries_page, tenant_id=tenant_id, delivery_filter=delivery_filter
        ),
        fetch_count=functools.partial(
            webhook_rows.count_deliveries, tenant_id=tenant_id, delivery_filter=delivery_filter
        ),
        sort_value=lambda row: row.created_at,
    )


def _query_id(global_id: str, type_name: str, argument: str) -> int:
    try:
        return decode_id(global_id, type_name)
    except InvalidId as exc:
        raise BadRequest(f"{argument}: {exc}") from None


# ---------------------------------------------------------------- mutations


@refusals_as(WebhookSecretPayload)
async def create_webhook(info: Info, data: inputs.CreateWebhookInput) -> WebhookSecretPayload:
    made = await endpoints.create_webhook(
        db=info.context.app.db,
        scope=info.context.scope,
        policy=info.context.app.settings.webhooks,
        url=data.url,
        event_types=data.event_types,
        description=given(data.description),
    )
    return WebhookSecretPayload(webhook=made.webhook, secret=made.secret)


@refusals_as(WebhookPayload)
async def update_webhook(info: Info, data: inputs.UpdateWebhookInput) -> WebhookPayload:
    changes = endpoints.WebhookChanges(
        url=given(data.url),
        event_types=given(data.event_types),
        description=given(data.description),
        clear_description=data.description is None,
        enabled=given(data.enabled),
    )
    webhook = await endpoints.update_webhook(
        db=info.context.app.db,
        scope=info.context.scope,
        policy=info.context.app.settings.webhooks,
        webhook_id=input_id(data.webhook_id, "Webhook", "webhookId"),
        changes=changes,
    )
    return WebhookPayload(webhook=webhook)


@refusals_as(DeleteWebhookPayload)
async def delete_webhook(info: Info, data: inputs.DeleteWebhookInput) -> DeleteWebhookPayload:
    gone = await endpoints.delete_webhook(
        db=info.context.app.db,
        scope=info.context.scope,
        webhook_id=input_id(data.webhook_id, "Webhook", "webhookId"),
    )
    return DeleteWebhookPayload(deleted_webhook_id=webhook_global_id(gone))


@refusals_as(WebhookSecretPayload)
async def rotate_webhook_secret(
    info: Info, data: inputs.RotateWebhookSecretInput
) -> WebhookSecretPayload:
    rotated = await endpoints.rotate_secret(
        db=info.context.app.db,
        scope=info.context.scope,
        webhook_id=input_id(data.webhook_id, "Webhook", "webhookId"),
    )
    return WebhookSecretPayload(webhook=rotated.webhook, secret=rotated.secret)


@refusals_as(WebhookDeliveryPayload)
async def redeliver_webhook_event(
    info: Info, data: inputs.RedeliverWebhookEventInput
) -> WebhookDeliveryPayload:
    delivery = await deliveries.redeliver(
        db=info.context.app.db,
        scope=info.context.scope,
        delivery_id=input_id(data.delivery_id, "WebhookDelivery", "deliveryId"),
    )
    return WebhookDeliveryPayload(delivery=delivery)
