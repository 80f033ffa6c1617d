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
from schema.enums import ComparisonTypeEnum, IndicatorKindEnum, IndicatorNatureEnum, ReferralStatusEnum
from schema.types.base import scoped
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode

if TYPE_CHECKING:
    from schema.types.referral import PerformanceNode, ReferralNode

ReferralRef = Annotated["ReferralNode", strawberry.lazy("schema.types.referral")]
PerformanceRef = Annotated["PerformanceNode", strawberry.lazy("schema.types.referral")]


@strawberry_django.type(Indicator, name="Indicator")
class IndicatorNode(relay.Node):
    id: relay.NodeID[int]
    code: str
    title: str
    kind: IndicatorKindEnum
    unit: str
    nature: IndicatorNatureEnum
    comparison_type: ComparisonTypeEnum
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

    get_queryset = scoped(scope.restrict_assignments)

    @strawberry_django.connection(
        ManaConnection[ReferralRef], description="The referral chain, as far as the viewer sees it."
    )
    async def referrals(self, info: Info) -> list[ReferralRef]:
        return await info.context.loaders.assignment_referrals.load(self.pk)

    @strawberry_django.field(description="The result registered for the organization (the top referral's).")
    async def performance(self, info: Info) -> PerformanceRef | None:
        return await info.context.loaders.top_performance.load(self.pk)

    @strawberry_django.field(description="The score of that result (models/scoring.py).")
    async def score(self, info: Info) -> Decimal | None:
        from schema.types.referral import score_on_referral

        performance = await info.context.loaders.top_performance.load(self.pk)
        return None if performance is None else score_on_referral(performance.referral, performance.value)
