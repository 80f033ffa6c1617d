"""The dashboard (داشبورد): a period's figures for a leader's organization and each of its units.

Who sees what. Senior and main leaders: the subtree of an organization within their scope (their
role's unit unless they name another), its figures, and one row per child unit, each rolled up
over that child's subtree. A provincial leader: at their own unit (the default), their province —
the provincial and regional units their scope holds, one row per highest such unit, rolled up
over the province's units below it; at one of those units, that unit's subtree within the
province. Self-evaluators and evaluators are refused (FORBIDDEN): the seed's «کاربران و راهبران
سطوح دسته دوم از ارزیابی‌شوندگان به این بخش دسترسی ندارند». An organization outside the scope is
answered as a missing one (NOT_FOUND).

The figures of a set of assignments (``is_applicable=False`` ones are out of every figure but
their own count, ``not_applicable``):

* ``assignments``; ``referred``: the main leader has referred it (it has a top referral);
  ``submitted``: its top referral reached SUBMITTED or later (a submission waiting for the main
  leader, or finally registered), a returned one no longer counts; ``finalized``: finally
  registered (FINALIZED, SENT_FOR_EVALUATION, EVALUATED); percentages of ``assignments``;
* ``overdue``: its deadline (the period's end when it has none) has passed, Tehran time, and it is
  not finally registered;
* ``self_score``: the sum of the scores of the values registered on the top referrals
  (``Assignment.score``: models/scoring.py, mirrored in SQL by ``score_sql``);
* ``evaluated_score``: the sum of the assignments' evaluated scores — each the average of its
  *published* evaluations, rounded half up to cents (as models/evaluation_workflow.py) — null when
  none is published; ``evaluated``: how many assignments have one.

Ranking: the listed units by self-registered score, then evaluated score (none counts as 0), both
highest first; equal units share a rank and the next rank skips (1, 2, 2, 4); ties are listed in
tree order.

Cost: four statements whatever the size — the organization (in scope), the period, the figures
of the organization and of every listed unit, and the listed units' rows (loaded by the API).
The figures are one statement (``figures_sql``): the covered organizations by an index range of
the tree, their assignments of the period, and per assignment one index probe each for its top
referral, the value registered there and its published evaluations, added up per organization;
the statement then gives each organization its listed unit with two window functions over the
tree order (``lft``) — a unit is listed when no earlier covered unit contains it, and every unit
belongs to the last listed unit at or before it — and adds up per listed unit. Nothing is
computed per unit in Python. On the 20,000-unit scale data the national figures take about a
tenth of a second, a ministry's a few hundredths (bench/dashboard.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Exists
from django.utils import timezone

from models.errors import DomainError
from models.evaluations import Evaluation
from models.indicators import Assignment, Indicator, IndicatorNature, ReferralStatus
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.progress import today_in_tehran
from models.referrals import Performance, Referral
from models.roles import Role
from permissions.grants import SUBTREE_ROLES
from permissions.scope import organization_scope
from permissions.viewer import Viewer

S = ReferralStatus
DASHBOARD_ROLES = frozenset({Role.SENIOR_LEADER, Role.MAIN_LEADER, Role.PROVINCIAL_LEADER})
FINALIZED = (S.FINALIZED, S.SENT_FOR_EVALUATION, S.EVALUATED)
# A top referral in these is with the main leader (submitted) or past them (finally registered).
SUBMITTED = (S.SUBMITTED, S.APPROVED, *FINALIZED)
CENT = Decimal("0.01")

FORBIDDEN_MESSAGE = "داشبورد ویژه راهبران است؛ کاربران و راهبران سطوح دسته دوم به آن دسترسی ندارند."
ORGANIZATION_NOT_FOUND = "دستگاه پیدا نشد."
PERIOD_NOT_FOUND = "دوره ارزیابی پیدا نشد."


@dataclass(frozen=True)
class Figures:
    assignments: int = 0
    referred: int = 0
    submitted: int = 0
    finalized: int = 0
    overdue: int = 0
    not_applicable: int = 0
    self_score: Decimal = Decimal("0.00")
    evaluated: int = 0
    # None while no assignment has a published evaluation.
    evaluated_score: Decimal | None = None

    def __add__(self, other: Figures) -> Figures:
        if self.evaluated_score is None or other.evaluated_score is None:
            evaluated_score = self.evaluated_score if other.evaluated_score is None else other.evaluated_score
        else:
            evaluated_score = self.evaluated_score + other.evaluated_score
        return Figures(
            assignments=self.assignments + other.assignments,
            referred=self.referred + other.referred,
            submitted=self.submitted + other.submitted,
            finalized=self.finalized + other.finalized,
            overdue=self.overdue + other.overdue,
            not_applicable=self.not_applicable + other.not_applicable,
            self_score=self.self_score + other.self_score,
            evaluated=self.evaluated + other.evaluated,
            evaluated_score=evaluated_score,
        )

    def percent(self, part: int) -> float:
        return round(100.0 * part / self.assignments, 2) if self.assignments else 0.0


@dataclass(frozen=True)
class UnitFigures:
    organization_id: int
    own: Figures
    totals: Figures
    rank: int = 0


@dataclass(frozen=True)
class Dashboard:
    period: EvaluationPeriod
    organization: Organization
    # The organization's own assignments, and everything the dashboard covers rolled up.
    own: Figures
    totals: Figures
    units: list[UnitFigures]
    generated_at: datetime.datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class Root:
    """What a dashboard covers: the organization, and whether it is a provincial leader's province."""

    organization: Organization
    province_id: int | None = None

    @property
    def is_province(self) -> bool:
        return self.province_id is not None

    def covers(self, tree_id: int, lft: int, province_id: int | None) -> bool:
        """Whether a unit's figures may be part of this dashboard, from its position alone (a
        superset: the scope itself is applied when the figures are computed)."""
        if self.is_province:
            return province_id == self.province_id
        root = self.organization
        return tree_id == root.tree_id and root.lft <= lft <= root.rght


def check_role(viewer: Viewer) -> None:
    if viewer.active_role is None or viewer.active_role.role not in DASHBOARD_ROLES:
        raise DomainError("FORBIDDEN", FORBIDDEN_MESSAGE)


def dashboard_root(viewer: Viewer, organization_id: int | None) -> Root:
    """The organization the viewer may see a dashboard of (their role's unit by default)."""
    check_role(viewer)
    role = viewer.active_role
    pk = role.organization_id if organization_id is None else organization_id
    organization = (
        Organization.objects.filter(organization_scope(viewer), pk=pk).select_related("province").first()
    )
    if organization is None:
        # Out of scope and missing look the same.
        raise DomainError("NOT_FOUND", ORGANIZATION_NOT_FOUND, "organization")
    if role.role == Role.PROVINCIAL_LEADER and pk == role.organization_id:
        return Root(organization, province_id=role.organization.province_id)
    return Root(organization)


def dashboard_period(period_id: int) -> EvaluationPeriod:
    period = EvaluationPeriod.objects.filter(pk=period_id).first()
    if period is None:
        raise DomainError("NOT_FOUND", PERIOD_NOT_FOUND, "period")
    return period


def dashboard(viewer: Viewer, period_id: int, organization_id: int | None = None) -> Dashboard:
    root = dashboard_root(viewer, organization_id)
    period = dashboard_period(period_id)
    return figures(viewer, root, period)


def figures(viewer: Viewer, root: Root, period: EvaluationPeriod) -> Dashboard:
    own, units = _figures_by_unit(viewer, root, period.pk)
    ranked = rank(units)
    totals = own
    for unit in ranked:
        totals = totals + unit.totals
    return Dashboard(period=period, organization=root.organization, own=own, totals=totals, units=ranked)


def rank(units: list[tuple[int, UnitFigures]]) -> list[UnitFigures]:
    """``units`` as (lft, figures) in tree order → ranked (see the module's docstring)."""

    def key(unit: UnitFigures) -> tuple[Decimal, Decimal]:
        return (unit.totals.self_score, unit.totals.evaluated_score or Decimal(0))

    ordered = sorted(units, key=lambda item: (tuple(-value for value in key(item[1])), item[0]))
    result: list[UnitFigures] = []
    for position, (_, unit) in enumerate(ordered):
        same_as_previous = result and key(result[-1]) == key(unit)
        rank_ = result[-1].rank if same_as_previous else position + 1
        result.append(UnitFigures(unit.organization_id, unit.own, unit.totals, rank_))
    return result


# --- the statement ---------------------------------------------------------------------------

ORGANIZATIONS = Organization._meta.db_table
ASSIGNMENTS = Assignment._meta.db_table
INDICATORS = Indicator._meta.db_table
PERIODS = EvaluationPeriod._meta.db_table
REFERRALS = Referral._meta.db_table
PERFORMANCES = Performance._meta.db_table
EVALUATIONS = Evaluation._meta.db_table


def score_sql(vendor: str) -> str:
    """models/scoring.py's ``score`` of the top referral's value, as SQL over the columns ``v``
    (value), ``t`` (the referral's target), ``w`` (weight), ``cap``, ``lo``/``hi`` (bounds) and
    ``nature`` (a top referral is never a provincial slice, so the bounds apply).

    PostgreSQL: exact ``numeric``, weight × value ÷ target divided at 30 decimal places, rounded
    half up to cents — the same cents as the Decimal code wherever its 28 significant digits can
    tell the value from a half cent (they differ only on an exact half cent reached through a
    ratio with no finite decimal expansion, e.g. weight 3.75, value 0.004, target 3: 0.01 here,
    0.00 there). SQLite (the development default) computes in binary floating point; the 1e-9
    added before rounding keeps a half cent rounding up as Decimal's ROUND_HALF_UP does.
    """
    if vendor == "postgresql":
        least, greatest = "LEAST", "GREATEST"

        def ratio(numerator: str, denominator: str) -> str:
            return f"CAST({numerator} AS NUMERIC(60, 30)) / {denominator}"

        def cents(expression: str) -> str:
            return f"ROUND({expression}, 2)"
    else:
        least, greatest = "MIN", "MAX"

        def ratio(numerator: str, denominator: str) -> str:
            return f"CAST({numerator} AS REAL) / {denominator}"

        def cents(expression: str) -> str:
            return f"ROUND({expression} + 1e-9, 2)"

    def capped(numerator: str, denominator: str) -> str:
        return cents(f"{least}(cap, {greatest}(0, {ratio(numerator, denominator)}))")

    higher = "CASE WHEN hi IS NOT NULL AND v > hi THEN hi ELSE v END"
    lower = "CASE WHEN lo IS NOT NULL AND v < lo THEN lo ELSE v END"
    return (
        "CASE WHEN v IS NULL OR t IS NULL OR t <= 0 THEN NULL"
        " WHEN v < 0 THEN 0"
        f" WHEN nature = '{IndicatorNature.HIGHER_IS_BETTER.value}' THEN"
        f" CASE WHEN lo IS NOT NULL AND v < lo THEN 0 ELSE {capped(f'w * ({higher})', 't')} END"
        " ELSE CASE WHEN hi IS NOT NULL AND v > hi THEN 0"
        f" WHEN ({lower}) = 0 THEN cap ELSE {capped('w * t', f'({lower})')} END END"
    )


def _in(values) -> str:
    return ", ".join(f"'{getattr(value, 'value', value)}'" for value in values)


def figures_sql(vendor: str, units_sql: str) -> str:
    """The one statement. ``units_sql`` selects (id, lft, rght) of every organization the
    dashboard covers, the root included; it appears twice, and the parameters are: its own, the
    period, today, its own again, the root (three times).

    ``per_unit`` adds up each organization's assignments, joined from the covered organizations
    (the planner sees their tree range, so a ministry's dashboard probes indexes for its units'
    assignments, top referrals and performances, and the whole country's hashes them); ``placed``
    and ``buckets`` give each organization its listed unit (the last one at or before it in tree
    order that no earlier covered unit contains) without a join; the result is one row for the
    root's own figures and two for each listed unit: its own, and those of the units below it.
    """
    evaluated = (
        f"(SELECT ROUND(AVG(e.score){'' if vendor == 'postgresql' else ' + 1e-9'}, 2) FROM {EVALUATIONS} e"
        " WHERE e.assignment_id = a.id AND e.published_at IS NOT NULL)"
    )
    # The top referral: one probe of its index per assignment on PostgreSQL (a LATERAL join is
    # always a parameterized nested loop). Joined plainly, its planner hashed every top referral
    # of the country even for a ministry's nine hundred assignments (as models/progress.py found);
    # SQLite joins through the index anyway.
    if vendor == "postgresql":
        top_referral = (
            f"LEFT JOIN LATERAL (SELECT t.id, t.status, t.target FROM {REFERRALS} t"
            " WHERE t.assignment_id = a.id AND t.parent_id IS NULL LIMIT 1) r ON TRUE"
        )
    else:
        top_referral = f"LEFT JOIN {REFERRALS} r ON r.assignment_id = a.id AND r.parent_id IS NULL"
    return f"""
WITH per_unit AS (
    SELECT s.organization_id,
           COUNT(*) FILTER (WHERE s.applicable) AS assignments,
           COUNT(*) FILTER (WHERE s.applicable AND s.top_id IS NOT NULL) AS referred,
           COUNT(*) FILTER (WHERE s.applicable AND (s.finalized OR s.top_status IN ({_in(SUBMITTED)}))) AS submitted,
           COUNT(*) FILTER (WHERE s.applicable AND s.finalized) AS finalized,
           COUNT(*) FILTER (WHERE s.applicable AND NOT s.finalized AND s.due < %s) AS overdue,
           COUNT(*) FILTER (WHERE NOT s.applicable) AS not_applicable,
           SUM({score_sql(vendor)}) FILTER (WHERE s.applicable) AS self_score,
           COUNT(s.evaluated) FILTER (WHERE s.applicable) AS evaluated,
           SUM(s.evaluated) FILTER (WHERE s.applicable) AS evaluated_score
    FROM (
        SELECT a.organization_id, a.is_applicable AS applicable, a.status IN ({_in(FINALIZED)}) AS finalized,
               COALESCE(a.deadline, pe.end_date) AS due, r.id AS top_id, r.status AS top_status,
               (SELECT p.value FROM {PERFORMANCES} p WHERE p.referral_id = r.id) AS v,
               r.target AS t, a.weight AS w, a.score_cap AS cap, a.lower_bound AS lo,
               a.upper_bound AS hi, i.nature AS nature, {evaluated} AS evaluated
        FROM ({units_sql}) u
        JOIN {ASSIGNMENTS} a ON a.organization_id = u.id AND a.period_id = %s
        JOIN {PERIODS} pe ON pe.id = a.period_id
        JOIN {INDICATORS} i ON i.id = a.indicator_id
        {top_referral}
        {"OFFSET 0" if vendor == "postgresql" else ""}
    ) s
    GROUP BY s.organization_id
),
placed AS (
    SELECT u.id, u.lft, u.id = %s AS is_root,
           COALESCE(MAX(CASE WHEN u.id <> %s THEN u.rght END)
                    OVER (ORDER BY u.lft ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) < u.lft AS listed
    FROM ({units_sql}) u
),
buckets AS (
    SELECT id, lft, is_root,
           MAX(CASE WHEN listed AND NOT is_root THEN lft END) OVER (ORDER BY lft ROWS UNBOUNDED PRECEDING) AS bucket
    FROM placed
)
SELECT CASE WHEN b.is_root THEN NULL ELSE b.bucket END AS unit,
       MAX(CASE WHEN b.is_root OR b.lft = b.bucket THEN b.id END),
       (b.is_root OR b.lft = b.bucket) AS own,
       COALESCE(SUM(pu.assignments), 0), COALESCE(SUM(pu.referred), 0), COALESCE(SUM(pu.submitted), 0),
       COALESCE(SUM(pu.finalized), 0), COALESCE(SUM(pu.overdue), 0), COALESCE(SUM(pu.not_applicable), 0),
       SUM(pu.self_score), COALESCE(SUM(pu.evaluated), 0), SUM(pu.evaluated_score)
FROM buckets b
LEFT JOIN per_unit pu ON pu.organization_id = b.id
GROUP BY CASE WHEN b.is_root THEN NULL ELSE b.bucket END, (b.is_root OR b.lft = b.bucket)
"""


def covered_organizations(viewer: Viewer, root: Root):
    """The organizations a dashboard covers, through the viewer's scope (permissions/scope.py).

    A senior or main leader's scope is a subtree, so the subtree of a unit in it is in it: the
    statement checks that the root still is (an uncorrelated EXISTS, a one-time filter) instead of
    checking every unit against the scope's grant-bound range, whose bounds the planner cannot see
    (it would take the whole country for a hundred rows and probe indexes ten thousand times). A
    provincial leader's scope is a column filter (their province's units): applied to every unit.
    """
    if root.is_province:
        # Their own unit and their province's provincial and regional units.
        return Organization.objects.filter(organization_scope(viewer))
    organization = root.organization
    subtree = Organization.objects.filter(
        tree_id=organization.tree_id, lft__gte=organization.lft, lft__lte=organization.rght
    )
    if viewer.active_role.role in SUBTREE_ROLES:
        root_in_scope = Organization.objects.filter(organization_scope(viewer), pk=organization.pk)
        return subtree.filter(Exists(root_in_scope))
    return subtree.filter(organization_scope(viewer))


def _units_sql(viewer: Viewer, root: Root) -> tuple[str, tuple]:
    queryset = covered_organizations(viewer, root).order_by().values("id", "lft", "rght")
    return queryset.query.sql_with_params()


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _figures(row) -> Figures:
    assignments, referred, submitted, finalized, overdue, not_applicable, self_score, evaluated, evaluated_score = row
    # Sums of counts are numeric on PostgreSQL.
    return Figures(
        assignments=int(assignments),
        referred=int(referred),
        submitted=int(submitted),
        finalized=int(finalized),
        overdue=int(overdue),
        not_applicable=int(not_applicable),
        self_score=_money(self_score or 0),
        evaluated=int(evaluated),
        evaluated_score=None if not evaluated else _money(evaluated_score),
    )


def _figures_by_unit(viewer: Viewer, root: Root, period_id: int) -> tuple[Figures, list[tuple[int, UnitFigures]]]:
    units_sql, units_params = _units_sql(viewer, root)
    root_id = root.organization.pk
    params = (today_in_tehran(), *units_params, period_id, root_id, root_id, *units_params)
    with connection.cursor() as cursor:
        cursor.execute(figures_sql(connection.vendor, units_sql), params)
        rows = cursor.fetchall()
    own = Figures()
    unit_ids: dict[int, int] = {}
    own_of: dict[int, Figures] = {}
    below: dict[int, Figures] = {}
    for bucket, unit_id, is_own, *counts in rows:
        if bucket is None:
            own = _figures(counts)
        elif is_own:
            unit_ids[bucket] = unit_id
            own_of[bucket] = _figures(counts)
        else:
            below[bucket] = _figures(counts)
    units = [
        (bucket, UnitFigures(unit_ids[bucket], own_of[bucket], own_of[bucket] + below.get(bucket, Figures())))
        for bucket in sorted(unit_ids)
    ]
    return own, units
