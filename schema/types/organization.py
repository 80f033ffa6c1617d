"""The organization tree as the API shows it."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.organization import Organization
from permissions import scope
from schema.connection import ManaConnection
from schema.enums import IndicatorKindEnum, OrganizationKindEnum
from schema.ids import decode_global_id
from schema.types.base import scoped
from schema.types.geography import ProvinceNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode

TREE_FIELDS = ["tree_id", "lft", "rght"]


@strawberry.type(description="The share of a unit's assignments already referred, and the time left.")
class ReferralProgress:
    general_percent: float
    specific_percent: float
    deadline: datetime.date | None
    days_left: int | None


@strawberry_django.type(Organization, name="Organization")
class OrganizationNode(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str
    kind: OrganizationKindEnum
    level: int
    province: ProvinceNode | None
    children: list[OrganizationNode]

    get_queryset = scoped(scope.restrict_organizations, ordering=("tree_id", "lft"))

    @strawberry_django.field(only=["parent_id"], description="The parent unit; null at the top of the viewer's scope.")
    async def parent(self, info: Info) -> OrganizationNode | None:
        # Through the scoped loader, not the foreign key: rows that came from a loader or from `me`
        # are not prefetched by the optimizer, and a plain `self.parent` would step out of scope.
        if self.parent_id is None:
            return None
        return await info.context.loaders.organization.load(self.parent_id)

    @strawberry_django.field(
        only=TREE_FIELDS, description="From the root down to the parent, within the viewer's scope."
    )
    async def ancestors(self, info: Info) -> list[OrganizationNode]:
        return await info.context.loaders.ancestors.load((self.tree_id, self.lft, self.rght))

    @strawberry_django.connection(
        ManaConnection[Annotated["OrganizationNode", strawberry.lazy("schema.types.organization")]], only=TREE_FIELDS
    )
    async def descendants(self, info: Info, kind: OrganizationKindEnum | None = None) -> list[OrganizationNode]:
        # Batched over every organization of the list (one query, scoped in the loader), then
        # paginated over the list, like `assignments`.
        key = (self.tree_id, self.lft, self.rght, kind.value if kind else None)
        return await info.context.loaders.descendants.load(key)

    @strawberry_django.connection(
        ManaConnection[Annotated["AssignmentNode", strawberry.lazy("schema.types.indicator")]]
    )
    async def assignments(
        self, info: Info, period: strawberry.ID, kind: IndicatorKindEnum | None = None
    ) -> list[Annotated[AssignmentNode, strawberry.lazy("schema.types.indicator")]]:
        _, period_pk = decode_global_id(period, "EvaluationPeriod")
        return await info.context.loaders.assignments.load((self.pk, period_pk, kind.value if kind else None))

    @strawberry_django.field
    async def referral_progress(self, info: Info, period: strawberry.ID) -> ReferralProgress:
        _, period_pk = decode_global_id(period, "EvaluationPeriod")
        progress = await info.context.loaders.referral_progress.load((self.pk, period_pk))
        return ReferralProgress(
            general_percent=progress.general_percent,
            specific_percent=progress.specific_percent,
            deadline=progress.deadline,
            days_left=progress.days_left,
        )
