"""The referral chain, performance and evidence as the API shows them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.db.models import F
from django.urls import reverse
from strawberry import Info, relay

from models.inbox import OPEN_STATUSES, inbox_action
from models.progress import today_in_tehran
from models.referrals import Evidence, Performance, ProvincialSlice, Referral, ReferralEvent
from models.scoring import referral_score
from permissions import scope
from schema.enums import BreakdownByEnum, InboxActionEnum, ReferralStatusEnum
from schema.public_urls import public_url
from schema.types.base import computed, scoped
from schema.types.geography import ProvinceNode
from schema.types.organization import OrganizationNode
from schema.types.user import UserNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode

AssignmentRef = Annotated["AssignmentNode", strawberry.lazy("schema.types.indicator")]


@strawberry_django.type(Evidence, name="Evidence")
class EvidenceNode(relay.Node):
    id: relay.NodeID[int]
    file_name: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime

    @strawberry_django.field(
        only=["pk", "file_name"],
        description=(
            "Absolute download address (MANA_PUBLIC_URL, or this request's scheme and host): a GET with the "
            "viewer's session or API token answers the file; checked against the viewer's scope (404 outside it)."
        ),
    )
    @computed
    def url(self, info: Info) -> str:
        return public_url(info.context.request, reverse("evidence-download", args=[self.pk, self.file_name]))

    get_queryset = scoped(scope.restrict_evidence, ordering=("id",))


@strawberry.type(description="One change of a performance value: who, when, from what to what.")
class PerformanceValueChange:
    at: datetime.datetime
    actor: UserNode | None
    old_value: Decimal | None
    new_value: Decimal | None


# What PerformanceNode.score needs besides the value, read in the performance's own query.
SCORE_INPUTS = {
    "_score_target": F("referral__target"),
    "_score_province_id": F("referral__province_id"),
    "_score_weight": F("referral__assignment__weight"),
    "_score_cap": F("referral__assignment__score_cap"),
    "_score_lower_bound": F("referral__assignment__lower_bound"),
    "_score_upper_bound": F("referral__assignment__upper_bound"),
    "_score_nature": F("referral__assignment__indicator__nature"),
}


@strawberry_django.type(Performance, name="Performance")
class PerformanceNode(relay.Node):
    id: relay.NodeID[int]
    value: Decimal | None
    has_strategic_plan: bool
    has_information_system: bool
    comments: str | None
    obstacles: str | None
    improvement_solutions: str | None
    partner_performance: str | None
    is_registry_based: bool
    registry_comments: str | None
    evidence: list[EvidenceNode]
    updated_at: datetime.datetime
    version: int

    get_queryset = scoped(scope.restrict_performances)

    @strawberry_django.field(
        only=["value", "referral_id"],
        # Annotated on the performance row itself: reached through `Referral.performance`, Django
        # caches the parent referral on it (with only the assignment fields that query asked for),
        # so reading the scoring inputs through `self.referral` would cost queries per row.
        annotate=SCORE_INPUTS,
        description="The score of this value against this referral's target (models/scoring.py).",
    )
    def score(self) -> Decimal | None:
        if hasattr(self, "_score_weight"):
            return _score_from_annotations(self)
        return score_on_referral(self.referral, self.value)

    @strawberry_django.field(
        only=["pk"],
        # Through a loader, not the optimizer: simple-history's `history` is a manager, not a
        # relation Django can prefetch (the optimizer's prefetch answered INTERNAL_ERROR on `node`,
        # `nodes` and `inbox`). One query for every performance of the page, whatever the path.
        description="Every saved change of the value, oldest first.",
    )
    async def value_history(self, info: Info) -> list[PerformanceValueChange]:
        records = await info.context.loaders.performance_history.load(self.pk)
        return value_changes(records)


def value_changes(records) -> list[PerformanceValueChange]:
    """The value's changes from its history records (oldest first), skipping saves that kept it."""
    changes, previous = [], None
    for record in records:
        # The creation record counts only when it already carried a value.
        created_with_value = record.history_type == "+" and record.value is not None
        if created_with_value or (record.history_type != "+" and record.value != previous):
            changes.append(
                PerformanceValueChange(
                    at=record.history_date, actor=record.history_user, old_value=previous, new_value=record.value
                )
            )
        previous = record.value
    return changes


def _score_from_annotations(performance: Performance) -> Decimal | None:
    return referral_score(
        value=performance.value,
        target=performance._score_target,
        is_slice=performance._score_province_id is not None,
        weight=performance._score_weight,
        cap=performance._score_cap,
        nature=performance._score_nature,
        lower_bound=performance._score_lower_bound,
        upper_bound=performance._score_upper_bound,
    )


def score_on_referral(referral: Referral, value: Decimal | None) -> Decimal | None:
    assignment = referral.assignment
    return referral_score(
        value=value,
        target=referral.target,
        is_slice=referral.province_id is not None,
        weight=assignment.weight,
        cap=assignment.score_cap,
        nature=assignment.indicator.nature,
        lower_bound=assignment.lower_bound,
        upper_bound=assignment.upper_bound,
    )


@strawberry_django.type(ReferralEvent, name="ReferralEvent")
class ReferralEventType:
    at: datetime.datetime
    actor: UserNode
    from_status: ReferralStatusEnum | None
    to_status: ReferralStatusEnum
    reason: str | None


@strawberry_django.type(ProvincialSlice, name="ProvincialSlice")
class ProvincialSliceType:
    province: ProvinceNode
    target: Decimal
    weight: Decimal


@strawberry_django.type(Referral, name="Referral")
class ReferralNode(relay.Node):
    id: relay.NodeID[int]
    assignment: AssignmentRef
    children: list[ReferralNode]
    referrer: UserNode
    assignee: UserNode
    organization: OrganizationNode
    province: ProvinceNode | None
    target: Decimal
    deadline: datetime.date
    has_provincial_breakdown: bool
    breakdown_by: BreakdownByEnum | None
    status: ReferralStatusEnum
    version: int
    performance: PerformanceNode | None
    slices: list[ProvincialSliceType]
    timeline: list[ReferralEventType] = strawberry_django.field(field_name="events")

    get_queryset = scoped(scope.restrict_referrals, ordering=("id",))

    @strawberry_django.field(
        only=["parent_id"], description="The referral above; null where the viewer may not see it."
    )
    async def parent(self, info: Info) -> ReferralNode | None:
        # Referrals also come from loaders and mutation payloads, which the optimizer does not
        # prefetch through the scope; a plain `self.parent` would step out of it.
        if self.parent_id is None:
            return None
        return await info.context.loaders.referral.load(self.parent_id)

    @strawberry_django.field(only=["deadline"], description="Days until the deadline (negative when past).")
    @computed
    def days_left(self) -> int:
        return (self.deadline - today_in_tehran()).days

    @strawberry_django.field(only=["deadline", "status"], description="Past its deadline and not yet finished.")
    @computed
    def is_overdue(self) -> bool:
        return self.status in OPEN_STATUSES and self.deadline < today_in_tehran()

    @strawberry_django.field(
        only=["referrer_id", "assignee_id", "status"],
        description="What the inbox asks of the viewer; null when nothing.",
    )
    @computed
    def inbox_action(self, info: Info) -> InboxActionEnum | None:
        return inbox_action(self, info.context.viewer.user)
