"""Non-applicability requests' root fields: the list, asking (multipart, with evidence), deciding."""

from __future__ import annotations

from django.db.models import QuerySet
from strawberry import Info

from models.indicators import Assignment
from models.non_applicability import check_reviewer, request_non_applicability, review_non_applicability
from models.requests import NonApplicabilityRequest
from permissions import scope
from permissions.viewer import Viewer
from resolvers.workflow import decode_id, run_mutation, visible_or_not_found
from schema.context import require_viewer
from schema.enums import ReviewDecision
from schema.ids import decode_global_id
from schema.types import non_applicability as io


def non_applicability_requests(
    info: Info, status: str | None = None, assignment: str | None = None
) -> QuerySet[NonApplicabilityRequest]:
    require_viewer(info)
    # Scope (requests about the active role's units) comes from the type's get_queryset.
    queryset = NonApplicabilityRequest.objects.all()
    if status is not None:
        queryset = queryset.filter(status=status)
    if assignment is not None:
        queryset = queryset.filter(assignment_id=decode_global_id(assignment, "Assignment")[1])
    return queryset.order_by("-created_at", "-id")


async def request(info: Info, input: io.RequestNonApplicabilityInput) -> io.RequestNonApplicabilityPayload:
    def work(viewer: Viewer) -> dict:
        pk = decode_id(input.assignment, "Assignment", "assignment")
        assignments = scope.restrict_assignments(Assignment.objects.all(), viewer)
        visible_or_not_found(assignments, pk, "assignment", "ابلاغ پیدا نشد.")
        created = request_non_applicability(
            actor=viewer.user,
            role=viewer.active_role,
            assignment_id=pk,
            reason=input.reason,
            file_name=getattr(input.evidence, "name", ""),
            uploaded=input.evidence,
        )
        return {"request": created}

    return await run_mutation(info, io.RequestNonApplicabilityPayload, work)


async def review(info: Info, input: io.ReviewNonApplicabilityInput) -> io.ReviewNonApplicabilityPayload:
    def work(viewer: Viewer) -> dict:
        check_reviewer(viewer.active_role)  # to anyone else, whether the request exists is beside the point
        pk = decode_id(input.request, "NonApplicabilityRequest", "request")
        visible = scope.restrict_non_applicability_requests(NonApplicabilityRequest.objects.all(), viewer)
        visible_or_not_found(visible, pk, "request", "درخواست پیدا نشد.")
        reviewed = review_non_applicability(
            actor=viewer.user,
            role=viewer.active_role,
            request_id=pk,
            approve=input.decision == ReviewDecision.APPROVE,
            reason=input.reason,
        )
        return {"request": reviewed}

    return await run_mutation(info, io.ReviewNonApplicabilityPayload, work)
