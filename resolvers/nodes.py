"""`node(id)`: any entity by its global ID."""

from typing import Any

from aiodataloader import DataLoader

from resolvers.access import may_see
from resolvers.context import Info
from resolvers.errors import BadRequest
from resolvers.ids import InvalidId, parse_global_id
from resolvers.loaders import Loaders
from resolvers.webhooks import may_see as may_see_webhooks


def _loader_for(loaders: Loaders, type_name: str) -> DataLoader[int, Any]:
    by_type: dict[str, DataLoader[int, Any]] = {
        "Lead": loaders.lead_by_id,
        "Sale": loaders.sale_by_id,
        "LeadAnalysis": loaders.analysis_by_id,
        "LeadMessage": loaders.message_by_id,
        "User": loaders.user_by_id,
        "ApiKey": loaders.api_key_by_id,
        "AuditEntry": loaders.audit_entry_by_id,
        "Event": loaders.event_by_id,
        "Webhook": loaders.webhook_by_id,
        "WebhookDelivery": loaders.webhook_delivery_by_id,
    }
    return by_type[type_name]


async def node(info: Info, global_id: str) -> Any:
    """The entity, or null when it does not exist (or belongs to another tenant, or is a
    user, key, webhook or delivery the caller may not see)."""
    try:
        type_name, db_id = parse_global_id(global_id)
    except InvalidId as exc:
        raise BadRequest(str(exc)) from None
    found = await _loader_for(info.context.loaders, type_name).load(db_id)
    scope = info.context.scope
    return found if may_see(scope, found) and may_see_webhooks(scope, found) else None
