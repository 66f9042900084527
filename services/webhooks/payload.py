"""The body of a delivery: one event, named as the GraphQL API names things.

    {"id": "<Event global ID>", "type": "lead.stage_changed",
     "createdAt": "2026-11-26T10:15:00.123456+00:00",
     "data": {"leadId": "<Lead global ID>", "fromStage": "new", "toStage": "contacted"}}

`id` is the same for every attempt and every redelivery of the event: receivers
deduplicate on it. `data` holds the event's facts as the journal keeps them (like
`Event.data` in the API: stages as stored, e.g. "qualified") plus the global IDs of what
it concerns (`leadId`, `saleId`, `analysisId`), to fetch with `node(id:)`.
"""

import orjson

from db.records import EventRecord
from domain.global_ids import to_global_id


def event_body(event: EventRecord) -> bytes:
    """The exact bytes sent (and signed) for the event; the same on every attempt."""
    body = {
        "id": to_global_id("Event", event.id),
        "type": event.type,
        "createdAt": event.occurred_at.isoformat(),
        "data": {**_ids(event), **event.data},
    }
    return orjson.dumps(body)


def _ids(event: EventRecord) -> dict[str, str]:
    ids = {}
    if event.lead_id is not None:
        ids["leadId"] = to_global_id("Lead", event.lead_id)
    if event.sale_id is not None:
        ids["saleId"] = to_global_id("Sale", event.sale_id)
    if event.analysis_id is not None:
        ids["analysisId"] = to_global_id("LeadAnalysis", event.analysis_id)
    return ids
