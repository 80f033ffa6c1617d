"""submitRegistrationRequest, the approver's queue and decisions, and the form's organization choices."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db.models import Exists, OuterRef, Q, QuerySet
from strawberry import Info

from models import registration
from models.errors import DomainError
from models.organization import Organization, OrganizationKind
from models.requests import RegistrationRequest
from models.text import to_latin_digits
from permissions import scope
from resolvers.auth import captcha_error
from schema.context import require_viewer
from schema.errors import ManaError, UserError, user_error_from_domain
from schema.ids import decode_global_id, encode_global_id
from schema.types import registration as io

NOT_FOUND = "درخواست یافت نشد."


async def submit(info: Info, input: io.SubmitRegistrationRequestInput) -> io.SubmitRegistrationRequestPayload:
    error = await captcha_error(input.captcha)
    if error is not None:
        return io.SubmitRegistrationRequestPayload(errors=[error])
    try:
        organization_id = decode_global_id(input.organization, "Organization")[1]
    except ManaError:
        organization_id = None  # refused below with the form's other mistakes, as NOT_FOUND
    form = registration.RegistrationForm(
        national_code=input.national_code,
        mobile=input.mobile,
        birth_date=input.birth_date,
        landline=input.landline,
        post=input.post,
        approver_mobile=input.approver_mobile,
        requested_role=input.requested_role.value,
        organization_id=organization_id,
    )
    try:
        request = await sync_to_async(registration.submit)(form)
    except registration.Refused as refused:
        return io.SubmitRegistrationRequestPayload(errors=[user_error_from_domain(e) for e in refused.errors])
    return io.SubmitRegistrationRequestPayload(
        errors=[], tracking_code=request.tracking_code, full_name=f"{request.first_name} {request.last_name}"
    )


def registration_requests(info: Info, status: str | None = None, search: str | None = None) -> QuerySet:
    require_viewer(info)
    # Scope (addressed to the viewer, for a unit of the active role) comes from the type's get_queryset.
    queryset = RegistrationRequest.objects.all()
    if status is not None:
        queryset = queryset.filter(status=status)
    for word in (search or "").split():
        word = to_latin_digits(word)
        queryset = queryset.filter(
            Q(tracking_code=word)
            | Q(national_code=word)
            | Q(mobile=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
        )
    return queryset.order_by("-created_at", "-id")


async def _review(info: Info, input: io.ReviewRegistrationRequestInput, decide) -> io.ReviewRegistrationRequestPayload:
    viewer = require_viewer(info)
    try:
        pk = decode_global_id(input.request, "RegistrationRequest")[1]
    except ManaError as error:
        refusal = UserError(field="request", code=error.code, message=error.message)
        return io.ReviewRegistrationRequestPayload(errors=[refusal])

    def work():
        visible = scope.restrict_registration_requests(RegistrationRequest.objects.filter(pk=pk), viewer)
        if not visible.exists():
            # Not addressed to the viewer, outside the active role, or missing: all look the same.
            raise DomainError("NOT_FOUND", NOT_FOUND, "request")
        return decide(pk, viewer.user)

    try:
        request = await sync_to_async(work)()
    except DomainError as error:
        return io.ReviewRegistrationRequestPayload(errors=[user_error_from_domain(error)])
    return io.ReviewRegistrationRequestPayload(errors=[], request=request)


async def approve(info: Info, input: io.ReviewRegistrationRequestInput) -> io.ReviewRegistrationRequestPayload:
    return await _review(info, input, lambda pk, user: registration.approve(pk, user, input.reason or ""))


async def reject(info: Info, input: io.ReviewRegistrationRequestInput) -> io.ReviewRegistrationRequestPayload:
    return await _review(info, input, lambda pk, user: registration.reject(pk, user, input.reason or ""))


def organization_choices(parent: str | None) -> list[io.OrganizationChoice]:
    """ARO and the first level when ``parent`` is null; else that organization's children."""
    if parent is None:
        queryset = Organization.objects.filter(
            Q(kind=OrganizationKind.ARO) | Q(kind__in=registration.FIRST_LEVEL_KINDS)
        )
    else:
        try:
            parent_id = decode_global_id(parent, "Organization")[1]
        except ManaError as error:
            error.extensions["field"] = "parent"
            raise
        queryset = Organization.objects.filter(parent_id=parent_id)
    queryset = queryset.annotate(has_children=Exists(Organization.objects.filter(parent_id=OuterRef("pk"))))
    return [
        io.OrganizationChoice(
            id=encode_global_id("Organization", row.pk),
            name=row.name,
            kind=OrganizationKind(row.kind),
            has_children=row.has_children,
        )
        for row in queryset.order_by("tree_id", "lft")
    ]
