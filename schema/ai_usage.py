"""What AI scoring cost: the `aiUsage` query's types."""

from datetime import date

import strawberry

from services.ai.usage import UsagePeriod

strawberry.enum(UsagePeriod, description="Whole UTC days up to and including today.")


@strawberry.type(description="One scorer's use over the period.")
class ScorerUsage:
    scorer: str = strawberry.field(
        description="The answering scorer, as analyses name it, e.g. openai:<model>."
    )
    calls: int = strawberry.field(description="Analyses this scorer made (each one call).")
    cache_hits: int = strawberry.field(
        description="Requests answered by reusing one of its analyses instead."
    )
    fallbacks: int = strawberry.field(
        description="Of its calls, those that stood in for another scorer (a fallback)."
    )
    tokens_in: int = strawberry.field(description="Prompt tokens models reported.")
    tokens_out: int = strawberry.field(description="Answer tokens models reported.")


@strawberry.type(description="AI use of this tenant over a period, per scorer.")
class AIUsage:
    first_day: date = strawberry.field(description="First UTC day counted.")
    last_day: date = strawberry.field(description="Last UTC day counted: today.")
    scorers: list[ScorerUsage] = strawberry.field(
        description="Every scorer used in the period, by name."
    )
