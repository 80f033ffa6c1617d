"""Evaluation's root fields: what was sent for evaluation, giving it to evaluators, evaluating,
publishing. Ids are decoded within the viewer's scope; models.evaluation_workflow decides."""

from __future__ import annotations

from django.db.models import QuerySet
from strawberry import Info

from models import evaluation_workflow
from models.indicators import Assignment
from models.users import User
from permissions import scope
from permissions.grant_sql import SENT
from permissions.viewer import Viewer
from resolvers.workflow import decode_id, run_mutation, visible_or_not_found
from schema.context import require_viewer
from schema.ids import decode_global_id
from schema.types import evaluation as io

NOT_FOUND = evaluation_workflow.NOT_FOUND_MESSAGE


def sent_for_evaluation(info: Info, period: str, status: str | None = None) -> QuerySet[Assignment]:
    require_viewer(info)
    _, period_pk = decode_global_id(period, "EvaluationPeriod")
    statuses = [s for s in SENT if status is None or s == status]
    # Scope (the senior leader's subtree, an evaluator's given assignments…) is AssignmentNode's get_queryset.
    return Assignment.objects.filter(period_id=period_pk, status__in=statuses).order_by("id")


def _assignment_ids(values: list[str]) -> list[int]:
    # Whether each is one the role may act on is the domain's check (NOT_FOUND, with its index).
    return [decode_id(value, "Assignment", f"assignments.{index}") for index, value in enumerate(values)]


async def assign_evaluators(info: Info, input: io.AssignEvaluatorsInput) -> io.AssignEvaluatorsPayload:
    def work(viewer: Viewer) -> dict:
        # The role first: to anyone else, the evaluator's visibility is beside the point.
        evaluation_workflow.require_senior_leader(viewer.active_role, evaluation_workflow.ASSIGN_MESSAGE)
        evaluator_pk = decode_id(input.evaluator, "User", "evaluator")
        people = scope.restrict_users(User.objects.all(), viewer)
        evaluator = visible_or_not_found(people, evaluator_pk, "evaluator", "کاربر پیدا نشد.")
        assignments = evaluation_workflow.assign_evaluators(
            actor=viewer.user,
            role=viewer.active_role,
            assignment_ids=_assignment_ids(input.assignments),
            evaluator=evaluator,
        )
        return {"assignments": assignments}

    return await run_mutation(info, io.AssignEvaluatorsPayload, work)


async def evaluate_assignment(info: Info, input: io.EvaluateAssignmentInput) -> io.EvaluateAssignmentPayload:
    def work(viewer: Viewer) -> dict:
        pk = decode_id(input.assignment, "Assignment", "assignment")
        # Not given to the viewer (under an evaluator role) and missing look the same.
        visible_or_not_found(scope.assignments_given(Assignment.objects.all(), viewer), pk, "assignment", NOT_FOUND)
        evaluation = evaluation_workflow.evaluate(
            actor=viewer.user, assignment_id=pk, score=input.score, feedback=input.feedback
        )
        return {"evaluation": evaluation}

    return await run_mutation(info, io.EvaluateAssignmentPayload, work)


async def publish_evaluations(info: Info, input: io.PublishEvaluationsInput) -> io.PublishEvaluationsPayload:
    def work(viewer: Viewer) -> dict:
        assignments = evaluation_workflow.publish(
            actor=viewer.user, role=viewer.active_role, assignment_ids=_assignment_ids(input.assignments)
        )
        return {"assignments": assignments}

    return await run_mutation(info, io.PublishEvaluationsPayload, work)
