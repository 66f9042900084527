"""The root Query type."""

from typing import Annotated, Any

import strawberry

from domain.access import Permission
from resolvers import access, ai_usage, audit, events, leads, nodes, outcomes, pipeline, sales
from resolvers import scoring as scoring_resolvers
from resolvers.context import Info
from resolvers.events import DEFAULT_EVENTS_PAGE
from resolvers.pagination import PageArgs
from resolvers.webhooks import all_webhooks, webhook_deliveries
from schema.access import ApiKey, User
from schema.ai_usage import AIUsage
from schema.audit import AuditEntryConnection
from schema.audit_inputs import AuditLogFilter
from schema.enums import EventType
from schema.events import EventConnection
from schema.inputs import LeadFilter, LeadOrder, SaleFilter, SaleOrder
from schema.leads import Lead, LeadConnection
from schema.node import Node
from schema.outcomes import ScorerQuality
from schema.permissions import needs
from schema.pipeline import PipelineStats
from schema.sales import Sale, SaleConnection
from schema.scoring import ScorerSettings
from schema.webhook_inputs import DeliveryStatus
from schema.webhooks import Webhook, WebhookDeliveryConnection
from services.ai.usage import UsagePeriod

_FIRST = strawberry.argument(description="Page forward: at most this many (0-100, default 20).")
_AFTER = strawberry.argument(description="Start after this cursor.")
_LAST = strawberry.argument(description="Page backward: at most this many (0-100).")
_BEFORE = strawberry.argument(description="End before this cursor.")
_ID = strawberry.argument(description="Global ID.")


@strawberry.type(description="Read the pipeline.")
class Query:
    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="Any object by global ID; null if it does not exist.",
    )
    async def node(self, info: Info, id: Annotated[strawberry.ID, _ID]) -> Node | None:
        result: Any = await nodes.node(info, id)
        return result  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="One lead by global ID; null if it does not exist.",
        graphql_type=Lead | None,
    )
    async def lead(self, info: Info, id: Annotated[strawberry.ID, _ID]) -> Any:
        return await leads.lead(info, id)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="Leads, newest first unless `orderBy` says otherwise.",
        graphql_type=LeadConnection,
    )
    async def leads(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
        where: Annotated[
            LeadFilter | None,
            strawberry.argument(name="filter", description="Conditions all leads must meet."),
        ] = None,
        order_by: Annotated[
            LeadOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
    ) -> Any:
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await leads.leads(info, where=where, order=order_by, page=page)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="One sale by global ID; null if it does not exist.",
        graphql_type=Sale | None,
    )
    async def sale(self, info: Info, id: Annotated[strawberry.ID, _ID]) -> Any:
        return await sales.sale(info, id)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="Sales, newest first unless `orderBy` says otherwise.",
        graphql_type=SaleConnection,
    )
    async def sales(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        last: Annotated[int | None, _LAST] = None,
        before: Annotated[str | None, _BEFORE] = None,
        where: Annotated[
            SaleFilter | None,
            strawberry.argument(name="filter", description="Conditions all sales must meet."),
        ] = None,
        order_by: Annotated[
            SaleOrder | None, strawberry.argument(description="Sort order.")
        ] = None,
    ) -> Any:
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await sales.sales(info, where=where, order=order_by, page=page)

    @strawberry.field(
        permission_classes=needs(Permission.VIEW_AI_USAGE),
        description=(
            "What AI scoring cost this tenant, per scorer: calls, tokens, cache hits and "
            "fallbacks. For admins and managers."
        ),
        graphql_type=AIUsage,
    )
    async def ai_usage(
        self,
        info: Info,
        period: Annotated[
            UsagePeriod, strawberry.argument(description="Which days to sum.")
        ] = UsagePeriod.TODAY,
    ) -> Any:
        return await ai_usage.ai_usage(info, period)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="Figures of the whole pipeline.",
        graphql_type=PipelineStats,
    )
    async def pipeline(self, info: Info) -> Any:
        return await pipeline.pipeline(info)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description=(
            "How well each scorer foretold the outcomes: ROC AUC, Brier score, log loss, "
            "calibration by score band and the transfer gate's errors; from each scorer's "
            "last stored score before each outcome (RECORDED), and from the heuristic and "
            "the newest learned model asked again about each closed lead (REPLAYED)."
        ),
        graphql_type=list[ScorerQuality],
    )
    async def scorer_report(
        self,
        info: Info,
        held_out_only: Annotated[
            bool,
            strawberry.argument(
                description=(
                    "Judge on the held-out split only (about one lead in five, the same "
                    "for every scorer, never used for training); false: every outcome."
                )
            ),
        ] = True,
    ) -> Any:
        return await outcomes.scorer_report(info, held_out_only)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description="The caller: the user the API key (or sign-in) acts as.",
        graphql_type=User,
    )
    async def me(self, info: Info) -> Any:
        return await access.me(info)

    @strawberry.field(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Every user of this tenant, deactivated ones too, oldest first.",
        graphql_type=list[User],
    )
    async def users(self, info: Info) -> Any:
        return await access.all_users(info)

    @strawberry.field(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Every API key of this tenant, revoked and expired ones too, oldest first.",
        graphql_type=list[ApiKey],
    )
    async def api_keys(self, info: Info) -> Any:
        return await access.all_api_keys(info)

    @strawberry.field(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Every change to this tenant's data, newest first.",
        graphql_type=AuditEntryConnection,
    )
    async def audit_log(
        self,
        info: Info,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
        where: Annotated[
            AuditLogFilter | None,
            strawberry.argument(name="filter", description="Conditions all entries must meet."),
        ] = None,
    ) -> Any:
        return await audit.audit_log(info, where=where, page=PageArgs(first=first, after=after))

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description=(
            "The event journal, oldest first: what happened after the `after` event. A "
            "client that was offline catches up from the last event ID it saw (a "
            "subscription's `eventId`). Events are kept for at least 7 days; an `after` "
            "older than that is refused with EVENTS_EXPIRED."
        ),
        graphql_type=EventConnection,
    )
    async def events(
        self,
        info: Info,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Start after this event (its ID); omit: oldest."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="At most this many (0-100).")
        ] = DEFAULT_EVENTS_PAGE,
        types: Annotated[
            list[EventType] | None,
            strawberry.argument(description="Only events of these types; omit: all."),
        ] = None,
    ) -> Any:
        return await events.events(info, after=after, first=first, types=types)

    @strawberry.field(
        permission_classes=needs(Permission.READ),
        description=(
            "ID of the newest event; null before the first. Read it before (or with) loading "
            "a view, then follow changes from it with `events(after:)` or a subscription."
        ),
    )
    async def latest_event_id(self, info: Info) -> strawberry.ID | None:
        found = await events.latest_event_id(info)
        return None if found is None else strawberry.ID(found)

    @strawberry.field(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description="Every webhook of this tenant, disabled ones too, oldest first.",
        graphql_type=list[Webhook],
    )
    async def webhooks(self, info: Info) -> Any:
        return await all_webhooks(info)

    @strawberry.field(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description="Webhook deliveries, newest first: what was sent, and how it went.",
        graphql_type=WebhookDeliveryConnection,
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this webhook's.")
        ] = None,
        status: Annotated[
            DeliveryStatus | None, strawberry.argument(description="Only those in this status.")
        ] = None,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> Any:
        page = PageArgs(first=first, after=after)
        return await webhook_deliveries(info, webhook_id=webhook_id, status=status, page=page)

    @strawberry.field(
        permission_classes=needs(Permission.VIEW_AI_USAGE),
        description=(
            "Which scorer answers this tenant's analyses, and its newest learned model. "
            "For admins and managers."
        ),
        graphql_type=ScorerSettings,
    )
    async def scorer_settings(self, info: Info) -> Any:
        return await scoring_resolvers.scorer_settings(info)
