"""GraphQL inputs (and the delivery status enum) of the webhook fields.

Apart from schema/webhooks.py, which resolves through resolvers/webhooks.py: the
resolvers read these types, so they must not import the module that imports the resolvers.
"""

import strawberry

from domain.webhooks import DeliveryStatus
from schema.enums import EventType

strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="Where a webhook delivery stands.",
)
for _value in DeliveryStatus.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = {
        "PENDING": "Waiting for its first attempt, or for the next after a failed one.",
        "SUCCEEDED": "The endpoint answered with a 2xx status.",
        "FAILED": (
            "Every attempt failed (or the webhook was disabled first); "
            "redeliverWebhookEvent sends it again."
        ),
    }[_value.name]

__all__ = [
    "CreateWebhookInput",
    "DeleteWebhookInput",
    "DeliveryStatus",
    "RedeliverWebhookEventInput",
    "RotateWebhookSecretInput",
    "UpdateWebhookInput",
]

_EVENT_TYPES = (
    "The events to send: at least one (an empty list is refused, so a new kind of event "
    "is never sent to an endpoint that did not ask for it)."
)


@strawberry.input(description="A new endpoint; its signing secret is returned once, by this.")
class CreateWebhookInput:
    url: str = strawberry.field(
        description=(
            "Where to POST events: an http(s) URL of a public address, up to 2000 characters; "
            "no user name, password or #fragment. Redirects are not followed."
        )
    )
    event_types: list[EventType] = strawberry.field(description=_EVENT_TYPES)
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What the endpoint is for, up to 500 characters."
    )


@strawberry.input(description="Change an endpoint; fields left out stay as they are.")
class UpdateWebhookInput:
    webhook_id: strawberry.ID = strawberry.field(description="The webhook.")
    url: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new URL, under the same rules as on creation."
    )
    event_types: list[EventType] | None = strawberry.field(
        default=strawberry.UNSET, description=_EVENT_TYPES
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new description; null clears it."
    )
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "false stops deliveries; true starts them again and clears why the webhook was "
            "disabled and its count of failed deliveries."
        ),
    )


@strawberry.input(description="Delete an endpoint and its deliveries.")
class DeleteWebhookInput:
    webhook_id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="Give an endpoint a new signing secret.")
class RotateWebhookSecretInput:
    webhook_id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="Send a delivery's event to its endpoint again.")
class RedeliverWebhookEventInput:
    delivery_id: strawberry.ID = strawberry.field(
        description="A delivery (of any status) whose event and endpoint to use."
    )
