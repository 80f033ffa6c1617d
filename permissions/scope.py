"""The restricting querysets: the one place that decides which rows a viewer may see.

Every root field, nested edge, ``node``/``nodes`` lookup and connection count goes through these
functions (the GraphQL types call them from ``get_queryset``), so scope is decided once.

Organizations in scope, by the active role:

* senior leader / main leader: the subtree (mptt ``tree_id``/``lft``/``rght`` range) of the role's
  organization, provided they hold guardian's ``lead_organization`` on it;
* provincial leader: their own organization and every provincial and regional unit of its
  province, provided they hold ``view_organization`` on their own organization;
* everyone else: their own unit, provided they hold ``view_organization`` on it.

Each rule is a single ``EXISTS`` over guardian's direct permission table, so scoping adds no
query of its own and revoking the object permission revokes the access at once.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from models.object_permissions import OrganizationUserObjectPermission
from models.organization import OrganizationKind
from models.roles import Role
from permissions.grants import SUBTREE_ROLES
from permissions.viewer import Viewer

NOTHING = Q(pk__in=[])
PROVINCE_UNIT_KINDS = (OrganizationKind.PROVINCIAL, OrganizationKind.REGIONAL)


def _grant(viewer: Viewer, codename: str):
    return OrganizationUserObjectPermission.objects.filter(
        user_id=viewer.user.pk,
        permission__codename=codename,
        permission__content_type__app_label="mana",
        content_object_id=viewer.active_role.organization_id,
    )


def organization_scope(viewer: Viewer, prefix: str = "") -> Q:
    """A filter on Organization (or, with ``prefix="organization__"``, on a model pointing to one)."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return NOTHING
    role = viewer.active_role
    if role.role in SUBTREE_ROLES:
        subtree_grant = _grant(viewer, "lead_organization").filter(
            content_object__tree_id=OuterRef(f"{prefix}tree_id"),
            content_object__lft__lte=OuterRef(f"{prefix}lft"),
            content_object__rght__gte=OuterRef(f"{prefix}rght"),
        )
        return Q(Exists(subtree_grant))
    unit_grant = Q(Exists(_grant(viewer, "view_organization")))
    own_unit = Q(**{f"{prefix}pk" if prefix == "" else f"{prefix}id": role.organization_id})
    if role.role == Role.PROVINCIAL_LEADER and role.organization.province_id is not None:
        province_units = Q(
            **{f"{prefix}province_id": role.organization.province_id, f"{prefix}kind__in": PROVINCE_UNIT_KINDS}
        )
        return unit_grant & (own_unit | province_units)
    return unit_grant & own_unit


def restrict_organizations(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The role's units, and the units one meets in the referral chains one sees: the unit a
    referral was made to and the unit its assignment belongs to."""
    if not viewer.is_authenticated:
        return queryset.none()
    from models.referrals import Referral

    through_referrals = Exists(
        restrict_referrals(
            Referral.objects.filter(Q(organization_id=OuterRef("pk")) | Q(assignment__organization_id=OuterRef("pk"))),
            viewer,
        )
    )
    return queryset.filter(organization_scope(viewer) | through_referrals)


def assignments_of_role(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Only the assignments of the active role's own units: what a leader may act on."""
    return queryset.filter(organization_scope(viewer, prefix="organization__"))


def restrict_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The assignments of the role's units, and those of the referrals one works on (an assignee
    must read the indicator, target and score rules of what was referred to them)."""
    if not viewer.is_authenticated:
        return queryset.none()
    from models.referrals import Referral

    through_referrals = Exists(restrict_referrals(Referral.objects.filter(assignment_id=OuterRef("pk")), viewer))
    return queryset.filter(organization_scope(viewer, prefix="organization__") | through_referrals)


def restrict_indicators(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Indicators are seen through the assignments in scope."""
    from models.indicators import Assignment

    assigned_in_scope = restrict_assignments(Assignment.objects.filter(indicator_id=OuterRef("pk")), viewer)
    return queryset.filter(Exists(assigned_in_scope))


def restrict_users(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Oneself, one's approver and subordinates, the people of the units in scope, and the people
    in the referral chains one sees (a referral's referrer and assignee must be nameable)."""
    if not viewer.is_authenticated:
        return queryset.none()
    from models.referrals import Referral

    in_visible_referral = Exists(
        restrict_referrals(
            Referral.objects.filter(Q(referrer_id=OuterRef("pk")) | Q(assignee_id=OuterRef("pk"))), viewer
        )
    )
    return queryset.filter(
        Q(pk=viewer.user.pk)
        | Q(pk=viewer.user.approver_id)
        | Q(approver_id=viewer.user.pk)
        | organization_scope(viewer, prefix="organization__")
        | in_visible_referral
    )


def restrict_role_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(user_id=viewer.user.pk) | organization_scope(viewer, prefix="organization__"))


def restrict_public(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Reference data (provinces, periods) every signed-in user may read."""
    return queryset if viewer.is_authenticated else queryset.none()


def _referral_grant(viewer: Viewer, prefix: str = ""):
    from models.object_permissions import ReferralUserObjectPermission

    return ReferralUserObjectPermission.objects.filter(
        user_id=viewer.user.pk,
        permission__codename="view_referral",
        permission__content_type__app_label="mana",
        content_object_id=OuterRef(f"{prefix}pk" if not prefix else f"{prefix}id"),
    )


def restrict_referrals(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Referrals are seen by their assignee and by everyone above them in the chain (guardian
    ``view_referral``, granted as the chain is built: permissions.referral_grants)."""
    if not viewer.is_authenticated or viewer.active_role is None:
        # Without a role one acts in none: withdrawing a person's last role withdraws everything.
        return queryset.none()
    return queryset.filter(Exists(_referral_grant(viewer)))


def restrict_performances(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    return queryset.filter(Exists(_referral_grant(viewer, "referral__")))


def restrict_evidence(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    return queryset.filter(Exists(_referral_grant(viewer, "performance__referral__")))
