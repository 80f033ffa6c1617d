"""Indicator proposals (پیشنهاد شاخص): proposed for a unit, reviewed by the senior leader, and, once
approved, an assignment in that unit's inbox.

Who proposes:

* a provincial leader (the province's planning organization) for the provincial and regional
  units of their province, at any time while the period is open;
* a main leader for any unit of their subtree, only while the period's «پیشنهاد شاخص دستگاه‌های
  اجرایی» switch (``proposals_open``) is on — it was off in 1402.

The cap: a provincial or regional unit may receive at most ``period.provincial_proposal_cap``
points (150) of proposals in a period, counting its pending and approved proposals, whoever made
them; the provincial slices of assignments it already has are beside the cap, not in it. Two
proposals racing for the last points are serialized on the unit's row (SELECT … FOR UPDATE), so
they never both pass.

Only the senior leader reviews. Approving creates a specific indicator (code ``P-<proposal id>``)
and its assignment to the unit: target and bounds as proposed, score cap = the proposed score,
weight = half of it (as in the seed: 170 / 85), deadline = the period's end. Every refusal is a
DomainError and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from models import decimals, events
from models.errors import DomainError
from models.indicators import Assignment, Indicator, IndicatorKind, ReferralStatus
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.requests import Proposal, RequestStatus
from models.roles import Role
from models.units import refuse_negative_count
from models.workflow import plain
from permissions.scope import PROVINCE_UNIT_KINDS, organization_scope, restrict_proposals
from permissions.viewer import Viewer

# What counts against the cap: what is waiting and what was accepted (a rejection frees its points).
COUNTED_STATUSES = (RequestStatus.PENDING, RequestStatus.APPROVED)
PROPOSING_ROLES = (Role.PROVINCIAL_LEADER, Role.MAIN_LEADER)


@dataclass(frozen=True, kw_only=True)
class ProposalForm:
    """What the «پیشنهاد شاخص» form sends, ids already decoded."""

    period_id: int
    organization_id: int
    title: str
    unit: str
    nature: str
    calculation_method: str
    target: Decimal
    lower_bound: Decimal | None
    upper_bound: Decimal | None
    score: Decimal


# --- checks ---------------------------------------------------------------------------------


def _period(period_id: int) -> EvaluationPeriod:
    period = EvaluationPeriod.objects.filter(pk=period_id).first()
    if period is None:
        raise DomainError("NOT_FOUND", "دوره ارزیابی پیدا نشد.", "period")
    return period


def _check_period_open(period: EvaluationPeriod) -> None:
    if not period.is_open:
        raise DomainError(
            "PERIOD_CLOSED", f"«{period.title}» باز نیست؛ پیشنهاد و تأیید شاخص تنها در دوره باز ممکن است.", "period"
        )


def _proposable_unit(viewer: Viewer, period: EvaluationPeriod, organization_id: int) -> Organization:
    """The unit, if the viewer's role may propose for it now; else the refusal that says why."""
    role = viewer.active_role
    if role is None or role.role not in PROPOSING_ROLES:
        raise DomainError(
            "NOT_ALLOWED",
            "پیشنهاد شاخص تنها با نقش معاون توسعه مدیریت استان یا راهبر اصلی دستگاه ممکن است.",
            "organization",
        )
    if role.role == Role.MAIN_LEADER and not period.proposals_open:
        raise DomainError(
            "PROPOSALS_CLOSED",
            f"پیشنهاد شاخص برای دستگاه‌های اجرایی در «{period.title}» فعال نیست؛ "
            "تنها سازمان مدیریت و برنامه‌ریزی استان‌ها می‌توانند شاخص پیشنهاد کنند.",
            "period",
        )
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise DomainError("NOT_FOUND", "دستگاه پیدا نشد.", "organization")
    in_scope = Organization.objects.filter(pk=organization.pk).filter(organization_scope(viewer)).exists()
    if role.role == Role.PROVINCIAL_LEADER:
        # The provincial leader's scope also holds their own planning organization: not a unit to propose for.
        if not (in_scope and organization.kind in PROVINCE_UNIT_KINDS):
            raise DomainError(
                "OUT_OF_PROVINCE",
                "پیشنهاد شاخص تنها برای دستگاه‌های استانی و منطقه‌ای استان خودتان ممکن است.",
                "organization",
            )
    elif not in_scope:
        raise DomainError(
            "OUT_OF_SUBTREE", "پیشنهاد شاخص تنها برای واحدهای زیرمجموعه دستگاه خودتان ممکن است.", "organization"
        )
    return organization


def _text(value: str, field: str, code: str, label: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise DomainError(code, f"{label} را وارد کنید.", field)
    return value


def _check_length(value: str, model_field: str, field: str) -> None:
    column = Proposal._meta.get_field(model_field)
    if column.max_length is not None and len(value) > column.max_length:
        raise DomainError(
            "TEXT_TOO_LONG",
            f"{column.verbose_name} حداکثر {decimals.persian_digits(column.max_length)} نویسه می‌پذیرد.",
            field,
        )


def _checked_form(form: ProposalForm) -> dict:
    """The proposal's columns as they will be stored, or the first refusal."""
    title = _text(form.title, "title", "TITLE_REQUIRED", "عنوان شاخص")
    _check_length(title, "title", "title")
    unit = _text(form.unit, "unit", "UNIT_REQUIRED", "واحد سنجش")
    _check_length(unit, "unit", "unit")
    target = decimals.checked(Proposal, "target", form.target, "target")
    refuse_negative_count(unit, target, "target")
    bounds = {}
    for name, field, value in (
        ("lower_bound", "lowerBound", form.lower_bound),
        ("upper_bound", "upperBound", form.upper_bound),
    ):
        bounds[name] = None if value is None else decimals.checked(Proposal, name, value, field)
        refuse_negative_count(unit, bounds[name], field)
    lower, upper = bounds["lower_bound"], bounds["upper_bound"]
    if lower is not None and upper is not None and lower > upper:
        raise DomainError(
            "BOUNDS_OUT_OF_ORDER",
            f"حد پایین هدف ({plain(lower)}) نباید از حد بالای آن ({plain(upper)}) بیشتر باشد.",
            "lowerBound",
        )
    score = decimals.checked(Proposal, "score", form.score, "score")
    if score <= 0:
        raise DomainError("SCORE_NOT_POSITIVE", "امتیاز پیشنهادی باید بیشتر از صفر باشد.", "score")
    return {
        "title": title,
        "unit": unit,
        "nature": form.nature,
        "calculation_method": (form.calculation_method or "").strip(),
        "target": target,
        "lower_bound": lower,
        "upper_bound": upper,
        "score": score,
    }


def proposed_points(period_id: int, organization_id: int) -> Decimal:
    """Points of a unit's pending and approved proposals in a period."""
    total = Proposal.objects.filter(
        period_id=period_id, organization_id=organization_id, status__in=COUNTED_STATUSES
    ).aggregate(total=Sum("score"))["total"]
    return total or Decimal(0)


def _check_cap(period: EvaluationPeriod, organization: Organization, score: Decimal) -> None:
    cap = Decimal(period.provincial_proposal_cap)
    used = proposed_points(period.pk, organization.pk)
    if used + score > cap:
        left = max(cap - used, Decimal(0))
        raise DomainError(
            "PROPOSAL_OVER_CAP",
            f"سقف امتیاز شاخص‌های پیشنهادی «{organization.name}» در این دوره {_number(cap)} است؛ "
            f"{_number(used)} امتیاز پیش‌تر پیشنهاد شده و تنها {_number(left)} امتیاز باقی مانده است.",
            "score",
        )


def _number(value: Decimal) -> str:
    return plain(value).translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫"))


# --- propose --------------------------------------------------------------------------------


def propose(*, viewer: Viewer, form: ProposalForm) -> Proposal:
    """Record a proposal (PENDING) for the senior leader's review."""
    period = _period(form.period_id)
    _check_period_open(period)
    organization = _proposable_unit(viewer, period, form.organization_id)
    columns = _checked_form(form)
    with transaction.atomic():
        if organization.kind in PROVINCE_UNIT_KINDS:
            # Serialize proposals for this unit: the sum below and the insert are one decision.
            Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk").get()
            _check_cap(period, organization, columns["score"])
        proposal = Proposal.objects.create(period=period, organization=organization, proposer=viewer.user, **columns)
    return proposal


# --- review ---------------------------------------------------------------------------------


def review(*, viewer: Viewer, proposal_id: int, approve: bool, reason: str = "") -> Proposal:
    """The senior leader approves (the proposal becomes an assignment) or rejects (with a reason)."""
    role = viewer.active_role
    if role is None or role.role != Role.SENIOR_LEADER:
        raise DomainError("NOT_ALLOWED", "تنها راهبر ارشد پیشنهادهای شاخص را بررسی می‌کند.", "proposal")
    if not restrict_proposals(Proposal.objects.filter(pk=proposal_id), viewer).exists():
        raise DomainError("NOT_FOUND", "پیشنهاد شاخص پیدا نشد.", "proposal")
    reason = " ".join((reason or "").split())
    if not approve and not reason:
        raise DomainError("REASON_REQUIRED", "دلیل رد پیشنهاد را بنویسید؛ به پیشنهاددهنده نشان داده می‌شود.", "reason")
    with transaction.atomic():
        locked = Proposal.objects.select_for_update(of=("self",)).select_related("period", "organization")
        proposal = locked.get(pk=proposal_id)
        if proposal.status != RequestStatus.PENDING:
            raise DomainError(
                "ALREADY_REVIEWED",
                f"این پیشنهاد پیش‌تر بررسی شده است ({proposal.get_status_display()}).",
                "proposal",
            )
        if approve:
            _check_period_open(proposal.period)
            proposal.assignment = _assign(proposal)
            events.figures_changed(proposal.period_id, proposal.organization_id)
        proposal.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        proposal.reviewed_by = viewer.user
        proposal.reviewed_at = timezone.now()
        proposal.review_reason = reason
        proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "assignment"])
    return proposal


def _assign(proposal: Proposal) -> Assignment:
    """The approved proposal as an indicator and its assignment to the unit (PENDING: to be referred)."""
    try:
        with transaction.atomic():
            indicator = Indicator.objects.create(
                code=f"P-{proposal.pk}",
                title=proposal.title,
                kind=IndicatorKind.SPECIFIC,
                unit=proposal.unit,
                nature=proposal.nature,
                calculation_method=proposal.calculation_method,
            )
    except IntegrityError:
        raise DomainError("CONFLICT", f"شاخصی با کد P-{proposal.pk} پیش‌تر ثبت شده است.", "proposal")
    return Assignment.objects.create(
        indicator=indicator,
        organization=proposal.organization,
        period=proposal.period,
        target=proposal.target,
        lower_bound=proposal.lower_bound,
        upper_bound=proposal.upper_bound,
        score_cap=proposal.score,
        weight=decimals.rounded(Assignment, "weight", proposal.score / 2, "score"),
        deadline=proposal.period.end_date,
        status=ReferralStatus.PENDING,
    )
