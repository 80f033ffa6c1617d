"""Indicators and their assignments."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.indicators import Assignment, Indicator
from permissions import scope
from schema.connection import ManaConnection
from schema.enums import (
    ComparisonTypeEnum,
    IndicatorKindEnum,
    IndicatorNatureEnum,
    ReferralStatusEnum,
    RollupRuleEnum,
)
from schema.types.base import scoped
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode

if TYPE_CHECKING:
    from schema.types.evaluation import EvaluationNode
    from schema.types.non_applicability import NonApplicabilityRequestNode
    from schema.types.referral import PerformanceNode, ReferralNode
    from schema.types.user import UserNode

ReferralRef = Annotated["ReferralNode", strawberry.lazy("schema.types.referral")]
PerformanceRef = Annotated["PerformanceNode", strawberry.lazy("schema.types.referral")]
EvaluationRef = Annotated["EvaluationNode", strawberry.lazy("schema.types.evaluation")]
RequestRef = Annotated["NonApplicabilityRequestNode", strawberry.lazy("schema.types.non_applicability")]
UserRef = Annotated["UserNode", strawberry.lazy("schema.types.user")]


@strawberry_django.type(Indicator, name="Indicator")
class IndicatorNode(relay.Node):
    id: relay.NodeID[int]
    code: str
    title: str
    kind: IndicatorKindEnum
    unit: str
    nature: IndicatorNatureEnum
    comparison_type: ComparisonTypeEnum
    rollup: RollupRuleEnum = strawberry_django.field(
        description="How provincial slices add up to what they split: check slice targets with it before sending."
    )
    legal_basis: str | None
    calculation_method: str | None

    get_queryset = scoped(scope.restrict_indicators)


@strawberry_django.type(Assignment, name="Assignment")
class AssignmentNode(relay.Node):
    id: relay.NodeID[int]
    indicator: IndicatorNode
    organization: OrganizationNode
    period: EvaluationPeriodNode
    target: Decimal
    lower_bound: Decimal | None
    upper_bound: Decimal | None
    weight: Decimal
    score_cap: Decimal
    deadline: datetime.date | None
    status: ReferralStatusEnum
    is_applicable: bool = strawberry_django.field(
        description="False once a non-applicability request was approved: out of scoring and of every total."
    )

    get_queryset = scoped(scope.restrict_assignments)

    @strawberry_django.connection(
        ManaConnection[ReferralRef], description="The referral chain, as far as the viewer sees it."
    )
    async def referrals(self, info: Info) -> list[ReferralRef]:
        return await info.context.loaders.assignment_referrals.load(self.pk)

    @strawberry_django.field(description="The result registered for the organization (the top referral's).")
    async def performance(self, info: Info) -> PerformanceRef | None:
        return await info.context.loaders.top_performance.load(self.pk)

    @strawberry_django.field(
        only=["is_applicable"],
        description="The score of that result (models/scoring.py); null when the assignment is not applicable.",
    )
    async def score(self, info: Info) -> Decimal | None:
        from schema.types.referral import score_on_referral

        if not self.is_applicable:
            return None
        performance = await info.context.loaders.top_performance.load(self.pk)
        return None if performance is None else score_on_referral(performance.referral, performance.value)

    @strawberry_django.field(
        description=(
            "The evaluation the viewer reads: the organization's people, the first published one (null before "
            "publication); an evaluator, their own; the senior leader, the first recorded."
        )
    )
    async def evaluation(self, info: Info) -> EvaluationRef | None:
        evaluations = await info.context.loaders.assignment_evaluations.load(self.pk)
        return evaluations[0] if evaluations else None

    @strawberry_django.field(description="Every evaluation of it the viewer may read, oldest first.")
    async def evaluations(self, info: Info) -> list[EvaluationRef]:
        return await info.context.loaders.assignment_evaluations.load(self.pk)

    @strawberry_django.field(
        description="The average of the published evaluated scores among those the viewer reads; null before any."
    )
    async def evaluated_score(self, info: Info) -> Decimal | None:
        from models.evaluation_workflow import evaluated_score

        evaluations = await info.context.loaders.assignment_evaluations.load(self.pk)
        return evaluated_score(e.score for e in evaluations if e.published_at is not None)

    @strawberry_django.field(
        description="The evaluators it was given to: for the senior leader; an evaluator sees only themselves."
    )
    async def evaluators(self, info: Info) -> list[UserRef]:
        return await info.context.loaders.assignment_evaluators.load(self.pk)

    @strawberry_django.field(description="Its non-applicability requests (درخواست عدم مصداق), newest first.")
    async def non_applicability_requests(self, info: Info) -> list[RequestRef]:
        return await info.context.loaders.assignment_requests.load(self.pk)
