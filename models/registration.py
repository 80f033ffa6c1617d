"""درخواست کاربری: group-2 people ask to join and wait for the superior they name to approve.

Submitting checks the form, then the person with the civil registry (identity and birth date; the
name comes from the registry, not from the form) and the mobile with Shahkar (it must be
registered to that national code). A request is addressed to the active user whose mobile the
applicant gave as approver's, who must hold a role at the requested organization or above it
(honorary and ARO evaluators: at ARO). Approving creates (or reactivates) the person with the
requested role in that organization, as the approver's subordinate, in one transaction; the
applicant hears by SMS either way.
"""

from __future__ import annotations

import datetime
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from models import events
from models.errors import DomainError
from models.identity import is_valid_mobile, is_valid_national_code, normalize_mobile, normalize_national_code
from models.organization import Organization, OrganizationKind
from models.passwords import temporary_password
from models.requests import RegistrationRequest, RequestStatus
from models.roles import Role
from models.text import to_latin_digits
from models.users import RoleAssignment, User

# A city code (2–3 digits after the 0, never 9: that is a mobile) and the number: 11 digits.
_LANDLINE = re.compile(r"^0[1-8]\d{9}$")
REQUESTABLE_ROLES = (Role.SELF_EVALUATOR, Role.PROVINCIAL_LEADER, Role.EVALUATOR, Role.HONORARY_EVALUATOR)
# Evaluators (ARO's own and honorary ones) belong to ARO and are approved by the senior leader's office.
ARO_ROLES = (Role.EVALUATOR, Role.HONORARY_EVALUATOR)
FIRST_LEVEL_KINDS = (
    OrganizationKind.MINISTRY,
    OrganizationKind.PRESIDENTIAL_ORGANIZATION,
    OrganizationKind.INDEPENDENT_ORGANIZATION,
)
POST_MAX_LENGTH = 200

SUBMITTED_SMS = "سکوی معنا\nدرخواست کاربری شما ثبت شد و در انتظار تأیید است.\nکد رهگیری: {tracking}"
APPROVER_SMS = "سکوی معنا\nدرخواست کاربری تازه‌ای ({name}) در «تأیید درخواست‌ها» در انتظار تصمیم شماست."
APPROVED_SMS = "سکوی معنا\nدرخواست کاربری شما (کد رهگیری {tracking}) تأیید شد."
CREDENTIALS_SMS = "\nنام کاربری: کد ملی شما\nرمز عبور موقت: {password}\nپس از ورود باید رمز عبور تازه‌ای برگزینید."
REJECTED_SMS = "سکوی معنا\nدرخواست کاربری شما (کد رهگیری {tracking}) رد شد.\nدلیل: {reason}"


class Refused(Exception):
    """Every reason a form was refused at once, so that a person fixes them in one go."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class RegistrationForm:
    national_code: str
    mobile: str
    birth_date: datetime.date
    landline: str
    post: str
    approver_mobile: str
    requested_role: str
    organization_id: int | None  # None: the id named no organization


def _digits(value: str) -> str:
    return re.sub(r"[\s\-()]", "", to_latin_digits(value or "").strip())


def _check_form(form: RegistrationForm) -> tuple[list[DomainError], dict]:
    """Format and reference checks, all at once; the normalized values for what passed."""
    errors: list[DomainError] = []
    clean: dict = {}
    national_code = normalize_national_code(form.national_code)
    if is_valid_national_code(national_code):
        clean["national_code"] = national_code
    else:
        errors.append(DomainError("INVALID_NATIONAL_CODE", "کد ملی معتبر نیست.", "nationalCode"))
    mobile = normalize_mobile(form.mobile)
    if is_valid_mobile(mobile):
        clean["mobile"] = mobile
    else:
        errors.append(DomainError("INVALID_MOBILE", "شماره همراه معتبر نیست؛ نمونه درست: 09121234567", "mobile"))
    today = timezone.localdate()
    if not (today.replace(year=today.year - 100) <= form.birth_date <= today.replace(year=today.year - 15)):
        errors.append(DomainError("INVALID_DATE", "تاریخ تولد پذیرفتنی نیست.", "birthDate"))
    landline = _digits(form.landline)
    if _LANDLINE.match(landline):
        clean["landline"] = landline
    else:
        errors.append(
            DomainError(
                "INVALID_LANDLINE", "تلفن ثابت را با کد شهر وارد کنید، یازده رقم؛ نمونه درست: 02181234567", "landline"
            )
        )
    post = " ".join((form.post or "").split())
    if not post or len(post) > POST_MAX_LENGTH:
        errors.append(DomainError("INVALID", f"پست سازمانی را بنویسید (تا {POST_MAX_LENGTH} نویسه).", "post"))
    clean["post"] = post
    role = form.requested_role
    if role not in REQUESTABLE_ROLES:
        errors.append(
            DomainError(
                "ROLE_NOT_REQUESTABLE",
                "این نقش با درخواست کاربری داده نمی‌شود (راهبران از پیش در سامانه ثبت شده‌اند).",
                "requestedRole",
            )
        )
    organization = (
        Organization.objects.filter(pk=form.organization_id).first() if form.organization_id is not None else None
    )
    if organization is None:
        errors.append(DomainError("NOT_FOUND", "دستگاه انتخاب‌شده یافت نشد.", "organization"))
    elif organization.kind in FIRST_LEVEL_KINDS:
        errors.append(
            DomainError(
                "ORGANIZATION_TOO_GENERAL",
                "تنها وزارتخانه یا سازمان کافی نیست؛ ستاد یا سازمان تابعهٔ آن را هم برگزینید.",
                "organization",
            )
        )
    elif role in REQUESTABLE_ROLES and (role in ARO_ROLES) != (organization.kind == OrganizationKind.ARO):
        errors.append(
            DomainError(
                "ROLE_NOT_REQUESTABLE",
                "ارزیابان در سازمان اداری و استخدامی کشور ثبت می‌شوند و دیگر نقش‌ها در دستگاه خود.",
                "requestedRole",
            )
        )
    elif role == Role.PROVINCIAL_LEADER and organization.kind != OrganizationKind.PROVINCIAL_PLANNING_ORGANIZATION:
        errors.append(
            DomainError(
                "ROLE_NOT_REQUESTABLE",
                "معاون توسعه مدیریت استان در سازمان مدیریت و برنامه‌ریزی استان ثبت می‌شود.",
                "requestedRole",
            )
        )
    else:
        clean["organization"] = organization
    approver_mobile = normalize_mobile(form.approver_mobile)
    if not is_valid_mobile(approver_mobile):
        errors.append(DomainError("INVALID_MOBILE", "شماره همراه تأییدکننده معتبر نیست.", "approverMobile"))
    elif "organization" in clean:
        approver = _approver(approver_mobile, clean["organization"], role)
        if approver is None or approver.national_code == clean.get("national_code"):
            errors.append(
                DomainError(
                    "UNKNOWN_APPROVER",
                    "شماره همراه تأییدکننده از آنِ کاربری فعال در این دستگاه یا دستگاه‌های بالادست آن نیست.",
                    "approverMobile",
                )
            )
        else:
            clean["approver"] = approver
    return errors, clean


def _approver(mobile: str, organization: Organization, role: str) -> User | None:
    """The active user with that mobile who holds a role at ``organization`` or above it."""
    above = organization.get_ancestors(include_self=True)
    holds = RoleAssignment.objects.filter(organization__in=above)
    if role in ARO_ROLES:
        holds = holds.filter(role=Role.SENIOR_LEADER)
    return User.objects.filter(mobile=mobile, is_active=True, role_assignments__in=holds).distinct().first()


def _check_identity(national_code: str, mobile: str, birth_date: datetime.date):
    """The registry's person (their name) and Shahkar's word on the mobile; refusals otherwise."""
    from integrations.identity import BirthDateMismatch, IdentityServiceError, civil_registry, shahkar

    try:
        person = civil_registry().lookup(national_code=national_code, birth_date=birth_date)
        if person is None:
            return None, [DomainError("UNKNOWN_PERSON", "این کد ملی در ثبت احوال یافت نشد.", "nationalCode")]
        if not shahkar().matches(national_code=national_code, mobile=mobile):
            return None, [
                DomainError(
                    "MOBILE_MISMATCH", "این شماره همراه به نام دارندهٔ این کد ملی ثبت نشده است (شاهکار).", "mobile"
                )
            ]
    except BirthDateMismatch:
        return None, [DomainError("BIRTH_DATE_MISMATCH", "تاریخ تولد با اطلاعات ثبت احوال هم‌خوان نیست.", "birthDate")]
    except IdentityServiceError:
        return None, [
            DomainError(
                "IDENTITY_SERVICE_UNAVAILABLE",
                "سامانهٔ استعلام هویت اکنون پاسخ نمی‌دهد؛ چند دقیقهٔ دیگر دوباره تلاش کنید.",
            )
        ]
    return person, []


def _new_tracking_code() -> str:
    while True:
        code = f"{secrets.randbelow(9 * 10**9) + 10**9}"
        if not RegistrationRequest.objects.filter(tracking_code=code).exists():
            return code


def _duplicate() -> DomainError:
    return DomainError(
        "DUPLICATE_REQUEST", "برای این کد ملی درخواستی در انتظار تأیید هست؛ کد رهگیری آن پیامک شده است.", "nationalCode"
    )


def submit(form: RegistrationForm) -> RegistrationRequest:
    """Check and record a registration request; raises Refused with every reason it was refused."""
    from integrations.sms import send_sms

    errors, clean = _check_form(form)
    if errors:
        raise Refused(errors)
    if RegistrationRequest.objects.filter(national_code=clean["national_code"], status=RequestStatus.PENDING).exists():
        raise Refused([_duplicate()])
    person, errors = _check_identity(clean["national_code"], clean["mobile"], form.birth_date)
    if errors:
        raise Refused(errors)
    approver: User = clean["approver"]
    try:
        with transaction.atomic():
            request = RegistrationRequest.objects.create(
                tracking_code=_new_tracking_code(),
                organization=clean["organization"],
                national_code=clean["national_code"],
                first_name=person.first_name,
                last_name=person.last_name,
                post=clean["post"],
                mobile=clean["mobile"],
                birth_date=form.birth_date,
                landline=clean["landline"],
                approver_mobile=approver.mobile,
                approver=approver,
                requested_role=form.requested_role,
            )
            submitted = SUBMITTED_SMS.format(tracking=request.tracking_code)
            send_sms(mobile=request.mobile, text=submitted, purpose="registration")
            send_sms(
                mobile=approver.mobile,
                text=APPROVER_SMS.format(name=f"{person.first_name} {person.last_name}"),
                purpose="registration",
            )
            # The approver's inboxUpdated: after the commit, like the SMS.
            events.registration_request_received(request)
    except IntegrityError:
        # Two submissions raced past the check above: the one-pending-per-person constraint decides.
        raise Refused([_duplicate()])
    return request


def _claim(request_id: int, approver: User, status: str, reason: str) -> RegistrationRequest:
    """Move a pending request addressed to ``approver`` to ``status``; exactly one of racing reviewers wins."""
    claimed = RegistrationRequest.objects.filter(
        pk=request_id, approver=approver, status=RequestStatus.PENDING
    ).update(status=status, reviewed_at=timezone.now(), review_reason=reason)
    request = RegistrationRequest.objects.select_related("organization").get(pk=request_id)
    if claimed != 1:
        raise DomainError("CONFLICT", f"این درخواست پیش‌تر بررسی شده است ({request.get_status_display()}).")
    return request


@transaction.atomic
def approve(request_id: int, approver: User, reason: str = "") -> RegistrationRequest:
    """Create or reactivate the applicant, with the requested role, as the approver's subordinate."""
    from integrations.sms import send_sms

    request = _claim(request_id, approver, RequestStatus.APPROVED, reason)
    if User.objects.filter(mobile=request.mobile).exclude(national_code=request.national_code).exists():
        raise DomainError(
            "MOBILE_TAKEN", "شماره همراه متقاضی برای کاربر دیگری ثبت شده است؛ درخواست را رد کنید.", "request"
        )
    user = User.objects.select_for_update().filter(national_code=request.national_code).first()
    password = None
    if user is None:
        password = temporary_password()
        user = User(national_code=request.national_code, must_change_password=True)
        user.set_password(password)
    user.first_name = request.first_name
    user.last_name = request.last_name
    user.mobile = request.mobile
    user.birth_date = request.birth_date
    user.landline = request.landline
    user.post = request.post
    user.organization = request.organization
    user.approver = approver
    user.is_active = True
    user.save()
    # Saving a role assignment grants its object permissions (permissions.grants).
    RoleAssignment.objects.get_or_create(user=user, role=request.requested_role, organization=request.organization)
    text = APPROVED_SMS.format(tracking=request.tracking_code)
    if password is not None:
        text += CREDENTIALS_SMS.format(password=password)
    send_sms(mobile=request.mobile, text=text, purpose="registration")
    return request


@transaction.atomic
def reject(request_id: int, approver: User, reason: str) -> RegistrationRequest:
    from integrations.sms import send_sms

    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("REASON_REQUIRED", "دلیل رد درخواست را بنویسید؛ برای متقاضی پیامک می‌شود.", "reason")
    request = _claim(request_id, approver, RequestStatus.REJECTED, reason)
    send_sms(
        mobile=request.mobile,
        text=REJECTED_SMS.format(tracking=request.tracking_code, reason=reason),
        purpose="registration",
    )
    return request

