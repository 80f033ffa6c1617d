"""Non-applicability requests (درخواست عدم مصداق) as the organization sends them and the senior
leader decides them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.urls import reverse
from strawberry import Info, relay
from strawberry.file_uploads import Upload

from models.requests import NonApplicabilityRequest
from permissions import scope
from schema.enums import RequestStatusEnum, ReviewDecision
from schema.errors import UserError
from schema.public_urls import public_url
from schema.types.base import computed, scoped
from schema.types.user import UserNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode

AssignmentRef = Annotated["AssignmentNode", strawberry.lazy("schema.types.indicator")]
EVIDENCE_FIELDS = ["pk", "evidence_file_name", "evidence_content_type", "evidence_size"]


@strawberry.type(description="The evidence file of a request; `url` downloads it after a scope check.")
class RequestEvidence:
    file_name: str
    content_type: str
    size: int
    url: str = strawberry.field(
        description=(
            "Absolute download address (MANA_PUBLIC_URL, or this request's scheme and host): a GET with the "
            "viewer's session or API token answers the file; 404 for whoever does not see the request."
        )
    )


@strawberry_django.type(NonApplicabilityRequest, name="NonApplicabilityRequest")
class NonApplicabilityRequestNode(relay.Node):
    id: relay.NodeID[int]
    reason: str
    status: RequestStatusEnum
    created_at: datetime.datetime
    reviewed_at: datetime.datetime | None
    review_reason: str = strawberry_django.field(description="The senior leader's reason (a rejection has one).")

    get_queryset = scoped(scope.restrict_non_applicability_requests, ordering=("-created_at", "-id"))

    @strawberry_django.field(only=["assignment_id"])
    async def assignment(self, info: Info) -> AssignmentRef:
        # A request is visible for an assignment of the active role's units: the assignment is too.
        return await info.context.loaders.assignment.load(self.assignment_id)

    @strawberry_django.field(only=["requester_id"], description="Who asked; null where outside the viewer's scope.")
    async def requester(self, info: Info) -> UserNode | None:
        return await info.context.loaders.user.load(self.requester_id)

    @strawberry_django.field(
        only=["reviewed_by_id"], description="Who decided; null while pending or outside the viewer's scope."
    )
    async def reviewed_by(self, info: Info) -> UserNode | None:
        if self.reviewed_by_id is None:
            return None
        return await info.context.loaders.user.load(self.reviewed_by_id)

    @strawberry_django.field(only=EVIDENCE_FIELDS, description="Null only for a request entered without a file.")
    @computed
    def evidence(self, info: Info) -> RequestEvidence | None:
        if not self.evidence_file_name:
            return None
        path = reverse("non-applicability-evidence-download", args=[self.pk, self.evidence_file_name])
        return RequestEvidence(
            file_name=self.evidence_file_name,
            content_type=self.evidence_content_type,
            size=self.evidence_size or 0,
            url=public_url(info.context.request, path),
        )


@strawberry.input(description="Sent as a GraphQL multipart request (the evidence file).")
class RequestNonApplicabilityInput:
    assignment: strawberry.ID = strawberry.field(description="An assignment of the viewer's organization.")
    reason: str
    evidence: Upload = strawberry.field(description="PDF, DOC, DOCX, XLS or XLSX, checked as performance evidence is.")


@strawberry.type
class RequestNonApplicabilityPayload:
    errors: list[UserError]
    request: NonApplicabilityRequestNode | None = None


@strawberry.input
class ReviewNonApplicabilityInput:
    request: strawberry.ID
    decision: ReviewDecision
    reason: str | None = strawberry.field(default=None, description="Required to reject.")


@strawberry.type
class ReviewNonApplicabilityPayload:
    errors: list[UserError]
    request: NonApplicabilityRequestNode | None = None
