"""Registration requests (درخواست کاربری) as the applicant sends them and the approver reads them."""

from __future__ import annotations

import datetime

import strawberry
import strawberry_django
from strawberry import Info, relay

from models.requests import RegistrationRequest
from permissions import scope
from schema.enums import OrganizationKindEnum, RequestStatusEnum, RoleEnum
from schema.errors import UserError
from schema.types.auth import CaptchaInput
from schema.types.base import computed, scoped
from schema.types.organization import OrganizationNode


@strawberry_django.type(RegistrationRequest, name="RegistrationRequest")
class RegistrationRequestNode(relay.Node):
    id: relay.NodeID[int]
    tracking_code: str
    subsystem: str
    national_code: str
    post: str
    mobile: str
    landline: str
    birth_date: datetime.date
    status: RequestStatusEnum
    requested_role: RoleEnum
    created_at: datetime.datetime
    reviewed_at: datetime.datetime | None
    review_reason: str = strawberry_django.field(description="The approver's reason (a rejection always has one).")

    get_queryset = scoped(scope.restrict_registration_requests, ordering=("-created_at", "-id"))

    @strawberry_django.field(only=["first_name", "last_name"], description="As the civil registry has it.")
    @computed
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @strawberry_django.field(only=["organization_id"])
    async def organization(self, info: Info) -> OrganizationNode:
        # A request is only visible for a unit of the active role, so its unit is in scope too.
        return await info.context.loaders.organization.load(self.organization_id)


@strawberry.type(description="An organization to choose on the registration form (public: names and kinds only).")
class OrganizationChoice:
    id: strawberry.ID = strawberry.field(description="The Organization's global id, for `organization`.")
    name: str
    kind: OrganizationKindEnum
    has_children: bool


@strawberry.input
class SubmitRegistrationRequestInput:
    national_code: str
    mobile: str
    birth_date: datetime.date = strawberry.field(description="Jalali, e.g. 1368/05/21 (Persian digits accepted).")
    landline: str = strawberry.field(description="With the city code, e.g. 021-81234567.")
    post: str
    approver_mobile: str = strawberry.field(description="The mobile of the superior who is to approve the request.")
    requested_role: RoleEnum
    organization: strawberry.ID = strawberry.field(
        description="A headquarters, subsidiary or unit (registrationOrganizations); a ministry alone is refused."
    )
    captcha: CaptchaInput


@strawberry.type
class SubmitRegistrationRequestPayload:
    errors: list[UserError]
    tracking_code: str | None = strawberry.field(default=None, description="کد رهگیری; also sent by SMS.")
    full_name: str | None = strawberry.field(default=None, description="The applicant's name, from the registry.")


@strawberry.input
class ReviewRegistrationRequestInput:
    request: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Required to reject; sent to the applicant.")


@strawberry.type
class ReviewRegistrationRequestPayload:
    errors: list[UserError]
    request: RegistrationRequestNode | None = None
