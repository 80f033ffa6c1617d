"""The SQL of the scope rules' grant look-ups, written once, as text.

The rules of ``permissions.scope`` are evaluated in every statement of every request. Built as
Django querysets (subqueries joining the permission tables), building and compiling them took
about half of a small request's Python time (profile of ``node``: 26 % building the filters, 30 %
compiling them). Here each look-up is a fixed SQL fragment with parameters; Django only resolves
the outer columns it names (``F``, so joins such as ``organization__`` still happen) and pastes the
text. Fragments run on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from django.db.models import BooleanField, F, Func

from models.evaluations import EvaluatorAssignment
from models.indicators import Assignment, ReferralStatus
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.organization import Organization
from models.referrals import Referral

ORGANIZATION_GRANTS = OrganizationUserObjectPermission._meta.db_table
REFERRAL_GRANTS = ReferralUserObjectPermission._meta.db_table
REFERRALS = Referral._meta.db_table
ORGANIZATIONS = Organization._meta.db_table
ASSIGNMENTS = Assignment._meta.db_table
GIVEN = EvaluatorAssignment._meta.db_table
# What was sent for evaluation: the only statuses in which a chain is read by its evaluators.
SENT = (ReferralStatus.SENT_FOR_EVALUATION.value, ReferralStatus.EVALUATED.value)
SENT_STATUSES = "(" + ", ".join(f"'{status}'" for status in SENT) + ")"

# A permission's id, looked up inside the statement: a constant for the planner (an InitPlan), so
# that ``(user, permission, object)`` is seen as the unique-index probe it is.
PERMISSION = (
    "(SELECT p.id FROM auth_permission p JOIN django_content_type c ON c.id = p.content_type_id"
    " WHERE c.app_label = 'mana' AND p.codename = %s)"
)


class GrantSQL(Func):
    """A boolean SQL fragment over some outer columns: ``{0}``, ``{1}``… in ``sql`` stand for the
    columns, ``%s`` for ``params`` (in order; the columns themselves carry none)."""

    output_field = BooleanField()

    def __init__(
        self,
        sql: str,
        params: tuple,
        *columns: str,
        postgresql_sql: str | None = None,
        postgresql_params: tuple | None = None,
    ) -> None:
        super().__init__(*(F(column) for column in columns))
        self.sql, self.postgresql_sql, self.sql_params = sql, postgresql_sql, tuple(params)
        self.postgresql_params = self.sql_params if postgresql_params is None else tuple(postgresql_params)

    def _render(self, compiler, sql: str, params: tuple):
        columns = []
        for expression in self.source_expressions:
            column_sql, column_params = compiler.compile(expression)
            assert not column_params, "grant fragments take plain columns"
            columns.append(column_sql)
        return sql.format(*columns), params

    def as_sql(self, compiler, connection, **extra):
        return self._render(compiler, self.sql, self.sql_params)

    def as_postgresql(self, compiler, connection, **extra):
        return self._render(compiler, self.postgresql_sql or self.sql, self.postgresql_params)


def _organization_grant(column: str) -> str:
    """The granted organization's ``column`` (NULL without the grant): a constant per statement."""
    return (
        f"(SELECT o.{column} FROM {ORGANIZATION_GRANTS} g JOIN {ORGANIZATIONS} o ON o.id = g.content_object_id"
        f" WHERE g.user_id = %s AND g.permission_id = {PERMISSION} AND g.content_object_id = %s)"
    )


def in_subtree(user_id: int, organization_id: int, tree_column: str, lft_column: str) -> GrantSQL:
    """``tree_id = t AND lft BETWEEN l AND r`` of the organization the user leads (``lead_organization``).

    The bounds are read inside the statement, so they are current while the tree is written, and
    NULL — matching nothing — once the grant is revoked. ``lft`` between the root's bounds is the
    subtree exactly and the leading range of the subtree index.
    """
    grant = (user_id, "lead_organization", organization_id)
    sql = f"({{0}} = {_organization_grant('tree_id')} AND {{1}} BETWEEN {_organization_grant('lft')}"
    sql += f" AND {_organization_grant('rght')})"
    return GrantSQL(sql, grant * 3, tree_column, lft_column)


def holds_role_grant(user_id: int, codename: str, organization_id: int) -> GrantSQL:
    """The user still holds ``codename`` on the organization (uncorrelated: a one-time filter)."""
    sql = (
        f"EXISTS(SELECT 1 FROM {ORGANIZATION_GRANTS} g WHERE g.user_id = %s"
        f" AND g.permission_id = {PERMISSION} AND g.content_object_id = %s)"
    )
    return GrantSQL(sql, (user_id, codename, organization_id))


def among_granted_organizations(user_id: int, codename: str, column: str) -> GrantSQL:
    """The column is one of the organizations the user holds ``codename`` on.

    On PostgreSQL ``= ANY(ARRAY(…))``: the set is computed once (an InitPlan) and is then an index
    condition, which the planner can combine with a tree range as a BitmapOr inside an OR.
    """
    granted = f"SELECT g.content_object_id FROM {ORGANIZATION_GRANTS} g"
    granted += f" WHERE g.user_id = %s AND g.permission_id = {PERMISSION}"
    return GrantSQL(
        f"{{0}} IN ({granted})", (user_id, codename), column, postgresql_sql=f"{{0}} = ANY(ARRAY({granted}))"
    )


def _referral_grant_probe(referral_sql: str) -> str:
    return (
        f"EXISTS(SELECT 1 FROM {REFERRAL_GRANTS} rg WHERE rg.user_id = %s"
        f" AND rg.permission_id = {PERMISSION} AND rg.content_object_id = {referral_sql})"
    )


def holds_referral_grant(user_id: int, referral_column: str) -> GrantSQL:
    """The user holds ``view_referral`` on the row's referral: one unique-index probe per row."""
    return GrantSQL(_referral_grant_probe("{0}"), (user_id, "view_referral"), referral_column)


def works_on_assignment(user_id: int, role: str, assignment_column: str) -> GrantSQL:
    """The user made (``role="referrer_id"``) or received (``"assignee_id"``) a referral of the
    row's assignment and still holds ``view_referral`` on it: one probe of the (person,
    assignment) index per row."""
    sql = (
        f"EXISTS(SELECT 1 FROM {REFERRALS} r WHERE r.{role} = %s AND r.assignment_id = {{0}}"
        f" AND {_referral_grant_probe('r.id')})"
    )
    return GrantSQL(sql, (user_id, user_id, "view_referral"), assignment_column)


def in_visible_referral(user_id: int, role: str, user_column: str) -> GrantSQL:
    """The row's person is the referrer or assignee (``role``) of a referral the user may see."""
    sql = f"EXISTS(SELECT 1 FROM {REFERRALS} r WHERE r.{role} = {{0}} AND {_referral_grant_probe('r.id')})"
    return GrantSQL(sql, (user_id, "view_referral"), user_column)


# --- evaluators: what was given to them (models.evaluations.EvaluatorAssignment) -----------------


def _in_set(select: str, params: tuple, column: str) -> GrantSQL:
    """The column is one of the ids ``select`` lists: computed once per statement (on PostgreSQL an
    InitPlan array, an index condition like ``among_granted_organizations``)."""
    return GrantSQL(f"{{0}} IN ({select})", params, column, postgresql_sql=f"{{0}} = ANY(ARRAY({select}))")


def given_to_evaluator(user_id: int, assignment_column: str) -> GrantSQL:
    """The row's assignment was given to the user to evaluate (the evaluator_assignment_of_person index)."""
    return _in_set(f"SELECT ea.assignment_id FROM {GIVEN} ea WHERE ea.evaluator_id = %s", (user_id,), assignment_column)


def among_given_units(user_id: int, column: str) -> GrantSQL:
    """The row is the unit of an assignment given to the user, or a unit one of its referrals was
    made to: the units an evaluator must be able to name. One pass over what was given (its
    assignments by primary key, their referrals by the assignment index): the set costs what the
    evaluator was given, never the size of the country."""
    select = (
        f"SELECT a.organization_id FROM {GIVEN} ea JOIN {ASSIGNMENTS} a ON a.id = ea.assignment_id"
        f" WHERE ea.evaluator_id = %s UNION ALL SELECT r.organization_id FROM {GIVEN} ea"
        f" JOIN {REFERRALS} r ON r.assignment_id = ea.assignment_id WHERE ea.evaluator_id = %s"
    )
    return _in_set(select, (user_id, user_id), column)


def among_given_chains(user_id: int, column: str) -> GrantSQL:
    """The row's person is a referrer or assignee in the chain of an assignment given to the user
    (the chain itself is read only once sent: ``SENT``). On PostgreSQL both people of a referral
    come from one pass over the referrals."""
    given = f"FROM {GIVEN} ea JOIN {REFERRALS} r ON r.assignment_id = ea.assignment_id WHERE ea.evaluator_id = %s"
    sql = f"{{0}} IN (SELECT r.assignee_id {given} UNION ALL SELECT r.referrer_id {given})"
    postgresql_sql = f"{{0}} = ANY(ARRAY(SELECT unnest(ARRAY[r.assignee_id, r.referrer_id]) {given}))"
    return GrantSQL(sql, (user_id, user_id), column, postgresql_sql=postgresql_sql, postgresql_params=(user_id,))
