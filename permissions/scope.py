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

What was sent for evaluation (an assignment SENT_FOR_EVALUATION or EVALUATED) is read whole —
referrals, performance, evidence — by the senior leader (their subtree) and by the evaluators the
assignment was given to (``EvaluatorAssignment``), besides the chain's own people; before it is
sent, a chain stays its people's. An evaluator's assignments are those given to them.

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

from models.evaluations import Evaluation
from models.organization import OrganizationKind
from models.roles import Role
from permissions import grant_sql
from permissions.grants import SUBTREE_ROLES
from permissions.referral_grants import IN_CHAIN
from permissions.viewer import Viewer

NOTHING = Q(pk__in=[])
PROVINCE_UNIT_KINDS = (OrganizationKind.PROVINCIAL, OrganizationKind.REGIONAL)
EVALUATOR_ROLES = frozenset({Role.EVALUATOR, Role.HONORARY_EVALUATOR})


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


def _acts_as_evaluator(viewer: Viewer) -> bool:
    return viewer.active_role.role in EVALUATOR_ROLES


def _evaluator_grant(viewer: Viewer) -> Q:
    """The evaluator still holds their role's grant: withdrawing it withdraws what was given, at once."""
    return Q(grant_sql.holds_role_grant(viewer.user.pk, "view_organization", viewer.active_role.organization_id))


def given_to_evaluator(viewer: Viewer, assignment_column: str) -> Q:
    """The row's assignment was given to the viewer to evaluate."""
    return _evaluator_grant(viewer) & Q(grant_sql.given_to_evaluator(viewer.user.pk, assignment_column))


def _sent_for_evaluation(viewer: Viewer, assignment: str) -> Q | None:
    """What was sent for evaluation, as a filter on rows whose assignment is at the path
    ``assignment``, for the viewers who read it whole: the senior leader (their subtree) and the
    evaluators it was given to. None for everyone else. Uncorrelated: a status, the subtree range
    of the senior leader's grant (an InitPlan) or the set of the evaluator's assignments."""
    sent = Q(**{f"{assignment}__status__in": grant_sql.SENT})
    if viewer.active_role.role == Role.SENIOR_LEADER:
        return sent & organization_scope(viewer, prefix=f"{assignment}__organization__")
    if _acts_as_evaluator(viewer):
        return sent & given_to_evaluator(viewer, f"{assignment}_id")
    return None


def restrict_organizations(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The role's units, and the units one meets in the referral chains one is part of: the unit a
    referral was made to and the unit its assignment belongs to."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    met_in_chains = grant_sql.among_granted_organizations(viewer.user.pk, IN_CHAIN, "pk")
    visible = organization_scope(viewer) | Q(met_in_chains)
    if _acts_as_evaluator(viewer):
        # The units of what was given to them: the assignment's, and those its chain was referred to.
        visible |= _evaluator_grant(viewer) & Q(grant_sql.among_given_units(viewer.user.pk, "pk"))
    return queryset.filter(visible)


def assignments_of_role(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Only the assignments of the active role's own units: what a leader may act on."""
    return queryset.filter(organization_scope(viewer, prefix="organization__"))


def restrict_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The assignments of the role's units (an evaluator's: those given to them), and those of the
    referrals one works on (an assignee must read the indicator, target and score rules of what
    was referred to them).

    Every referral of a chain one sees belongs to the same assignment as a referral one made or
    received (chain grants go to the people of a referral and of its ancestors), so "one made or
    received a referral of it" finds the assignments one meets in chains — one probe of the
    (person, assignment) index per candidate row, after the OR's first arm, where a set of all of a
    busy expert's referrals (tens of thousands) would be built for every statement.
    """
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    return queryset.filter(_assignments_in_scope(viewer))


def _assignments_in_scope(viewer: Viewer, assignment: str = "") -> Q:
    """restrict_assignments as a filter on the assignment at the path ``assignment`` ("": the row)."""
    user_id = viewer.user.pk
    column = f"{assignment}_id" if assignment else "pk"
    through_referrals = Q(grant_sql.works_on_assignment(user_id, "assignee_id", column)) | Q(
        grant_sql.works_on_assignment(user_id, "referrer_id", column)
    )
    if _acts_as_evaluator(viewer):
        return given_to_evaluator(viewer, column) | through_referrals
    prefix = f"{assignment}__organization__" if assignment else "organization__"
    return organization_scope(viewer, prefix=prefix) | through_referrals


def assignments_given(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The assignments given to the viewer to evaluate, under an evaluator role: what they may score."""
    if not viewer.is_authenticated or viewer.active_role is None or not _acts_as_evaluator(viewer):
        return queryset.none()
    return queryset.filter(given_to_evaluator(viewer, "pk"))


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
    visible = people | organization_scope(viewer, prefix="organization__")
    role = viewer.active_role.role
    if role in EVALUATOR_ROLES:
        # The people of the chains given to them, once sent: a set, as for units, checked before the
        # chain arms — PostgreSQL evaluates an OR's arms in order, and those arms, reached for every
        # person of a chain one is not part of, were planned as hashes of every referral grant.
        visible |= _evaluator_grant(viewer) & Q(grant_sql.among_given_chains(user_id, "pk"))
    visible |= Q(grant_sql.in_visible_referral(user_id, "assignee_id", "pk")) | Q(
        grant_sql.in_visible_referral(user_id, "referrer_id", "pk")
    )
    if role not in EVALUATOR_ROLES and role != Role.SENIOR_LEADER:
        # Whoever wrote a published evaluation one reads (``Evaluation.evaluator``): a check per
        # candidate person, last, for those no cheaper arm admitted (the senior leader's subtree
        # already holds every evaluator).
        published = Evaluation.objects.filter(evaluator_id=OuterRef("pk"), published_at__isnull=False)
        visible |= Q(Exists(published.filter(_assignments_in_scope(viewer, "assignment"))))
    return queryset.filter(visible)


def restrict_role_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    if not viewer.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(user_id=viewer.user.pk) | organization_scope(viewer, prefix="organization__"))


def restrict_public(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Reference data (provinces, periods) every signed-in user may read."""
    return queryset if viewer.is_authenticated else queryset.none()


def _restrict_by_referral_grant(queryset: QuerySet, viewer: Viewer, referral_column: str, assignment: str) -> QuerySet:
    # Referral lists are always narrowed first (an inbox, a chain, ids), so one indexed probe per
    # candidate row costs less than materialising a leader's hundreds of thousands of grants.
    if not viewer.is_authenticated or viewer.active_role is None:
        # Without a role one acts in none: withdrawing a person's last role withdraws everything.
        return queryset.none()
    in_chain = Q(grant_sql.holds_referral_grant(viewer.user.pk, referral_column))
    sent = _sent_for_evaluation(viewer, assignment)
    return queryset.filter(in_chain if sent is None else in_chain | sent)


def restrict_referrals(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Referrals are seen by their assignee and by everyone above them in the chain (guardian
    ``view_referral``, granted as the chain is built: permissions.referral_grants), and once sent
    for evaluation by the senior leader and the evaluators it was given to."""
    return _restrict_by_referral_grant(queryset, viewer, "pk", "assignment")


def restrict_performances(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    return _restrict_by_referral_grant(queryset, viewer, "referral_id", "referral__assignment")


def restrict_evidence(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    return _restrict_by_referral_grant(
        queryset, viewer, "performance__referral_id", "performance__referral__assignment"
    )


def restrict_evaluations(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """The senior leader sees every evaluation of their subtree, an evaluator their own (of what is
    still given to them), everyone else the published evaluations of the assignments they see."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    if viewer.active_role.role == Role.SENIOR_LEADER:
        return queryset.filter(organization_scope(viewer, prefix="assignment__organization__"))
    if _acts_as_evaluator(viewer):
        return queryset.filter(Q(evaluator_id=viewer.user.pk) & given_to_evaluator(viewer, "assignment_id"))
    return queryset.filter(Q(published_at__isnull=False) & _assignments_in_scope(viewer, "assignment"))


def restrict_evaluator_assignments(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Who was given which assignment: the senior leader's business (their subtree), and an
    evaluator's own."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    if viewer.active_role.role == Role.SENIOR_LEADER:
        return queryset.filter(organization_scope(viewer, prefix="assignment__organization__"))
    if _acts_as_evaluator(viewer):
        return queryset.filter(Q(evaluator_id=viewer.user.pk) & _evaluator_grant(viewer))
    return queryset.none()


def restrict_non_applicability_requests(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Requests about the assignments of the active role's units: the senior leader's subtree (who
    decides), a main leader's subtree (who asks), another role's own unit; not an evaluator's."""
    if not viewer.is_authenticated or viewer.active_role is None or _acts_as_evaluator(viewer):
        return queryset.none()
    return queryset.filter(organization_scope(viewer, prefix="assignment__organization__"))


PROPOSAL_READERS = frozenset({Role.SENIOR_LEADER, Role.MAIN_LEADER, Role.PROVINCIAL_LEADER})


def restrict_proposals(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Indicator proposals for the units of the active role — the senior leader's subtree (all of
    them), a main leader's subtree, a provincial leader's province — and a provincial leader's own;
    nobody else proposes or reviews, so nobody else sees any."""
    if not viewer.is_authenticated or viewer.active_role is None or viewer.active_role.role not in PROPOSAL_READERS:
        return queryset.none()
    units = organization_scope(viewer, prefix="organization__")
    if viewer.active_role.role == Role.PROVINCIAL_LEADER:
        return queryset.filter(units | Q(proposer_id=viewer.user.pk))
    return queryset.filter(units)


def restrict_registration_requests(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Requests addressed to the viewer (they were named as approver) for a unit of the active role:
    like everything else, the queue follows the role one acts in."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    return queryset.filter(Q(approver_id=viewer.user.pk) & organization_scope(viewer, prefix="organization__"))


def restrict_import_jobs(queryset: QuerySet, viewer: Viewer) -> QuerySet:
    """Excel import jobs (models/imports.py): each is seen by the person who uploaded it, and by the
    senior leader (while their lead grant stands), who sees everything; by nobody else."""
    if not viewer.is_authenticated or viewer.active_role is None:
        return queryset.none()
    mine = Q(created_by_id=viewer.user.pk)
    role = viewer.active_role
    if role.role == Role.SENIOR_LEADER:
        every_job = Q(grant_sql.holds_role_grant(viewer.user.pk, "lead_organization", role.organization_id))
        return queryset.filter(mine | every_job)
    return queryset.filter(mine)
