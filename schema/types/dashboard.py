"""The dashboard (داشبورد) as the API shows it: models/dashboard.py computes it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry
from strawberry import Info

from models import dashboard as domain
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode


@strawberry.type(
    description=(
        "A period's figures for a set of assignments. Assignments found not applicable (عدم مصداق) are out of "
        "every figure but `notApplicable`; percentages are of `assignments`, 0 when there are none."
    )
)
class DashboardFigures:
    assignments: int = strawberry.field(description="Applicable assignments.")
    referred: int = strawberry.field(description="Referred by the main leader (they have a top referral).")
    referred_percent: float
    submitted: int = strawberry.field(
        description="Submitted to the main leader or finally registered (the top referral reached SUBMITTED or later)."
    )
    submitted_percent: float
    finalized: int = strawberry.field(description="Finally registered (ثبت نهایی) or beyond.")
    finalized_percent: float
    overdue: int = strawberry.field(
        description="Past their deadline (the period's end when they have none) and not finally registered."
    )
    not_applicable: int = strawberry.field(description="Found not applicable: counted here only.")
    self_score: Decimal = strawberry.field(
        description="The self-registered score: the sum of the assignments' `score` (the top referral's value)."
    )
    evaluated: int = strawberry.field(description="Assignments with at least one published evaluation.")
    evaluated_score: Decimal | None = strawberry.field(
        description="The sum of their evaluated scores (each the average of its published evaluations); null when none."
    )

    @classmethod
    def of(cls, figures: domain.Figures) -> DashboardFigures:
        return cls(
            assignments=figures.assignments,
            referred=figures.referred,
            referred_percent=figures.percent(figures.referred),
            submitted=figures.submitted,
            submitted_percent=figures.percent(figures.submitted),
            finalized=figures.finalized,
            finalized_percent=figures.percent(figures.finalized),
            overdue=figures.overdue,
            not_applicable=figures.not_applicable,
            self_score=figures.self_score,
            evaluated=figures.evaluated,
            evaluated_score=figures.evaluated_score,
        )


@strawberry.type(description="One unit of the dashboard: its own assignments, its subtree's, and its rank.")
class DashboardUnit:
    organization_id: strawberry.Private[int]
    rank: int = strawberry.field(
        description=(
            "Among the dashboard's units, by `totals.selfScore` then `totals.evaluatedScore`, highest first; "
            "equal units share a rank (1, 2, 2, 4)."
        )
    )
    own: DashboardFigures = strawberry.field(description="The unit's own assignments.")
    totals: DashboardFigures = strawberry.field(description="The unit and every unit below it, rolled up.")

    @strawberry.field(description="The unit.")
    async def organization(self, info: Info) -> OrganizationNode:
        return await info.context.loaders.organization.load(self.organization_id)


@strawberry.type(
    description=(
        "داشبورد: a period's figures for an organization and each unit directly below it (for a provincial leader "
        "at their own unit, their province's highest provincial and regional units), each rolled up."
    )
)
class Dashboard:
    period: EvaluationPeriodNode
    organization: OrganizationNode
    own: DashboardFigures = strawberry.field(description="The organization's own assignments.")
    totals: DashboardFigures = strawberry.field(description="Everything the dashboard covers, rolled up.")
    units: list[DashboardUnit] = strawberry.field(description="Ranked; ties in tree order.")
    generated_at: datetime.datetime = strawberry.field(description="When these figures were computed.")

    @classmethod
    def of(cls, dashboard: domain.Dashboard) -> Dashboard:
        return cls(
            period=dashboard.period,
            organization=dashboard.organization,
            own=DashboardFigures.of(dashboard.own),
            totals=DashboardFigures.of(dashboard.totals),
            units=[
                DashboardUnit(
                    organization_id=unit.organization_id,
                    rank=unit.rank,
                    own=DashboardFigures.of(unit.own),
                    totals=DashboardFigures.of(unit.totals),
                )
                for unit in dashboard.units
            ],
            generated_at=dashboard.generated_at,
        )
