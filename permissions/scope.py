"""The restricting querysets: the one place that decides which rows a viewer may see.

Every root field, nested edge, ``node``/``nodes`` lookup and connection count goes through these
functions (the GraphQL types call them from ``get_queryset``), so scope is decided once.

Organizations in scope, by the active role:

* senior leader / main leader: the subtree (mptt ``tree_id``/``lft``/``rght`` range) of the role's
  organization, provided they hold guardian's ``lead_organization`` on it;
* provincial leader: their own organization and every provincial and regional unit of its
  province, provided they hold ``view_organization`` on their own organization;
* everyone else: their own unit, provided they hold ``view_organization`` on it;
* and, for everyone, the units met in the referral chains they are part of (guardian's
  ``view_organization_in_chain``, granted with the chain: permissions.referral_grants).

Cost follows the viewer's own grants, never the size of the country: every rule is written so that
the database evaluates the viewer's grants once per statement (an uncorrelated subquery: an
InitPlan or a hashed SubPlan in PostgreSQL's terms) and then checks each row against a constant —
a tree range, a unit id, a set of ids — usually through an index. A correlated ``EXISTS`` per row,
as this module had before, made PostgreSQL walk all of a leader's grants for every unit of the
country (issue «Country scale»); ``tests/test_scope_cost.py`` guards against its return with
``EXPLAIN (ANALYZE, BUFFERS)`` budgets. Revoking an object permission still revokes the access at
once: the grants are read by the same statement, not cached. The grant look-ups themselves are
fixed SQL fragments (``permissions.grant_sql``): building them as querysets cost more Python time
than the rest of a small request.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from models.organization import OrganizationKind
from models.roles import Role
from permissions import grant_sql
from permissions.grants import SUBTREE_ROLES
from permissions.referral_grants import IN_CHAIN
from permissions.viewer import Viewer

NOTHING = Q(pk__in=[])
PROVINCE_UNIT_KINDS = (OrganizationKind.PROVINCIAL, OrganizationKind.REGIONAL)


def organization_scope(viewer: Viewer, prefix: str = "") -> Q:
    """The role's units, as a filter on Organization (or, with ``prefix="organization__"``, on a
    model pointing to one). Units met in referral chains are not part of it: this is what a role
    may act on."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return NOTHING
    role = viewer.active_role
    user_id = viewer.user.pk
    if role.role in SUBTREE_ROLES:
        return Q(grant_sql.in_subtree(user_id, role.organization_id, f"{prefix}tree_id", f"{prefix}lft"))
    # Uncorrelated: evaluated once per statement (a one-time filter), whatever the number of rows.
    unit_grant = Q(grant_sql.holds_role_grant(user_id, "view_organization", role.organization_id))
    own_unit = Q(**{f"{prefix}pk" if prefix == "" else f"{prefix}id": role.organization_id})
    if role.role == Role.PROVINCIAL_LEADER and role.organization.province_id is not None:
        province_units = Q(
            **{f"{prefix}province_id": role.organization.province_id, f"{prefix}kind__in": PROVINCE_UNIT_KINDS}
        )
        return unit_grant & (own_unit | province_units)
    return unit_grant & own_unit


def restrict_organizations(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The role's units, and the units one meets in the referral chains one is part of: the unit a
    referral was made to and the unit its assignment belongs to."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    met_in_chains = grant_sql.among_granted_organizations(viewer.user.pk, IN_CHAIN, "pk")
    return queryset.filter(organization_scope(viewer) | Q(met_in_chains))


def assignments_of_role(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Only the assignments of the active role's own units: what a leader may act on."""
    return queryset.filter(organization_scope(viewer, prefix="organization__"))


def restrict_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The assignments of the role's units, and those of the referrals one works on (an assignee
    must read the indicator, target and score rules of what was referred to them).

    Every referral of a chain one sees belongs to the same assignment as a referral one made or
    received (chain grants go to the people of a referral and of its ancestors), so "one made or
    received a referral of it" finds the assignments one meets in chains — one probe of the
    (person, assignment) index per candidate row, after the OR's first arm, where a set of all of a
    busy expert's referrals (tens of thousands) would be built for every statement.
    """
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    user_id = viewer.user.pk
    through_referrals = Q(grant_sql.works_on_assignment(user_id, "assignee_id", "pk")) | Q(
        grant_sql.works_on_assignment(user_id, "referrer_id", "pk")
    )
    return queryset.filter(organization_scope(viewer, prefix="organization__") | through_referrals)


def restrict_indicators(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Indicators are seen through the assignments in scope (asked per indicator: indicator lists
    are always narrowed first, to the indicators of assignments already read)."""
    from models.indicators import Assignment

    return queryset.filter(Exists(restrict_assignments(Assignment.objects.filter(indicator_id=OuterRef("pk")), viewer)))


def restrict_users(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Oneself, one's approver and subordinates, the people of the units in scope, and the people
    in the referral chains one sees (a referral's referrer and assignee must be nameable).

    People are only ever read narrowed (the referrers and assignees of referrals already read, a
    ``node`` id), so the chain arm is a check per candidate person, made only for those the
    cheaper arms did not already admit.
    """
    if not viewer.is_authenticated:
        return queryset.none()
    people = Q(pk=viewer.user.pk) | Q(pk=viewer.user.approver_id) | Q(approver_id=viewer.user.pk)
    if viewer.active_role is None:
        return queryset.filter(people)
    user_id = viewer.user.pk
    return queryset.filter(
        people
        | organization_scope(viewer, prefix="organization__")
        | Q(grant_sql.in_visible_referral(user_id, "assignee_id", "pk"))
        | Q(grant_sql.in_visible_referral(user_id, "referrer_id", "pk"))
    )


def restrict_role_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(user_id=viewer.user.pk) | organization_scope(viewer, prefix="organization__"))


def restrict_public(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Reference data (provinces, periods) every signed-in user may read."""
    return queryset if viewer.is_authenticated else queryset.none()


def _restrict_by_referral_grant(queryset: QuerySet, viewer: Viewer, referral_column: str) -> QuerySet:
    # Referral lists are always narrowed first (an inbox, a chain, ids), so one indexed probe per
    # candidate row costs less than materialising a leader's hundreds of thousands of grants.
    if not viewer.is_authenticated or viewer.active_role is None:
        # Without a role one acts in none: withdrawing a person's last role withdraws everything.
        return queryset.none()
    return queryset.filter(grant_sql.holds_referral_grant(viewer.user.pk, referral_column))


def restrict_referrals(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Referrals are seen by their assignee and by everyone above them in the chain (guardian
    ``view_referral``, granted as the chain is built: permissions.referral_grants)."""
    return _restrict_by_referral_grant(queryset, viewer, "pk")


def restrict_performances(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    return _restrict_by_referral_grant(queryset, viewer, "referral_id")


def restrict_evidence(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    return _restrict_by_referral_grant(queryset, viewer, "performance__referral_id")


def restrict_registration_requests(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Requests addressed to the viewer (they were named as approver) for a unit of the active role:
    like everything else, the queue follows the role one acts in."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    return queryset.filter(Q(approver_id=viewer.user.pk) & organization_scope(viewer, prefix="organization__"))
