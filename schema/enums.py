"""GraphQL enums: the domain's own enum classes, registered with Strawberry.

`strawberry.enum` decorates the class in place, so the schema and the services share one
class per enum and no value is ever translated.
"""

import strawberry

from domain.access import Role
from domain.enums import (
    LeadOrderField,
    LeadSource,
    LeadStage,
    MessageDirection,
    OrderDirection,
    Recommendation,
    SaleOrderField,
    SaleStage,
)
from domain.errors import ErrorCode
from domain.events import EventType
from domain.scorers import ScorerKind


def _describe_values(enum_class: type, descriptions: dict[str, str]) -> None:
    for value in enum_class.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = descriptions.get(value.name, value.description)


strawberry.enum(LeadSource, description="Where a lead came from.")
strawberry.enum(
    LeadStage,
    description=(
        "Pipeline stage: NEW -> CONTACTED -> QUALIFIED -> TRANSFERRED (only through "
        "transferLead); NEW | CONTACTED | QUALIFIED -> LOST. TRANSFERRED and LOST are final."
    ),
)
strawberry.enum(
    SaleStage,
    description="Sale stage: NEW -> KYC -> AGREEMENT -> PAID, one step at a time; PAID is final.",
)
strawberry.enum(MessageDirection, description="INBOUND: from the lead; OUTBOUND: to the lead.")
strawberry.enum(Recommendation, description="What the AI advises a person to do next.")
strawberry.enum(OrderDirection, description="Sort direction.")
strawberry.enum(LeadOrderField, description="What to order leads by.")
strawberry.enum(SaleOrderField, description="What to order sales by.")
strawberry.enum(
    Role, description="What a user may do; each role grants a fixed set of permissions."
)
_describe_values(
    Role,
    {
        "ADMIN": "Everything, including users and API keys.",
        "MANAGER": "Read everything; create and work leads, analyze and transfer them.",
        "SALES": "Read everything; move sales through their stages.",
        "VIEWER": "Read only.",
    },
)
strawberry.enum(ErrorCode, description="Machine-readable reason of a UserError.")
_describe_values(
    ErrorCode,
    {
        "NOT_FOUND": "The ID names nothing this tenant can see.",
        "VALIDATION_FAILED": "An input value is malformed, too long, or out of range.",
        "INVALID_TRANSITION": (
            "A stage skipped, moved backwards, or a transfer asked through changeLeadStage."
        ),
        "IMMUTABLE": "The lead is transferred or lost, or the sale is paid: nothing may change.",
        "NOT_ANALYZED": "The lead has no AI analysis yet.",
        "SCORE_TOO_LOW": "The latest AI score is below the transfer threshold.",
        "BUSINESS_DOMAIN_MISSING": "The lead has no business domain.",
        "VERSION_CONFLICT": "expectedVersion is stale: someone changed the record first.",
        "AI_UNAVAILABLE": "The AI scorer gave no valid answer; nothing was stored.",
        "FORBIDDEN": "The caller may not do this.",
        "BUSY": "Another operation of this tenant holds what this one needs; try again later.",
        "NOT_ENOUGH_OUTCOMES": (
            "Too few closed leads to train the learned scorer; the configured scorer answers."
        ),
    },
)

strawberry.enum(
    EventType,
    description=(
        "What happened. Webhook deliveries name the type by its value, e.g. `lead.created`."
    ),
)
_describe_values(
    EventType,
    {
        "LEAD_CREATED": "A lead was created (at stage NEW).",
        "LEAD_UPDATED": "A lead's contact data changed; `data.fields` names the fields.",
        "LEAD_STAGE_CHANGED": "A lead moved to another stage through changeLeadStage.",
        "LEAD_MESSAGE_RECORDED": "A message with a lead was logged.",
        "LEAD_ANALYZED": "A new AI analysis of a lead was stored.",
        "LEAD_TRANSFERRED": "A lead was transferred to sales (a SALE_CREATED follows).",
        "SALE_CREATED": "A sale was created by a transfer.",
        "SALE_STAGE_CHANGED": "A sale moved to its next stage.",
    },
)

strawberry.enum(
    ScorerKind,
    description=(
        "Which scorer answers analyses. HEURISTIC: fixed, documented weights. MODEL: the "
        "language model the server is configured with. LEARNED: a model fitted on this "
        "tenant's own outcomes (trainScorer); until one is trained, the configured scorer "
        "answers, marked as a fallback. LEARNED_WITH_MODEL_REASONS: the learned score, with "
        "its reason worded by the language model."
    ),
)

__all__ = [
    "ErrorCode",
    "EventType",
    "LeadOrderField",
    "LeadSource",
    "LeadStage",
    "MessageDirection",
    "OrderDirection",
    "Recommendation",
    "Role",
    "SaleOrderField",
    "SaleStage",
    "ScorerKind",
]
