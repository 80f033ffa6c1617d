"""Indicators and their assignments."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry_django
from strawberry import relay

from models.indicators import Assignment, Indicator
from permissions import scope
from schema.enums import ComparisonTypeEnum, IndicatorKindEnum, IndicatorNatureEnum, ReferralStatusEnum
from schema.types.base import scoped
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode


@strawberry_django.type(Indicator, name="Indicator")
class IndicatorNode(relay.Node):
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
