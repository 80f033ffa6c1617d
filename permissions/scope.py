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
once: the grants are read by the same statement, not cached.
"""

from __future__ import annotations

from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery

from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.organization import OrganizationKind
from models.roles import Role
from permissions.grants import SUBTREE_ROLES
from permissions.viewer import Viewer

NOTHING = Q(pk__in=[])
PROVINCE_UNIT_KINDS = (OrganizationKind.PROVINCIAL, OrganizationKind.REGIONAL)
IN_CHAIN = "view_organization_in_chain"


class InSet(Func):
    """``column IN (uncorrelated subquery)``.

    On PostgreSQL it is written ``column = ANY(ARRAY(subquery))``: the set is computed once (an
    InitPlan) and is then a plain index condition, so inside an OR the planner can combine it with
    a tree range as a BitmapOr instead of scanning the table and checking each row. Elsewhere
    (SQLite) it is the ordinary ``IN``.
    """

    output_field = BooleanField()

    def __init__(self, column: str, subquery: QuerySet) -> None:
        super().__init__(F(column), Subquery(subquery))

    def as_sql(self, compiler, connection, **extra):
        column, subquery = self.source_expressions
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{column_sql} IN {subquery_sql}", (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection, **extra):
        column, subquery = self.source_expressions
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{column_sql} = ANY(ARRAY{subquery_sql})", (*column_params, *subquery_params)


def _organization_grants(viewer: Viewer, codename: str) -> QuerySet:
    grants = OrganizationUserObjectPermission.objects.filter(user_id=viewer.user.pk)
    return grants.filter(permission_id=_permission_id(codename))


def _role_grant(viewer: Viewer, codename: str) -> QuerySet:
    """The grant backing the active role (one row or none)."""
    return _organization_grants(viewer, codename).filter(content_object_id=viewer.active_role.organization_id)


def _subtree(viewer: Viewer, prefix: str) -> Q:
    """The role organization's subtree as a constant range: ``tree_id = t AND lft BETWEEN l AND r``.

    The bounds are read from the granted organization inside the statement (three InitPlans), so
    they are current even while the tree is being written, and they are NULL — matching nothing —
    once the grant is revoked. ``lft`` between the root's bounds is exactly the subtree and is the
    leading range of the ``organization_subtree`` index.
    """
    grant = _role_grant(viewer, "lead_organization")

    def bound(field: str) -> Subquery:
        return Subquery(grant.values(f"content_object__{field}")[:1])

    return Q(
        **{
            f"{prefix}tree_id": bound("tree_id"),
            f"{prefix}lft__gte": bound("lft"),
            f"{prefix}lft__lte": bound("rght"),
        }
    )


def organization_scope(viewer: Viewer, prefix: str = "") -> Q:
    """The role's units, as a filter on Organization (or, with ``prefix="organization__"``, on a
    model pointing to one). Units met in referral chains are not part of it: this is what a role
    may act on."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return NOTHING
    role = viewer.active_role
    if role.role in SUBTREE_ROLES:
        return _subtree(viewer, prefix)
    # Uncorrelated: evaluated once per statement (a one-time filter), whatever the number of rows.
    unit_grant = Q(Exists(_role_grant(viewer, "view_organization")))
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
    met_in_chains = InSet("pk", _organization_grants(viewer, IN_CHAIN).values("content_object_id"))
    return queryset.filter(organization_scope(viewer) | Q(met_in_chains))


def assignments_of_role(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Only the assignments of the active role's own units: what a leader may act on."""
    return queryset.filter(organization_scope(viewer, prefix="organization__"))


def _works_on(viewer: Viewer, role: str) -> Exists:
    """The viewer made (``role="referrer_id"``) or received (``"assignee_id"``) a referral of the
    outer assignment, and still holds ``view_referral`` on it.

    Every referral of a chain one sees belongs to the same assignment as a referral one made or
    received (chain grants go to the people of a referral and of its ancestors), so this finds
    the assignments one meets in chains. It is one probe of the (person, assignment) index per
    candidate assignment — assignment lists are always narrowed first — where a set of all of a
    busy expert's referrals (tens of thousands) would be built for every statement.
    """
    from models.referrals import Referral

    mine = Referral.objects.filter(**{role: viewer.user.pk, "assignment_id": OuterRef("pk")})
    return Exists(mine.filter(Exists(_referral_grant(viewer))))


def restrict_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The assignments of the role's units, and those of the referrals one works on (an assignee
    must read the indicator, target and score rules of what was referred to them)."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    # After the OR's first arm: checked only for rows outside the role's units.
    through_referrals = Q(_works_on(viewer, "assignee_id")) | Q(_works_on(viewer, "referrer_id"))
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
    from models.referrals import Referral

    def in_chain(role: str) -> Exists:
        return Exists(Referral.objects.filter(**{role: OuterRef("pk")}).filter(Exists(_referral_grant(viewer))))

    return queryset.filter(
        people | organization_scope(viewer, prefix="organization__") | in_chain("assignee_id") | in_chain("referrer_id")
    )


def restrict_role_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(user_id=viewer.user.pk) | organization_scope(viewer, prefix="organization__"))


def restrict_public(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Reference data (provinces, periods) every signed-in user may read."""
    return queryset if viewer.is_authenticated else queryset.none()


def _permission_id(codename: str) -> Subquery:
    """A permission's id, looked up inside the statement (one InitPlan). As a constant it lets the
    planner see ``(user, permission, object)`` for what it is — one unique-index probe — where a
    join to the permission tables made it guess."""
    from django.contrib.auth.models import Permission

    return Subquery(Permission.objects.filter(content_type__app_label="mana", codename=codename).values("pk")[:1])


def _referral_grant(viewer: Viewer, prefix: str = "") -> QuerySet:
    # Referral lists are always narrowed first (an inbox, a chain, ids), so one indexed probe per
    # candidate row costs less than materialising a leader's hundreds of thousands of grants.
    return ReferralUserObjectPermission.objects.filter(
        user_id=viewer.user.pk,
        permission_id=_permission_id("view_referral"),
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
