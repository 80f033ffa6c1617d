"""Evaluation and feedback (docs/workflow.md, after «ارسال برای ارزیابی»), as plain functions.

* the senior leader gives assignments sent for evaluation to evaluators (ارزیاب) and honorary
  evaluators (ارزیاب افتخاری) — giving one again is a no-op, never an error;
* an evaluator given an assignment records their evaluated score (0 to the assignment's score cap)
  and written feedback (بازخورد), and may correct both until they are published;
* the senior leader publishes an assignment's evaluations: they become the organization's to read,
  the assignment moves to EVALUATED (an inbox event, EVALUATED, for its top referral's referrer and
  assignee), and the evaluation of that assignment is closed.

An assignment's evaluated score is the average of its published scores (``evaluated_score``).
Each function runs in one transaction and refuses with a DomainError, changing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from models import decimals, events
from models.errors import Conflict, DomainError
from models.evaluations import Evaluation, EvaluatorAssignment
from models.indicators import Assignment, ReferralStatus
from models.referrals import Referral
from models.roles import Role
from models.users import RoleAssignment, User
from models.workflow import plain

S = ReferralStatus
EVALUATOR_ROLES = (Role.EVALUATOR, Role.HONORARY_EVALUATOR)
NOT_FOUND_MESSAGE = "ابلاغ پیدا نشد."
ASSIGN_MESSAGE = "تنها راهبر ارشد می‌تواند ارزیاب تعیین کند."


def evaluated_score(scores: Iterable[Decimal]) -> Decimal | None:
    """The average of published scores, to 2 places like every score; None without any."""
    scores = list(scores)
    if not scores:
        return None
    return (sum(scores) / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def require_senior_leader(role, message: str) -> None:
    if role is None or role.role != Role.SENIOR_LEADER:
        raise DomainError("NOT_ALLOWED", message)


def _locked_in_role_scope(actor: User, role, assignment_ids: Sequence[int]) -> list[Assignment]:
    """The assignments, locked, in the order given (duplicates once), all within the role's units."""
    from permissions.scope import assignments_of_role
    from permissions.viewer import Viewer

    if not assignment_ids:
        raise DomainError("ASSIGNMENTS_REQUIRED", "دست‌کم یک ابلاغ را انتخاب کنید.", "assignments")
    wanted = list(dict.fromkeys(assignment_ids))
    viewer = Viewer(user=actor, active_role=role)
    locked = assignments_of_role(Assignment.objects.select_for_update(of=("self",)).filter(pk__in=wanted), viewer)
    by_pk = {assignment.pk: assignment for assignment in locked.order_by("id")}
    for index, pk in enumerate(assignment_ids):
        if pk not in by_pk:
            raise DomainError("NOT_FOUND", NOT_FOUND_MESSAGE, f"assignments.{index}")
    return [by_pk[pk] for pk in wanted]


def _check_evaluable(assignment: Assignment, field: str) -> None:
    if assignment.status == S.EVALUATED:
        raise DomainError("ALREADY_PUBLISHED", "ارزیابی این شاخص منتشر شده است و دیگر تغییر نمی‌کند.", field)
    if assignment.status != S.SENT_FOR_EVALUATION:
        raise DomainError(
            "NOT_SENT_FOR_EVALUATION", "این شاخص هنوز ثبت نهایی و برای ارزیابی ارسال نشده است.", field
        )
    if not assignment.is_applicable:
        raise DomainError("NOT_APPLICABLE", "این شاخص برای دستگاه عدم مصداق شناخته شده و ارزیابی نمی‌شود.", field)


def is_evaluator(user: User) -> bool:
    return user.is_active and RoleAssignment.objects.filter(user=user, role__in=EVALUATOR_ROLES).exists()


def assign_evaluators(*, actor: User, role, assignment_ids: Sequence[int], evaluator: User) -> list[Assignment]:
    """The senior leader gives assignments sent for evaluation to an evaluator (idempotent)."""
    require_senior_leader(role, ASSIGN_MESSAGE)
    if not is_evaluator(evaluator):
        raise DomainError("NOT_EVALUATOR", "کاربر انتخاب‌شده ارزیاب یا ارزیاب افتخاری نیست.", "evaluator")
    with transaction.atomic():
        assignments = _locked_in_role_scope(actor, role, assignment_ids)
        for index, assignment in enumerate(assignments):
            if assignment.status != S.SENT_FOR_EVALUATION:
                raise DomainError(
                    "NOT_SENT_FOR_EVALUATION",
                    "تنها شاخص‌هایی که برای ارزیابی ارسال شده‌اند و هنوز ارزیابی آن‌ها منتشر نشده است "
                    "به ارزیاب سپرده می‌شوند.",
                    f"assignments.{index}",
                )
            if not assignment.is_applicable:
                raise DomainError(
                    "NOT_APPLICABLE", "این شاخص برای دستگاه عدم مصداق شناخته شده است.", f"assignments.{index}"
                )
        # Given again: nothing to do (the unique constraint would refuse a second row anyway).
        EvaluatorAssignment.objects.bulk_create(
            [EvaluatorAssignment(assignment=a, evaluator=evaluator, assigned_by=actor) for a in assignments],
            ignore_conflicts=True,
        )
        return assignments


def evaluate(*, actor: User, assignment_id: int, score: Decimal, feedback: str) -> Evaluation:
    """Record (or, before publication, correct) one's evaluation of an assignment given to one.

    The caller has checked that it was given to ``actor`` (permissions.scope.assignments_given);
    whatever is refused here changes nothing."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().filter(pk=assignment_id).first()
        if assignment is None:
            raise DomainError("NOT_FOUND", NOT_FOUND_MESSAGE, "assignment")
        _check_evaluable(assignment, "assignment")
        score = decimals.checked(Evaluation, "score", score, "score")
        if score < 0:
            raise DomainError("NEGATIVE_NOT_ALLOWED", "امتیاز ارزیابی نمی‌تواند منفی باشد.", "score")
        if score > assignment.score_cap:
            raise DomainError(
                "SCORE_ABOVE_CAP",
                f"امتیاز ارزیابی نباید از سقف امتیاز این شاخص ({plain(assignment.score_cap)}) بیشتر باشد.",
                "score",
            )
        feedback = (feedback or "").strip()
        if not feedback:
            raise DomainError("FEEDBACK_REQUIRED", "بازخورد ارزیابی را بنویسید.", "feedback")
        evaluation = Evaluation.objects.filter(assignment=assignment, evaluator=actor).first()
        if evaluation is not None and evaluation.published_at is not None:
            raise DomainError("ALREADY_PUBLISHED", "ارزیابی شما منتشر شده است و دیگر تغییر نمی‌کند.", "assignment")
        if evaluation is None:
            evaluation = Evaluation(assignment=assignment, evaluator=actor)
        evaluation.score, evaluation.feedback = score, feedback
        try:
            with transaction.atomic():
                evaluation.save()
        except IntegrityError:
            raise Conflict()  # the same evaluator, recording twice at once
        events.figures_changed(assignment.period_id, assignment.organization_id)
        return evaluation


def publish(*, actor: User, role, assignment_ids: Sequence[int]) -> list[Assignment]:
    """The senior leader publishes the recorded evaluations of assignments: the organization reads
    them, and the assignments (and their top referrals) are EVALUATED."""
    require_senior_leader(role, "تنها راهبر ارشد می‌تواند ارزیابی‌ها را منتشر کند.")
    with transaction.atomic():
        assignments = _locked_in_role_scope(actor, role, assignment_ids)
        recorded = set(
            Evaluation.objects.filter(assignment__in=assignments, published_at__isnull=True).values_list(
                "assignment_id", flat=True
            )
        )
        for index, assignment in enumerate(assignments):
            field = f"assignments.{index}"
            if assignment.status == S.EVALUATED:
                raise DomainError("ALREADY_PUBLISHED", "ارزیابی این شاخص پیش‌تر منتشر شده است.", field)
            if assignment.status != S.SENT_FOR_EVALUATION:
                raise DomainError(
                    "NOT_SENT_FOR_EVALUATION", "این شاخص هنوز ثبت نهایی و برای ارزیابی ارسال نشده است.", field
                )
            if assignment.pk not in recorded:
                raise DomainError("NO_EVALUATION", "هنوز هیچ ارزیابی برای این شاخص ثبت نشده است.", field)
        Evaluation.objects.filter(assignment__in=assignments, published_at__isnull=True).update(
            published_at=timezone.now()
        )
        Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(status=S.EVALUATED)
        # The chain itself is done (its timeline ends at SENT_FOR_EVALUATION): an inbox event on its
        # top referral tells its referrer and assignee that the feedback is there to read.
        for top in Referral.objects.filter(assignment__in=assignments, parent__isnull=True):
            events.referral_changed(top, actor, events.EventKind.EVALUATED)
        for assignment in assignments:
            assignment.status = S.EVALUATED
        for period_id, organization_id in {(a.period_id, a.organization_id) for a in assignments}:
            events.figures_changed(period_id, organization_id)
        return assignments
