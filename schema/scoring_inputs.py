"""The input of `chooseScorer`."""

import strawberry

from schema.enums import ScorerKind


@strawberry.input(description="The scorer to answer this tenant's analyses from now on.")
class ChooseScorerInput:
    scorer: ScorerKind = strawberry.field(description="The kind of scorer.")
