"""Evaluations (ارزیابی) with feedback, and the mutations of evaluation."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.evaluations import Evaluation
from permissions import scope
from schema.errors import UserError
from schema.types.base import scoped
from schema.types.user import UserNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode

AssignmentRef = Annotated["AssignmentNode", strawberry.lazy("schema.types.indicator")]


@strawberry_django.type(
    Evaluation,
    name="Evaluation",
    description=(
        "An evaluator's evaluated score and written feedback (بازخورد) on an assignment sent for evaluation. "
        "The organization's people read it once published; the evaluator reads their own; the senior leader all."
    ),
)
class EvaluationNode(relay.Node):
    id: relay.NodeID[int]
    score: Decimal = strawberry_django.field(description="0 to the assignment's score cap.")
    feedback: str
    published_at: datetime.datetime | None = strawberry_django.field(
        description="Null until the senior leader publishes it."
    )
    updated_at: datetime.datetime

    get_queryset = scoped(scope.restrict_evaluations, ordering=("id",))

    @strawberry_django.field(only=["evaluator_id"])
    async def evaluator(self, info: Info) -> UserNode:
        # Through the scoped loader (rows come from loaders and payloads too, not only the optimizer):
        # whoever may read an evaluation may read who wrote it (permissions.scope.restrict_users).
        return await info.context.loaders.user.load(self.evaluator_id)

    @strawberry_django.field(only=["assignment_id"])
    async def assignment(self, info: Info) -> AssignmentRef:
        return await info.context.loaders.assignment.load(self.assignment_id)


@strawberry.input(description="Give assignments sent for evaluation to an evaluator or honorary evaluator.")
class AssignEvaluatorsInput:
    assignments: list[strawberry.ID] = strawberry.field(
        description="Assignments SENT_FOR_EVALUATION (all or none: any refusal changes nothing)."
    )
    evaluator: strawberry.ID = strawberry.field(description="A User holding an EVALUATOR or HONORARY_EVALUATOR role.")


@strawberry.type
class AssignEvaluatorsPayload:
    errors: list[UserError]
    assignments: list[AssignmentRef] = strawberry.field(default_factory=list)


@strawberry.input
class EvaluateAssignmentInput:
    assignment: strawberry.ID = strawberry.field(description="An assignment given to the viewer to evaluate.")
    score: Decimal = strawberry.field(
        description="From 0 to the assignment's score cap (SCORE_ABOVE_CAP), 2 decimal places at most."
    )
    feedback: str = strawberry.field(description="Written feedback for the organization (required).")


@strawberry.type
class EvaluateAssignmentPayload:
    errors: list[UserError]
    evaluation: EvaluationNode | None = None


@strawberry.input(description="Publish the recorded evaluations of assignments to their organizations.")
class PublishEvaluationsInput:
    assignments: list[strawberry.ID]


@strawberry.type
class PublishEvaluationsPayload:
    errors: list[UserError]
    assignments: list[AssignmentRef] = strawberry.field(default_factory=list)
