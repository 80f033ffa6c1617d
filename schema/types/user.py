"""People, their roles, and the viewer's own view of themselves."""

from __future__ import annotations

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.users import RoleAssignment, User
from permissions import scope
from schema.enums import RoleEnum
from schema.types.base import scoped
from schema.types.organization import OrganizationNode


@strawberry_django.type(User, name="User")
class UserNode(relay.Node):
    id: relay.NodeID[int]
    national_code: str
    first_name: str
    last_name: str
    post: str | None

    get_queryset = scoped(scope.restrict_users)

    @strawberry_django.field(
        only=["organization_id", "approver_id"],
        description="Their unit; null where outside the viewer's scope (one's own subordinates' units are in it).",
    )
    async def organization(self, info: Info) -> OrganizationNode | None:
        # Users reach the API through referral chains, loaders and `me` too; the unit of the main
        # leader above a self-evaluator is not the self-evaluator's to see.
        if self.organization_id is None:
            return None
        viewer = info.context.viewer
        if viewer.is_authenticated and self.approver_id == viewer.user.pk:
            return await info.context.loaders.subordinate_unit.load(self.organization_id)
        return await info.context.loaders.organization.load(self.organization_id)


@strawberry_django.type(RoleAssignment, name="RoleAssignment")
class RoleAssignmentNode(relay.Node):
    id: relay.NodeID[int]
    role: RoleEnum
    organization: OrganizationNode

    get_queryset = scoped(scope.restrict_role_assignments)


@strawberry.type(description="The signed-in person, the roles they hold and the one they act in.")
class Me:
    user: UserNode
    roles: list[RoleAssignmentNode]
    active_role: RoleAssignmentNode
    subordinates: list[UserNode]
