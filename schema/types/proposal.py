"""Indicator proposals (پیشنهاد شاخص) as the API shows them, their inputs and payloads; and the
sign-in page's support contacts."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.requests import Proposal
from permissions import scope
from schema.enums import IndicatorNatureEnum, OrganizationKindEnum, RequestStatusEnum, ReviewDecision
from schema.errors import UserError
from schema.types.base import scoped
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode
from schema.types.user import UserNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode

AssignmentRef = Annotated["AssignmentNode", strawberry.lazy("schema.types.indicator")]


@strawberry_django.type(Proposal, name="Proposal")
class ProposalNode(relay.Node):
    """One row of the seed's «پیشنهاد شاخص» list."""

    id: relay.NodeID[int]
    period: EvaluationPeriodNode
    title: str = strawberry_django.field(description="The indicator proposed (شاخص).")
    unit: str = strawberry_django.field(description="واحد سنجش.")
    nature: IndicatorNatureEnum
    calculation_method: str = strawberry_django.field(description="نحوه محاسبه; empty when not given.")
    upper_bound: Decimal | None = strawberry_django.field(description="حد بالای هدف.")
    lower_bound: Decimal | None = strawberry_django.field(description="حد پایین هدف.")
    target: Decimal = strawberry_django.field(description="مقدار هدف.")
    score: Decimal = strawberry_django.field(
        description="The points proposed: the resulting assignment's score cap (its weight is half)."
    )
    created_at: datetime.datetime = strawberry_django.field(description="تاریخ: when it was proposed.")
    status: RequestStatusEnum
    proposer: UserNode | None = strawberry_django.field(description="Who proposed it; null where out of scope.")
    reviewer: UserNode | None = strawberry_django.field(
        field_name="reviewed_by", description="The senior leader who decided; null while pending or out of scope."
    )
    reviewed_at: datetime.datetime | None
    review_reason: str = strawberry_django.field(description="The reviewer's reason (a rejection always has one).")
    assignment: AssignmentRef | None = strawberry_django.field(
        description="The assignment an approved proposal became, in the unit's inbox; null otherwise."
    )

    get_queryset = scoped(scope.restrict_proposals, ordering=("-created_at", "-id"))

    @strawberry_django.field(only=["organization_id"], description="The unit it is proposed for.")
    async def organization(self, info: Info) -> OrganizationNode | None:
        # Through the scoped loader, like every unit read beside a row: a proposal is visible only
        # for a unit of the viewer's scope (or, to a provincial leader, as their own), so this is
        # null only for one's own proposal for a unit that has since left the province.
        return await info.context.loaders.organization.load(self.organization_id)

    @strawberry_django.field(only=["organization_id"], description="نوع دستگاه: the unit's kind.")
    async def organization_kind(self, info: Info) -> OrganizationKindEnum | None:
        organization = await info.context.loaders.organization.load(self.organization_id)
        return None if organization is None else organization.kind


@strawberry.input(description="The «پیشنهاد شاخص» form.")
class ProposeIndicatorInput:
    period: strawberry.ID = strawberry.field(description="An open evaluation period.")
    organization: strawberry.ID = strawberry.field(
        description=(
            "A provincial leader: a provincial or regional unit of their province. A main leader: a unit of "
            "their subtree, while the period's proposals are open for executive organizations."
        )
    )
    title: str
    unit: str
    nature: IndicatorNatureEnum
    calculation_method: str | None = None
    target: Decimal = strawberry.field(
        description="As many digits as an assignment's target (14 before the point, 4 after); a count is not negative."
    )
    lower_bound: Decimal | None = None
    upper_bound: Decimal | None = strawberry.field(default=None, description="Not below lowerBound.")
    score: Decimal = strawberry.field(
        description=(
            "Points, above zero, two decimal places at most; a provincial or regional unit's pending and approved "
            "proposals may add up to the period's provincialProposalCap (PROPOSAL_OVER_CAP)."
        )
    )


@strawberry.type
class ProposeIndicatorPayload:
    errors: list[UserError]
    proposal: ProposalNode | None = None


@strawberry.input
class ReviewProposalInput:
    proposal: strawberry.ID
    decision: ReviewDecision
    reason: str | None = strawberry.field(default=None, description="Required to reject; shown to the proposer.")


@strawberry.type
class ReviewProposalPayload:
    errors: list[UserError]
    proposal: ProposalNode | None = None


@strawberry.type(description="«پشتیبانی» on the sign-in page, as set in the admin console (تنظیمات سکو).")
class Support:
    phone: str | None = strawberry.field(description="Support telephone; null when not set.")
    hours: str | None = strawberry.field(description="When support answers, e.g. «روزهای کاری ۸ الی ۱۶».")
    url: str | None = strawberry.field(description="The support system's address (سامانه پشتیبانی).")
