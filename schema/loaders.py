"""Data loaders: one query per kind of nested lookup, whatever the number of parents.

Each loader runs through the restricting querysets of ``permissions.scope``, so batching never
widens what the viewer sees.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from functools import reduce
from operator import or_

from asgiref.sync import sync_to_async
from django.db.models import Prefetch, Q
from strawberry.dataloader import DataLoader

from models.evaluations import Evaluation, EvaluatorAssignment
from models.indicators import Assignment
from models.organization import Organization
from models.progress import referral_progress
from models.referrals import Performance, Referral
from models.requests import NonApplicabilityRequest
from models.users import User
from permissions import scope
from permissions.viewer import Viewer

# (tree_id, lft, rght) of an organization: enough to find its ancestors.
TreePosition = tuple[int, int, int]
# (tree_id, lft, rght, organization kind or None): an organization's descendants, maybe of one kind.
DescendantsKey = tuple[int, int, int, str | None]
# (organization pk, period pk, indicator kind or None)
AssignmentKey = tuple[int, int, str | None]


class Loaders:
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.ancestors = DataLoader(load_fn=sync_to_async(self._ancestors))
        self.descendants = DataLoader(load_fn=sync_to_async(self._descendants))
        self.organization = DataLoader(load_fn=sync_to_async(self._organizations))
        self.subordinate_unit = DataLoader(load_fn=sync_to_async(self._subordinate_units))
        self.assignments = DataLoader(load_fn=sync_to_async(self._assignments))
        self.referral_progress = DataLoader(load_fn=sync_to_async(self._referral_progress))
        self.assignment_referrals = DataLoader(load_fn=sync_to_async(self._assignment_referrals))
        self.top_performance = DataLoader(load_fn=sync_to_async(self._top_performance))
        self.referral = DataLoader(load_fn=sync_to_async(self._referrals))
        # Not cached: two mutations of one document may save the same performance in turn, and
        # each payload must show the history as it stands after its own save.
        self.performance_history = DataLoader(load_fn=sync_to_async(self._performance_history), cache=False)
        # Evaluation and non-applicability (models/evaluation_workflow.py, models/non_applicability.py).
        self.user = DataLoader(load_fn=sync_to_async(self._users))
        self.assignment = DataLoader(load_fn=sync_to_async(self._assignments_by_pk))
        self.assignment_evaluations = DataLoader(load_fn=sync_to_async(self._assignment_evaluations))
        self.assignment_evaluators = DataLoader(load_fn=sync_to_async(self._assignment_evaluators))
        self.assignment_requests = DataLoader(load_fn=sync_to_async(self._assignment_requests))

    def _tree_rows(self, bounds: dict[int, Q]) -> dict[int, list[Organization]]:
        """Scoped organizations of each tree within one bounding filter, in lft order.

        One simple range per tree (instead of one OR-ed range per requested node) keeps the SQL
        and, above all, Django's query building small; the exact per-node ranges are cut out in
        Python from the lft-ordered rows.
        """
        rows = scope.restrict_organizations(Organization.objects.filter(reduce(or_, bounds.values())), self.viewer)
        by_tree: dict[int, list[Organization]] = defaultdict(list)
        for organization in rows.select_related("province").order_by("tree_id", "lft"):
            by_tree[organization.tree_id].append(organization)
        return by_tree

    def _ancestors(self, positions: list[TreePosition]) -> list[list[Organization]]:
        bounds = {}
        for tree_id in {t for t, _, _ in positions}:
            inner = [(lft, rght) for t, lft, rght in positions if t == tree_id]
            bounds[tree_id] = Q(
                tree_id=tree_id, lft__lt=max(lft for lft, _ in inner), rght__gt=min(rght for _, rght in inner)
            )
        by_tree = self._tree_rows(bounds)
        return [[o for o in by_tree[tree_id] if o.lft < lft and o.rght > rght] for tree_id, lft, rght in positions]

    def _descendants(self, keys: list[DescendantsKey]) -> list[list[Organization]]:
        bounds = {}
        for tree_id in {t for t, _, _, _ in keys}:
            outer = [(lft, rght) for t, lft, rght, _ in keys if t == tree_id]
            bounds[tree_id] = Q(
                tree_id=tree_id, lft__gt=min(lft for lft, _ in outer), rght__lt=max(rght for _, rght in outer)
            )
        by_tree = self._tree_rows(bounds)
        result = []
        for tree_id, lft, rght, kind in keys:
            rows = by_tree[tree_id]
            # Descendants are the contiguous run of lft values strictly inside (lft, rght).
            start = bisect_right(rows, lft, key=lambda o: o.lft)
            end = bisect_left(rows, rght, key=lambda o: o.lft)
            result.append([o for o in rows[start:end] if kind is None or o.kind == kind])
        return result

    def _organizations(self, pks: list[int]) -> list[Organization | None]:
        """Organizations by pk, None where out of scope: forward foreign keys (``parent``,
        ``Assignment.organization``, ``User.organization``) of rows that did not come through the
        optimizer (loader results, ``me``) resolve here, so they never step outside the scope."""
        rows = scope.restrict_organizations(Organization.objects.filter(pk__in=set(pks)), self.viewer)
        found = {o.pk: o for o in rows.select_related("province")}
        return [found.get(pk) for pk in pks]

    def _subordinate_units(self, pks: list[int]) -> list[Organization | None]:
        """The units of the viewer's own subordinates (the people they approved, still active), by
        pk: one refers to them and splits a referral by their province, so their unit is nameable
        even outside the role's scope — through them only, not as part of ``organizations``."""
        if not self.viewer.is_authenticated or self.viewer.active_role is None:
            return [None] * len(pks)
        rows = Organization.objects.filter(
            pk__in=set(pks), members__approver_id=self.viewer.user.pk, members__is_active=True
        ).distinct()
        found = {o.pk: o for o in rows.select_related("province")}
        return [found.get(pk) for pk in pks]

    def _assignments(self, keys: list[AssignmentKey]) -> list[list[Assignment]]:
        organizations = {org for org, _, _ in keys}
        periods = {period for _, period, _ in keys}
        rows = scope.restrict_assignments(
            Assignment.objects.filter(organization_id__in=organizations, period_id__in=periods), self.viewer
        ).select_related("indicator", "period", "organization")
        grouped: dict[AssignmentKey, list[Assignment]] = defaultdict(list)
        for assignment in rows.order_by("id"):
            for key in (
                (assignment.organization_id, assignment.period_id, None),
                (assignment.organization_id, assignment.period_id, assignment.indicator.kind),
            ):
                grouped[key].append(assignment)
        return [grouped.get(key, []) for key in keys]

    def _referral_progress(self, keys: list[tuple[int, int]]):
        by_period: dict[int, list[int]] = defaultdict(list)
        for org, period in keys:
            by_period[period].append(org)
        in_scope = scope.restrict_assignments(Assignment.objects.all(), self.viewer)
        results = {}
        for period, orgs in by_period.items():
            for org, progress in referral_progress(orgs, period, in_scope).items():
                results[(org, period)] = progress
        return [results[key] for key in keys]

    def _assignment_referrals(self, assignment_pks: list[int]) -> list[list[Referral]]:
        rows = scope.restrict_referrals(Referral.objects.filter(assignment_id__in=assignment_pks), self.viewer)
        # These rows bypass the optimizer: their people come in one scoped query each, not one per row.
        people = scope.restrict_users(User.objects.all(), self.viewer)
        rows = rows.select_related("province").prefetch_related(
            Prefetch("referrer", queryset=people), Prefetch("assignee", queryset=people)
        )
        grouped: dict[int, list[Referral]] = defaultdict(list)
        for referral in rows.order_by("id"):
            grouped[referral.assignment_id].append(referral)
        return [grouped.get(pk, []) for pk in assignment_pks]

    def _top_performance(self, assignment_pks: list[int]) -> list[Performance | None]:
        """The performance registered on each assignment's top referral, if the viewer sees it."""
        rows = scope.restrict_performances(
            Performance.objects.filter(referral__assignment_id__in=assignment_pks, referral__parent__isnull=True),
            self.viewer,
        ).select_related("referral__assignment__indicator")
        by_assignment = {performance.referral.assignment_id: performance for performance in rows}
        return [by_assignment.get(pk) for pk in assignment_pks]

    def _referrals(self, pks: list[int]) -> list[Referral | None]:
        """Referrals by id, null where the viewer may not see them (a referral's parent)."""
        rows = scope.restrict_referrals(Referral.objects.filter(pk__in=set(pks)), self.viewer)
        by_pk = {referral.pk: referral for referral in rows}
        return [by_pk.get(pk) for pk in pks]

    def _performance_history(self, performance_pks: list[int]) -> list[list]:
        """Each performance's history records, oldest first, with who saved each one.

        The performances themselves came through the scope; the people who saved them are read
        through it too (null where the viewer may not see them).
        """
        people = scope.restrict_users(User.objects.all(), self.viewer)
        rows = (
            Performance.history.filter(id__in=set(performance_pks))
            .order_by("history_date", "history_id")
            .prefetch_related(Prefetch("history_user", queryset=people))
        )
        grouped: dict[int, list] = defaultdict(list)
        for record in rows:
            grouped[record.id].append(record)
        return [grouped.get(pk, []) for pk in performance_pks]

    def _users(self, pks: list[int]) -> list[User | None]:
        """People by pk, None where out of scope (an evaluator, a requester, a reviewer)."""
        rows = scope.restrict_users(User.objects.filter(pk__in=set(pks)), self.viewer)
        found = {user.pk: user for user in rows}
        return [found.get(pk) for pk in pks]

    def _assignments_by_pk(self, pks: list[int]) -> list[Assignment | None]:
        rows = scope.restrict_assignments(Assignment.objects.filter(pk__in=set(pks)), self.viewer)
        found = {a.pk: a for a in rows.select_related("indicator", "period", "organization")}
        return [found.get(pk) for pk in pks]

    def _assignment_evaluations(self, assignment_pks: list[int]) -> list[list[Evaluation]]:
        """Each assignment's evaluations the viewer may read, oldest first."""
        rows = scope.restrict_evaluations(Evaluation.objects.filter(assignment_id__in=set(assignment_pks)), self.viewer)
        grouped: dict[int, list[Evaluation]] = defaultdict(list)
        for evaluation in rows.order_by("id"):
            grouped[evaluation.assignment_id].append(evaluation)
        return [grouped.get(pk, []) for pk in assignment_pks]

    def _assignment_evaluators(self, assignment_pks: list[int]) -> list[list[User]]:
        """The people each assignment was given to evaluate, as far as the viewer may know."""
        given = scope.restrict_evaluator_assignments(
            EvaluatorAssignment.objects.filter(assignment_id__in=set(assignment_pks)), self.viewer
        )
        people = scope.restrict_users(User.objects.all(), self.viewer)
        grouped: dict[int, list[User]] = defaultdict(list)
        for row in given.prefetch_related(Prefetch("evaluator", queryset=people)).order_by("id"):
            if row.evaluator is not None:
                grouped[row.assignment_id].append(row.evaluator)
        return [grouped.get(pk, []) for pk in assignment_pks]

    def _assignment_requests(self, assignment_pks: list[int]) -> list[list[NonApplicabilityRequest]]:
        rows = scope.restrict_non_applicability_requests(
            NonApplicabilityRequest.objects.filter(assignment_id__in=set(assignment_pks)), self.viewer
        )
        grouped: dict[int, list[NonApplicabilityRequest]] = defaultdict(list)
        for request in rows.order_by("-created_at", "-id"):
            grouped[request.assignment_id].append(request)
        return [grouped.get(pk, []) for pk in assignment_pks]
