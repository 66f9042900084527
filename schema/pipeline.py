"""Pipeline figures."""

from decimal import Decimal

import strawberry


@strawberry.type(description="How many records are in one stage.")
class StageCount:
    stage: str = strawberry.field(description="Stage name, e.g. QUALIFIED.")
    count: int = strawberry.field(description="Number of records in it.")


@strawberry.type(description="Figures of the whole pipeline, computed now.")
class PipelineStats:
    leads_by_stage: list[StageCount] = strawberry.field(
        description="Leads per stage, every stage listed in pipeline order."
    )
    sales_by_stage: list[StageCount] = strawberry.field(
        description="Sales per stage, every stage listed in pipeline order."
    )
    transfer_rate: float | None = strawberry.field(
        description="transferred / (transferred + lost); null when neither exists."
    )
    average_latest_score: float | None = strawberry.field(
        description="Mean latest AI score over analyzed leads; null when none is analyzed."
    )
    paid_amount: Decimal = strawberry.field(description="Sum of the amounts of paid sales.")
