"""API tokens as the API shows them to their owner: never the secret, except once, on creation."""

from __future__ import annotations

import datetime

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import relay

from models.credentials import ApiToken
from permissions.viewer import Viewer
from schema.errors import UserError
from schema.types.base import scoped
from schema.types.user import RoleAssignmentNode


def own_tokens(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """A token is seen by its owner only, whatever their role: not by their leaders, not by
    ``node`` ids guessed by anyone else (null, as for anything out of scope)."""
    if not viewer.is_authenticated:
        return queryset.none()
    return queryset.filter(user_id=viewer.user.pk)


@strawberry_django.type(
    ApiToken,
    name="ApiToken",
    description=(
        "A credential for an integrator or a dashboard: «Authorization: Bearer mana_…» acts as its owner "
        "in its role. The secret is shown once, by createApiToken; here only its public prefix."
    ),
)
class ApiTokenNode(relay.Node):
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry_django.field(description="The public part, «mana_<prefix>_…»: tells tokens apart.")

    @strawberry_django.field(
        select_related=["role_assignment__organization"], description="The role requests with this token act in."
    )
    def role(self) -> RoleAssignmentNode:
        # One's own role, with its unit, as `me.roles` shows it: not narrowed to the unit of the
        # role one happens to act in now (which would make another role's unit null, an error).
        return self.role_assignment

    created_at: datetime.datetime
    expires_at: datetime.datetime | None = strawberry_django.field(description="null: it does not expire.")
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None = strawberry_django.field(
        description="When it was last used, to the minute (not written on every request)."
    )

    get_queryset = scoped(own_tokens, ordering=("-created_at", "-id"))


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="What uses it (unique among one's unrevoked tokens), 1–100 characters.")
    role: strawberry.ID = strawberry.field(description="One of the viewer's own RoleAssignment ids.")
    expires_at: datetime.datetime | None = strawberry.field(
        default=None,
        description="ISO 8601; without an offset it is Tehran time. In the future; null: never expires.",
    )


@strawberry.type
class CreateApiTokenPayload:
    errors: list[UserError]
    token: ApiTokenNode | None = None
    secret: str | None = strawberry.field(
        default=None,
        description=(
            "The whole token, «mana_<prefix>_<secret>», for «Authorization: Bearer …». Shown this once: "
            "only its hash is kept, so it cannot be read again."
        ),
    )


@strawberry.input
class RevokeApiTokenInput:
    token: strawberry.ID = strawberry.field(description="An ApiToken id of the viewer's.")


@strawberry.type
class RevokeApiTokenPayload:
    errors: list[UserError]
    token: ApiTokenNode | None = None
