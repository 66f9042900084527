"""The assembled schema: root types and every Node type."""

import strawberry

from schema.access import ApiKey, User
from schema.analyses import LeadAnalysis
from schema.audit import AuditEntry
from schema.events import Event
from schema.leads import Lead, LeadMessage
from schema.mutation import Mutation
from schema.query import Query
from schema.sales import Sale
from schema.subscription import Subscription
from schema.webhooks import Webhook, WebhookDelivery

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[
        *(Lead, LeadAnalysis, LeadMessage, Sale, User, ApiKey, AuditEntry, Event),
        *(Webhook, WebhookDelivery),
    ],
)
