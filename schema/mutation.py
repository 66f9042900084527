"""The root Mutation type: every state change a person (or integration) can make."""

from typing import Annotated, Any

import strawberry

from domain.access import Permission
from resolvers import access, mutations
from resolvers import imports as import_mutations
from resolvers import scoring as scoring_mutations
from resolvers import webhooks as webhook_mutations
from resolvers.context import Info
from schema import access_inputs, inputs
from schema.access import ApiKeyPayload, CreateApiKeyPayload, UserPayload
from schema.import_inputs import ImportLeadsInput
from schema.imports import ImportLeadsPayload
from schema.payloads import AnalyzeLeadPayload, LeadPayload, SalePayload, TransferLeadPayload
from schema.permissions import needs
from schema.scoring import ScorerSettingsPayload, TrainScorerPayload
from schema.scoring_inputs import ChooseScorerInput
from schema.webhook_inputs import (
    CreateWebhookInput,
    DeleteWebhookInput,
    RedeliverWebhookEventInput,
    RotateWebhookSecretInput,
    UpdateWebhookInput,
)
from schema.webhooks import (
    DeleteWebhookPayload,
    WebhookDeliveryPayload,
    WebhookPayload,
    WebhookSecretPayload,
)

_INPUT = strawberry.argument(description="The change to make; its type describes each field.")


@strawberry.type(description="Change the pipeline. Refusals come back as userErrors.")
class Mutation:
    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description="Create a lead in stage NEW.",
        graphql_type=LeadPayload,
    )
    async def create_lead(
        self, info: Info, input: Annotated[inputs.CreateLeadInput, _INPUT]
    ) -> Any:
        return await mutations.create_lead(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description="Edit a lead's data.",
        graphql_type=LeadPayload,
    )
    async def update_lead(
        self, info: Info, input: Annotated[inputs.UpdateLeadInput, _INPUT]
    ) -> Any:
        return await mutations.update_lead(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description="Move a lead one stage forward, or to LOST with a reason.",
        graphql_type=LeadPayload,
    )
    async def change_lead_stage(
        self, info: Info, input: Annotated[inputs.ChangeLeadStageInput, _INPUT]
    ) -> Any:
        return await mutations.change_lead_stage(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description="Log a message with a lead.",
        graphql_type=LeadPayload,
    )
    async def record_lead_message(
        self, info: Info, input: Annotated[inputs.RecordLeadMessageInput, _INPUT]
    ) -> Any:
        return await mutations.record_lead_message(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description="Ask the AI for advice. Advisory only: it changes nothing about the lead.",
        graphql_type=AnalyzeLeadPayload,
    )
    async def analyze_lead(
        self, info: Info, input: Annotated[inputs.AnalyzeLeadInput, _INPUT]
    ) -> Any:
        return await mutations.analyze_lead(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_LEADS),
        description=(
            "All gates are checked together, under a row lock; on success the lead becomes "
            "TRANSFERRED and one Sale (NEW) is created in the same transaction."
        ),
        graphql_type=TransferLeadPayload,
    )
    async def transfer_lead(
        self, info: Info, input: Annotated[inputs.TransferLeadInput, _INPUT]
    ) -> Any:
        return await mutations.transfer_lead(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.WORK_SALES),
        description="Move a sale one stage forward; PAID needs an amount.",
        graphql_type=SalePayload,
    )
    async def change_sale_stage(
        self, info: Info, input: Annotated[inputs.ChangeSaleStageInput, _INPUT]
    ) -> Any:
        return await mutations.change_sale_stage(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Add a user to this tenant.",
        graphql_type=UserPayload,
    )
    async def create_user(
        self, info: Info, input: Annotated[access_inputs.CreateUserInput, _INPUT]
    ) -> Any:
        return await access.create_user(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Change another user's role; their keys act with it from the next request.",
        graphql_type=UserPayload,
    )
    async def update_user_role(
        self, info: Info, input: Annotated[access_inputs.UpdateUserRoleInput, _INPUT]
    ) -> Any:
        return await access.update_user_role(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Deactivate another user: their keys stop working at once; history stays.",
        graphql_type=UserPayload,
    )
    async def deactivate_user(
        self, info: Info, input: Annotated[access_inputs.DeactivateUserInput, _INPUT]
    ) -> Any:
        return await access.deactivate_user(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Issue an API key; the payload's secret is the only time it is shown.",
        graphql_type=CreateApiKeyPayload,
    )
    async def create_api_key(
        self, info: Info, input: Annotated[access_inputs.CreateApiKeyInput, _INPUT]
    ) -> Any:
        return await access.create_api_key(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_ACCESS),
        description="Revoke an API key; it stops working at once.",
        graphql_type=ApiKeyPayload,
    )
    async def revoke_api_key(
        self, info: Info, input: Annotated[access_inputs.RevokeApiKeyInput, _INPUT]
    ) -> Any:
        return await access.revoke_api_key(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description=(
            "Register an endpoint for events; the payload's secret (for verifying signatures) "
            "is the only time it is shown."
        ),
        graphql_type=WebhookSecretPayload,
    )
    async def create_webhook(self, info: Info, input: Annotated[CreateWebhookInput, _INPUT]) -> Any:
        return await webhook_mutations.create_webhook(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description="Change an endpoint's URL, events or description, or disable or enable it.",
        graphql_type=WebhookPayload,
    )
    async def update_webhook(self, info: Info, input: Annotated[UpdateWebhookInput, _INPUT]) -> Any:
        return await webhook_mutations.update_webhook(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description="Delete an endpoint and its deliveries; nothing more is sent to it.",
        graphql_type=DeleteWebhookPayload,
    )
    async def delete_webhook(self, info: Info, input: Annotated[DeleteWebhookInput, _INPUT]) -> Any:
        return await webhook_mutations.delete_webhook(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description=(
            "A new signing secret, shown only in the payload; the old one keeps signing too "
            "for 24 hours, while receivers switch."
        ),
        graphql_type=WebhookSecretPayload,
    )
    async def rotate_webhook_secret(
        self, info: Info, input: Annotated[RotateWebhookSecretInput, _INPUT]
    ) -> Any:
        return await webhook_mutations.rotate_webhook_secret(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_WEBHOOKS),
        description=(
            "Send a delivery's event to its endpoint again, as a new delivery (the event "
            "keeps its id, so receivers that already have it can drop it)."
        ),
        graphql_type=WebhookDeliveryPayload,
    )
    async def redeliver_webhook_event(
        self, info: Info, input: Annotated[RedeliverWebhookEventInput, _INPUT]
    ) -> Any:
        return await webhook_mutations.redeliver_webhook_event(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_SCORING),
        description=(
            "Choose the scorer of this tenant's analyses; the next analysis in every "
            "process uses it. Admins only."
        ),
        graphql_type=ScorerSettingsPayload,
    )
    async def choose_scorer(self, info: Info, input: Annotated[ChooseScorerInput, _INPUT]) -> Any:
        return await scoring_mutations.choose_scorer(info, input)

    @strawberry.mutation(
        permission_classes=needs(Permission.MANAGE_SCORING),
        description=(
            "Fit a new version of the learned scorer on this tenant's closed leads (never "
            "the held-out ones). Declines with NOT_ENOUGH_OUTCOMES below the minimum "
            "(CRM_AI_LEARNED_MIN_OUTCOMES). Also runs nightly for tenants using it. Admins only."
        ),
        graphql_type=TrainScorerPayload,
    )
    async def train_scorer(self, info: Info) -> Any:
        return await scoring_mutations.train_scorer(info, None)

    # ------------------------------------------------------------ imports (services/imports/)
    @strawberry.mutation(
        permission_classes=needs(Permission.IMPORT_LEADS),
        description=(
            "Bring leads in from CSV (an upload as `file`, or `csv` text): open leads, and "
            "closed ones with their outcomes, which the learned scorer learns from. Good rows "
            "are imported, bad ones reported by line; the same file again creates nothing. "
            "Imported leads are historical facts: no stage machine, no transfer gates. "
            "Admins and managers."
        ),
        graphql_type=ImportLeadsPayload,
    )
    async def import_leads(self, info: Info, input: Annotated[ImportLeadsInput, _INPUT]) -> Any:
        return await import_mutations.import_leads(info, input)
