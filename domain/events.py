"""Domain events: what happened, appended to the journal with the change that made it.

The journal (`events`) is what subscriptions, webhooks and the `events` catch-up query
read. An event names its lead and/or sale and carries a few facts (stages, score); the
entities themselves are read fresh by whoever consumes it.
"""

from enum import StrEnum


class EventType(StrEnum):
    LEAD_CREATED = "lead.created"
    LEAD_UPDATED = "lead.updated"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_MESSAGE_RECORDED = "lead.message_recorded"
    LEAD_ANALYZED = "lead.analyzed"
    LEAD_TRANSFERRED = "lead.transferred"
    SALE_CREATED = "sale.created"
    SALE_STAGE_CHANGED = "sale.stage_changed"


# The events that move a lead or a sale to a stage (from none, for one just created).
LEAD_STAGE_EVENTS = frozenset(
    {EventType.LEAD_CREATED, EventType.LEAD_STAGE_CHANGED, EventType.LEAD_TRANSFERRED}
)
SALE_STAGE_EVENTS = frozenset({EventType.SALE_CREATED, EventType.SALE_STAGE_CHANGED})

# PostgreSQL's NOTIFY channel: each committed event sends "<tenant id>:<event id>" on it.
EVENTS_CHANNEL = "crm_events"
