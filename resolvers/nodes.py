"""`node(id)`: any entity by its global ID."""

from typing import Any

from resolvers.context import Info
from resolvers.errors import BadRequest
from resolvers.ids import InvalidId, parse_global_id


async def node(info: Info, global_id: str) -> Any:
    """The entity, or null when it does not exist (or belongs to another tenant)."""
    try:
        type_name, db_id = parse_global_id(global_id)
    except InvalidId as exc:
        raise BadRequest(str(exc)) from None
    loaders = info.context.loaders
    if type_name == "Lead":
        return await loaders.lead_by_id.load(db_id)
    if type_name == "Sale":
        return await loaders.sale_by_id.load(db_id)
    if type_name == "LeadAnalysis":
        return await loaders.analysis_by_id.load(db_id)
    return None  # messages are reachable through their lead
