"""Non-applicability requests (درخواست عدم مصداق): an organization asks that an assigned indicator
not apply to it, with a reason and an evidence file; the senior leader decides.

* who asks: the main leader whose subtree holds the assignment (who refers it and sends it for
  evaluation: the organization's voice); one pending request per assignment;
* the evidence file passes the same checks as performance evidence (models/evidence_files.py:
  PDF, DOC, DOCX, XLS, XLSX, content matching the extension, no macros, size limits) and is kept
  the same way, under a generated name, served only by a permission-checked URL;
* who decides: the senior leader, once per request; a rejection needs a reason. Approval takes the
  assignment out of scoring and of the organization's totals (``Assignment.is_applicable``).
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from models import events
from models.errors import Conflict, DomainError
from models.evidence_files import (
    CONTENT_TYPES,
    check_content,
    check_file_name,
    read_limited,
    storage_path,
    write_private_file,
)
from models.evidence_names import clean_file_name
from models.indicators import Assignment
from models.requests import NonApplicabilityRequest, RequestStatus
from models.roles import Role
from models.users import User

PENDING_MESSAGE = "برای این ابلاغ درخواست عدم مصداقی در انتظار بررسی وجود دارد."


def _leads(actor: User, role, assignment: Assignment) -> bool:
    from permissions.scope import assignments_of_role
    from permissions.viewer import Viewer

    if role is None or role.role != Role.MAIN_LEADER:
        return False
    viewer = Viewer(user=actor, active_role=role)
    return assignments_of_role(Assignment.objects.filter(pk=assignment.pk), viewer).exists()


def _checked_evidence(file_name: str, uploaded) -> tuple[str, bytes]:
    """The file's extension and content, checked as performance evidence is; the field is ours."""
    try:
        extension = check_file_name(file_name)
        data = read_limited(uploaded)
        check_content(extension, data)
    except DomainError as error:
        error.field = "evidence"
        raise
    return extension, data


def request_non_applicability(
    *, actor: User, role, assignment_id: int, reason: str, file_name: str, uploaded
) -> NonApplicabilityRequest:
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().filter(pk=assignment_id).first()
        if assignment is None:
            raise DomainError("NOT_FOUND", "ابلاغ پیدا نشد.", "assignment")
        if not _leads(actor, role, assignment):
            raise DomainError(
                "NOT_ALLOWED", "تنها راهبر اصلی دستگاه می‌تواند برای شاخص‌های آن درخواست عدم مصداق ثبت کند.", "assignment"
            )
        if not assignment.is_applicable:
            raise DomainError("ALREADY_NOT_APPLICABLE", "این شاخص پیش‌تر عدم مصداق شناخته شده است.", "assignment")
        if NonApplicabilityRequest.objects.filter(assignment=assignment, status=RequestStatus.PENDING).exists():
            raise DomainError("REQUEST_PENDING", PENDING_MESSAGE, "assignment")
        reason = (reason or "").strip()
        if not reason:
            raise DomainError("REASON_REQUIRED", "دلیل عدم مصداق شاخص را بنویسید.", "reason")
        extension, data = _checked_evidence(file_name, uploaded)
        storage_name = write_private_file(data)
        try:
            with transaction.atomic():
                return NonApplicabilityRequest.objects.create(
                    assignment=assignment,
                    requester=actor,
                    reason=reason,
                    evidence_file_name=clean_file_name(file_name),
                    evidence_content_type=CONTENT_TYPES[extension],
                    evidence_size=len(data),
                    evidence_storage_name=storage_name,
                    evidence_sha256=hashlib.sha256(data).hexdigest(),
                )
        except IntegrityError:
            storage_path(storage_name).unlink(missing_ok=True)
            # The one-pending constraint: the same request made twice at once.
            raise DomainError("REQUEST_PENDING", PENDING_MESSAGE, "assignment")
        except Exception:
            storage_path(storage_name).unlink(missing_ok=True)
            raise


def check_reviewer(role) -> None:
    if role is None or role.role != Role.SENIOR_LEADER:
        raise DomainError("NOT_ALLOWED", "تنها راهبر ارشد درباره درخواست عدم مصداق تصمیم می‌گیرد.", "request")


def review_non_applicability(
    *, actor: User, role, request_id: int, approve: bool, reason: str | None
) -> NonApplicabilityRequest:
    """The senior leader approves (the assignment leaves scoring and the totals) or rejects with a reason."""
    check_reviewer(role)
    with transaction.atomic():
        request = (
            NonApplicabilityRequest.objects.select_for_update(of=("self",))
            .select_related("assignment")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            raise DomainError("NOT_FOUND", "درخواست پیدا نشد.", "request")
        if request.status != RequestStatus.PENDING:
            raise DomainError("ALREADY_REVIEWED", "درباره این درخواست پیش‌تر تصمیم گرفته شده است.", "request")
        reason = (reason or "").strip()
        if not approve and not reason:
            raise DomainError("REASON_REQUIRED", "دلیل رد درخواست را بنویسید.", "reason")
        status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        now = timezone.now()
        updated = NonApplicabilityRequest.objects.filter(pk=request.pk, status=RequestStatus.PENDING).update(
            status=status, reviewed_by=actor, reviewed_at=now, review_reason=reason
        )
        if updated != 1:
            raise Conflict()
        if approve:
            assignment = request.assignment
            Assignment.objects.filter(pk=assignment.pk).update(is_applicable=False)
            events.figures_changed(assignment.period_id, assignment.organization_id)
        request.status, request.reviewed_by, request.reviewed_at, request.review_reason = status, actor, now, reason
        return request
