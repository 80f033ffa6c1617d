"""The referral workflow's mutations: decode ids within the viewer's scope, call models.workflow,
and turn its refusals into payload errors."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from strawberry import UNSET, Info

from models import workflow
from models.errors import DomainError
from models.geography import Province
from models.indicators import Assignment
from models.referrals import Referral
from models.users import User
from permissions import scope
from permissions.viewer import Viewer
from schema.context import require_viewer
from schema.errors import ManaError, UserError, user_error_from_domain
from schema.ids import decode_global_id
from schema.types import workflow as io


async def run_mutation(info: Info, payload: type, work: Callable[[Viewer], dict]):
    """Run ``work`` (sync, in one thread with the database) and answer refusals in the payload."""
    viewer = require_viewer(info)
    try:
        result = await sync_to_async(work)(viewer)
    except DomainError as error:
        return payload(errors=[user_error_from_domain(error)])
    except ManaError as error:
        field = getattr(error, "field", None)
        return payload(errors=[UserError(field=field, code=error.code, message=error.message)])
    return payload(errors=[], **result)


def _decode_any(value: str, expected: str | None, field: str) -> tuple[str, int]:
    try:
        return decode_global_id(value, expected)
    except ManaError as error:
        error.field = field
        raise


def decode_id(value: str, expected: str, field: str) -> int:
    return _decode_any(value, expected, field)[1]


def visible_or_not_found(queryset: QuerySet, pk: int, field: str, message: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        # Out of scope and non-existent look the same.
        raise DomainError("NOT_FOUND", message, field)
    return found


def _referral(viewer: Viewer, value: str, field: str = "referral") -> Referral:
    pk = decode_id(value, "Referral", field)
    return visible_or_not_found(scope.restrict_referrals(Referral.objects.all(), viewer), pk, field, "ارجاع پیدا نشد.")


def _user(value: str | None, field: str) -> User | None:
    if value is None:
        return None
    pk = decode_id(value, "User", field)
    return visible_or_not_found(User.objects.all(), pk, field, "کاربر پیدا نشد.")


def _province(value: str, field: str) -> Province:
    pk = decode_id(value, "Province", field)
    province = Province.objects.filter(pk=pk).first()
    if province is None:
        raise DomainError("UNKNOWN_PROVINCE", "استان پیدا نشد.", field)
    return province


def _slices(specs, with_assignees: bool) -> list[workflow.SliceSpec]:
    result = []
    for index, spec in enumerate(specs or ()):
        result.append(
            workflow.SliceSpec(
                province=_province(spec.province, f"slices.{index}.province"),
                target=spec.target,
                weight=spec.weight if spec.weight is not None else Decimal(1),
                assignee=_user(spec.assignee, f"slices.{index}.assignee") if with_assignees else None,
                deadline=spec.deadline,
            )
        )
    return result


async def refer(info: Info, input: io.ReferInput) -> io.ReferPayload:
    def work(viewer: Viewer) -> dict:
        type_name, pk = _decode_any(input.source, None, "source")
        if type_name == "Assignment":
            source = visible_or_not_found(
                scope.restrict_assignments(Assignment.objects.all(), viewer), pk, "source", "ابلاغ پیدا نشد."
            )
        elif type_name == "Referral":
            source = _referral(viewer, input.source, "source")
        else:
            raise DomainError("INVALID_ID", "مبدأ ارجاع باید ابلاغ یا ارجاع باشد.", "source")
        referral = workflow.refer(
            actor=viewer.user,
            role=viewer.active_role,
            source=source,
            assignee=_user(input.assignee, "assignee"),
            deadline=input.deadline,
            has_provincial_breakdown=input.has_provincial_breakdown,
            breakdown_by=input.breakdown_by.value if input.breakdown_by else None,
            slices=_slices(input.slices, with_assignees=True),
            province=_province(input.province, "province") if input.province else None,
        )
        return {"referral": referral}

    return await run_mutation(info, io.ReferPayload, work)


async def split_by_province(info: Info, input: io.SplitByProvinceInput) -> io.SplitByProvincePayload:
    def work(viewer: Viewer) -> dict:
        referral = _referral(viewer, input.referral)
        slices = _slices(input.slices, with_assignees=False)
        return {
            "referral": workflow.split_by_province(
                actor=viewer.user, referral_id=referral.pk, version=input.version, slices=slices
            )
        }

    return await run_mutation(info, io.SplitByProvincePayload, work)


async def save_performance(info: Info, input: io.SavePerformanceInput) -> io.SavePerformancePayload:
    # Omitted fields keep their saved value. Only the value may be cleared with null; for the
    # flags and texts (which cannot be null) null means the same as omitting them.
    changes = {
        field: value
        for field in workflow.PERFORMANCE_FIELDS
        if (value := getattr(input, field)) is not UNSET and (value is not None or field == "value")
    }

    def work(viewer: Viewer) -> dict:
        referral = _referral(viewer, input.referral)
        performance = workflow.save_performance(
            actor=viewer.user, referral_id=referral.pk, version=input.version, changes=changes
        )
        return {"performance": performance}

    return await run_mutation(info, io.SavePerformancePayload, work)


async def upload_evidence(info: Info, input: io.UploadEvidenceInput) -> io.UploadEvidencePayload:
    def work(viewer: Viewer) -> dict:
        referral = _referral(viewer, input.referral)
        evidence = workflow.upload_evidence(
            actor=viewer.user, referral_id=referral.pk, file_name=getattr(input.file, "name", ""), uploaded=input.file
        )
        return {"evidence": evidence}

    return await run_mutation(info, io.UploadEvidencePayload, work)


async def finish_referral(info: Info, input: io.FinishReferralInput) -> io.FinishReferralPayload:
    def work(viewer: Viewer) -> dict:
        referral = _referral(viewer, input.referral)
        return {"referral": workflow.finish_referral(actor=viewer.user, referral_id=referral.pk, version=input.version)}

    return await run_mutation(info, io.FinishReferralPayload, work)


async def return_referral(info: Info, input: io.ReturnReferralInput) -> io.ReturnReferralPayload:
    def work(viewer: Viewer) -> dict:
        referral = _referral(viewer, input.referral)
        returned = workflow.return_referral(
            actor=viewer.user, referral_id=referral.pk, version=input.version, reason=input.reason
        )
        return {"referral": returned}

    return await run_mutation(info, io.ReturnReferralPayload, work)


async def send_for_evaluation(info: Info, input: io.SendForEvaluationInput) -> io.SendForEvaluationPayload:
    def work(viewer: Viewer) -> dict:
        period = decode_id(input.period, "EvaluationPeriod", "period")
        assignments = workflow.send_for_evaluation(actor=viewer.user, role=viewer.active_role, period_id=period)
        return {"assignments": assignments}

    return await run_mutation(info, io.SendForEvaluationPayload, work)
