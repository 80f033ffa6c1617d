"""The referral workflow (docs/workflow.md) as plain functions: refer, split, register, finish, return,
send for evaluation. They know nothing of GraphQL; each runs in one transaction, refuses with a
DomainError (changing nothing), and records every transition as an immutable ReferralEvent.

Concurrency: every write to a referral is a conditional UPDATE on its ``version`` (and, on
PostgreSQL, the row is locked first with SELECT … FOR UPDATE), so of two people acting on the
same referral at once exactly one wins and the other gets CONFLICT.

Chain rules, in short:

* the main leader refers an assignment of their subtree to a subordinate (the top referral);
  an assignee refers their referral onward to one of their subordinates (a child referral);
* a deadline is never later than the deadline above it, and inside the period;
* with a provincial breakdown, the referral gets one slice per province: entered by the referrer
  in the same call (BreakdownBy.REFERRER) or split later by the assignee (ASSIGNEE), who then
  refers each slice; slice targets must agree with the parent's under the indicator's roll-up
  rule (models.rollup);
* the assignee registers performance and finishes (SUBMITTED to the referrer); the referrer
  returns it (RETURNED, with a reason) or finishes it too: APPROVED, and its result goes one
  level up, to the parent referral's referrer; slices roll up into their parent once all of them
  are approved; the main leader's approval of the top referral is the final registration
  (FINALIZED), after which nothing below can change;
* the main leader sends finalized assignments to the senior leader (SENT_FOR_EVALUATION).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from models import decimals, events
from models.errors import Conflict, DomainError
from models.evidence_files import check_content, check_file_name, read_limited, store_evidence
from models.geography import Province
from models.indicators import Assignment, Indicator, ReferralStatus
from models.jalali import format_jalali
from models.referrals import BreakdownBy, Evidence, Performance, ProvincialSlice, Referral, ReferralEvent
from models.roles import Role
from models.rollup import RULE_MESSAGES, combine, targets_consistent
from models.units import refuse_negative_count
from models.users import User
from permissions.referral_grants import grant_on_create, sync_change_permission

S = ReferralStatus
WITH_ASSIGNEE = (S.IN_PROGRESS, S.RETURNED)
LOCKED_ASSIGNMENT = (S.FINALIZED, S.SENT_FOR_EVALUATION, S.EVALUATED)

PERFORMANCE_FIELDS = (
    "value",
    "has_strategic_plan",
    "has_information_system",
    "comments",
    "obstacles",
    "improvement_solutions",
    "partner_performance",
    "is_registry_based",
    "registry_comments",
)


@dataclass(frozen=True)
class SliceSpec:
    province: Province
    target: Decimal
    weight: Decimal = Decimal(1)
    assignee: User | None = None
    deadline: datetime.date | None = None


# --- small checks -------------------------------------------------------------------------


def _lock(referral_id: int) -> Referral:
    try:
        return (
            # Only the referral row: PostgreSQL refuses FOR UPDATE on the outer-joined (nullable) parent.
            Referral.objects.select_for_update(of=("self",))
            .select_related("assignment__period", "assignment__indicator", "parent")
            .get(pk=referral_id)
        )
    except Referral.DoesNotExist:
        raise DomainError("NOT_FOUND", "ارجاع پیدا نشد.", "referral")


def _lock_open(referral_id: int) -> Referral:
    """Lock a referral whose assignment can still change: how every action on one starts."""
    referral = _lock(referral_id)
    _check_assignment_open(referral.assignment)
    return referral


def _check_assignment_open(assignment: Assignment) -> None:
    if assignment.status in LOCKED_ASSIGNMENT:
        raise DomainError("ASSIGNMENT_FINALIZED", "عملکرد این شاخص ثبت نهایی شده است و دیگر تغییر نمی‌کند.")


def _check_subordinate(actor: User, assignee: User | None, field: str = "assignee") -> None:
    if assignee is None:
        raise DomainError("ASSIGNEE_REQUIRED", "ارجاع‌گیرنده را انتخاب کنید.", field)
    if assignee.approver_id != actor.pk or not assignee.is_active:
        raise DomainError("NOT_SUBORDINATE", "تنها به کاربرانی که خودتان تأیید کرده‌اید می‌توانید ارجاع دهید.", field)


def _check_deadline(deadline: datetime.date, limit: datetime.date, period, field: str = "deadline") -> None:
    if not period.contains(deadline):
        raise DomainError(
            "DEADLINE_OUTSIDE_PERIOD",
            f"مهلت باید درون دوره ({format_jalali(period.start_date)} تا {format_jalali(period.end_date)}) باشد.",
            field,
        )
    if deadline > limit:
        raise DomainError(
            "DEADLINE_AFTER_PARENT", f"مهلت نمی‌تواند دیرتر از مهلت بالادست ({format_jalali(limit)}) باشد.", field
        )


def _check_slices_consistent(rule: str, parent_target: Decimal, slices: Sequence[SliceSpec]) -> None:
    if not slices:
        raise DomainError("SLICES_REQUIRED", "برش‌های استانی را وارد کنید.", "slices")
    provinces = [s.province.pk for s in slices]
    if len(set(provinces)) != len(provinces):
        raise DomainError("SLICE_PROVINCE_DUPLICATE", "برای هر استان تنها یک برش می‌توان تعریف کرد.", "slices")
    targets = [s.target for s in slices]
    weights = [s.weight for s in slices]
    if any(t < 0 for t in targets) or any(w <= 0 for w in weights):
        raise DomainError("SLICE_TARGET_INVALID", "هدف برش منفی و وزن برش صفر یا منفی نمی‌تواند باشد.", "slices")
    if not targets_consistent(rule, parent_target, targets, weights):
        combined = combine(rule, targets, weights)
        raise DomainError(
            "SLICE_TARGETS_INCONSISTENT",
            RULE_MESSAGES[rule].format(target=plain(parent_target), combined=plain(combined)),
            "slices",
        )


def _checked_slices(indicator: Indicator, slices: Sequence[SliceSpec]) -> list[SliceSpec]:
    """Slice targets and weights as their columns store them (models.decimals); a count's target
    cannot be negative (models.units)."""
    checked = []
    for index, spec in enumerate(slices):
        target = decimals.checked(ProvincialSlice, "target", spec.target, f"slices.{index}.target")
        refuse_negative_count(indicator.unit, target, f"slices.{index}.target")
        weight = decimals.checked(ProvincialSlice, "weight", spec.weight, f"slices.{index}.weight")
        checked.append(replace(spec, target=target, weight=weight))
    return checked


def _checked_value(referral: Referral, value: Decimal) -> Decimal:
    """A performance value as its column stores it, so the payload shows what a later read gives."""
    value = decimals.checked(Performance, "value", value, "value")
    refuse_negative_count(referral.assignment.indicator.unit, value, "value")
    return value


def plain(value: Decimal) -> str:
    """1300.0000 → «1300», 36.5000 → «36.5» (never scientific notation)."""
    return format(value.normalize(), "f")


def _record(referral: Referral, actor: User, from_status, to_status, reason: str = "") -> None:
    ReferralEvent.objects.create(
        referral=referral, actor=actor, from_status=from_status, to_status=to_status, reason=reason
    )
    # Live updates (models/events.py): published only once the transaction commits.
    events.referral_transition(referral, actor, to_status)


def _transition(referral: Referral, actor: User, expected_version: int, to_status: str, reason: str = "") -> None:
    """The one way a referral changes status: conditional on the version the actor saw."""
    updated = Referral.objects.filter(pk=referral.pk, version=expected_version).update(
        status=to_status, version=F("version") + 1, updated_at=timezone.now()
    )
    if updated != 1:
        raise Conflict()
    _record(referral, actor, referral.status, to_status, reason)
    referral.status = to_status
    referral.version = expected_version + 1
    sync_change_permission(referral)


def _leads(role, assignment: Assignment) -> bool:
    from permissions.scope import assignments_of_role
    from permissions.viewer import Viewer

    if role is None or role.role != Role.MAIN_LEADER:
        return False
    viewer = Viewer(user=role.user, active_role=role)
    return assignments_of_role(Assignment.objects.filter(pk=assignment.pk), viewer).exists()


# --- refer --------------------------------------------------------------------------------


def refer(
    *,
    actor: User,
    role,
    source: Assignment | Referral,
    assignee: User | None,
    deadline: datetime.date,
    has_provincial_breakdown: bool = False,
    breakdown_by: str | None = None,
    slices: Sequence[SliceSpec] = (),
    province: Province | None = None,
) -> Referral:
    """Refer an assignment (main leader) or one's own referral (assignee) to a subordinate.

    Returns the new referral; with a breakdown by the referrer, its slices are created and
    referred in the same transaction.
    """
    with transaction.atomic():
        if isinstance(source, Assignment):
            assignment = Assignment.objects.select_for_update().select_related("period", "indicator").get(pk=source.pk)
            if not _leads(role, assignment):
                raise DomainError("NOT_ALLOWED", "تنها راهبر اصلی دستگاه می‌تواند این ابلاغ را ارجاع دهد.", "source")
            _check_assignment_open(assignment)
            if assignment.referrals.filter(parent__isnull=True).exists():
                raise DomainError("ALREADY_REFERRED", "این شاخص پیش‌تر ارجاع شده است.", "source")
            parent, target = None, assignment.target
            limit = assignment.deadline or assignment.period.end_date
        else:
            parent = _lock_open(source.pk)
            assignment = parent.assignment
            if parent.assignee_id != actor.pk:
                raise DomainError("NOT_ASSIGNEE", "تنها ارجاع‌گیرنده این شاخص می‌تواند آن را ارجاع دهد.", "source")
            limit = parent.deadline
            target = _referable_target(parent, province)

        if province is not None and (parent is None or not parent.has_provincial_breakdown):
            raise DomainError("NO_BREAKDOWN", "این شاخص برش استانی ندارد.", "province")
        _check_subordinate(actor, assignee)
        _check_deadline(deadline, limit, assignment.period)
        if has_provincial_breakdown:
            if province is not None:
                raise DomainError(
                    "BREAKDOWN_INVALID", "یک برش استانی را نمی‌توان دوباره برش داد.", "hasProvincialBreakdown"
                )
            if breakdown_by not in BreakdownBy.values:
                raise DomainError(
                    "BREAKDOWN_BY_REQUIRED", "مشخص کنید برش استانی توسط چه کسی انجام می‌شود.", "breakdownBy"
                )
            if breakdown_by == BreakdownBy.REFERRER:
                slices = _checked_slices(assignment.indicator, slices)
                _check_slices_consistent(assignment.indicator.rollup, target, slices)
                for index, spec in enumerate(slices):
                    _check_subordinate(actor, spec.assignee, f"slices.{index}.assignee")
                    _check_deadline(spec.deadline or deadline, deadline, assignment.period, f"slices.{index}.deadline")
            elif slices:
                raise DomainError("BREAKDOWN_INVALID", "برش توسط واحد تخصصی، پس از ارجاع انجام می‌شود.", "slices")
        elif breakdown_by or slices:
            raise DomainError("BREAKDOWN_INVALID", "برای شاخص بدون برش استانی، برش تعیین نکنید.", "breakdownBy")

        referral = _create_referral(
            actor=actor,
            assignment=assignment,
            parent=parent,
            assignee=assignee,
            target=target,
            deadline=deadline,
            province=province,
            has_provincial_breakdown=has_provincial_breakdown,
            breakdown_by=breakdown_by if has_provincial_breakdown else None,
        )
        if parent is None:
            Assignment.objects.filter(pk=assignment.pk).update(status=S.DELEGATED)
        elif parent.status != S.DELEGATED:
            _transition(parent, actor, parent.version, S.DELEGATED)

        if has_provincial_breakdown and breakdown_by == BreakdownBy.REFERRER:
            _create_slices(referral, slices)
            for spec in slices:
                _create_referral(
                    actor=actor,
                    assignment=assignment,
                    parent=referral,
                    assignee=spec.assignee,
                    target=spec.target,
                    deadline=spec.deadline or deadline,
                    province=spec.province,
                )
            _transition(referral, actor, referral.version, S.DELEGATED)
        return referral


def _referable_target(parent: Referral, province: Province | None) -> Decimal:
    """The target a child of ``parent`` inherits, checking that referring is possible now."""
    split = parent.has_provincial_breakdown and parent.breakdown_by == BreakdownBy.ASSIGNEE
    if split:
        if not parent.slices.exists():
            raise DomainError("NOT_SPLIT", "ابتدا شاخص را برش استانی کنید، سپس هر برش را ارجاع دهید.", "source")
        if province is None:
            raise DomainError("PROVINCE_REQUIRED", "استان برشی را که ارجاع می‌دهید مشخص کنید.", "province")
        slice_ = parent.slices.filter(province=province).first()
        if slice_ is None:
            raise DomainError("UNKNOWN_PROVINCE", "برای این استان برشی تعریف نشده است.", "province")
        if parent.children.filter(province=province).exists():
            raise DomainError("ALREADY_REFERRED", "برش این استان پیش‌تر ارجاع شده است.", "province")
        if parent.status not in (*WITH_ASSIGNEE, S.DELEGATED):
            raise DomainError("INVALID_STATE", "این ارجاع در وضعیتی نیست که بتوان آن را ارجاع داد.", "source")
        return slice_.target
    if parent.status not in WITH_ASSIGNEE:
        raise DomainError("INVALID_STATE", "این ارجاع در وضعیتی نیست که بتوان آن را ارجاع داد.", "source")
    if parent.children.exists():
        raise DomainError("ALREADY_REFERRED", "این شاخص پیش‌تر ارجاع شده است.", "source")
    if parent.has_provincial_breakdown:
        raise DomainError("INVALID_STATE", "برش‌های این شاخص توسط ارجاع‌دهنده تعیین شده است.", "source")
    return parent.target


def _create_referral(*, actor, assignment, parent, assignee, target, deadline, province=None, **flags) -> Referral:
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                assignment=assignment,
                parent=parent,
                referrer=actor,
                assignee=assignee,
                organization=assignee.organization or assignment.organization,
                province=province,
                target=target,
                deadline=deadline,
                status=S.IN_PROGRESS,
                **flags,
            )
    except IntegrityError:
        # The unique slice-per-province constraint: someone referred the same slice just now.
        raise Conflict("برش این استان هم‌زمان توسط کاربر دیگری ارجاع شد.")
    _record(referral, actor, None, S.IN_PROGRESS)
    grant_on_create(referral)
    return referral


def _create_slices(referral: Referral, slices: Sequence[SliceSpec]) -> None:
    ProvincialSlice.objects.bulk_create(
        ProvincialSlice(referral=referral, province=s.province, target=s.target, weight=s.weight) for s in slices
    )


# --- split by province (breakdown by the assignee) ----------------------------------------


def split_by_province(*, actor: User, referral_id: int, version: int, slices: Sequence[SliceSpec]) -> Referral:
    with transaction.atomic():
        referral = _lock_open(referral_id)
        if referral.assignee_id != actor.pk:
            raise DomainError("NOT_ASSIGNEE", "تنها ارجاع‌گیرنده می‌تواند این شاخص را برش دهد.", "referral")
        if not (referral.has_provincial_breakdown and referral.breakdown_by == BreakdownBy.ASSIGNEE):
            raise DomainError("NO_BREAKDOWN", "برش این شاخص بر عهده شما نیست.", "referral")
        if referral.status not in WITH_ASSIGNEE:
            raise DomainError("INVALID_STATE", "این ارجاع در وضعیتی نیست که بتوان آن را برش داد.", "referral")
        if referral.slices.exists():
            raise DomainError("ALREADY_SPLIT", "این شاخص پیش‌تر برش داده شده است.", "referral")
        if referral.version != version:
            raise Conflict()
        slices = _checked_slices(referral.assignment.indicator, slices)
        _check_slices_consistent(referral.assignment.indicator.rollup, referral.target, slices)
        _create_slices(referral, slices)
        updated = Referral.objects.filter(pk=referral.pk, version=version).update(version=F("version") + 1)
        if updated != 1:
            raise Conflict()
        referral.version += 1
        return referral


# --- register performance ---


def _check_editable_by(referral: Referral, actor: User, not_assignee_message: str) -> None:
    """The performance form is the assignee's while the referral is in their hands."""
    if referral.assignee_id != actor.pk:
        raise DomainError("NOT_ASSIGNEE", not_assignee_message, "referral")
    if referral.status not in WITH_ASSIGNEE:
        raise DomainError(
            "INVALID_STATE", "این شاخص برای بررسی ارسال شده است و تا بازگشت قابل ویرایش نیست.", "referral"
        )
    # The guardian permission is the final word: an administrator may have withdrawn it.
    if not actor.has_perm("mana.change_referral", referral):
        raise DomainError("NOT_ASSIGNEE", not_assignee_message, "referral")


def save_performance(*, actor: User, referral_id: int, version: int, changes: dict) -> Performance:
    """Save the «جزئیات عملکرد» form as a draft; ``version`` is the performance version seen (0: none)."""
    unknown = set(changes) - set(PERFORMANCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown performance fields: {sorted(unknown)}")
    with transaction.atomic():
        referral = _lock_open(referral_id)
        _check_editable_by(referral, actor, "تنها ارجاع‌گیرنده می‌تواند عملکرد این شاخص را ثبت کند.")
        if changes.get("value") is not None:
            changes = {**changes, "value": _checked_value(referral, changes["value"])}
        performance = Performance.objects.filter(referral=referral).first()
        current = performance.version if performance else 0
        if version != current:
            raise Conflict()
        if performance is None:
            performance = Performance(referral=referral, version=0)
        else:
            # The version check and bump are one conditional UPDATE, atomic on every backend.
            if Performance.objects.filter(pk=performance.pk, version=version).update(version=version + 1) != 1:
                raise Conflict()
        for field, value in changes.items():
            setattr(performance, field, value)
        performance.version = version + 1
        try:
            with transaction.atomic():
                _save_as(performance, actor)
        except IntegrityError:
            raise Conflict()
        events.referral_changed(referral, actor, events.EventKind.PERFORMANCE_SAVED)
        return performance


def upload_evidence(*, actor: User, referral_id: int, file_name: str, uploaded) -> Evidence:
    """Attach an evidence file to the performance of one's referral (checked before anything is kept)."""
    extension = check_file_name(file_name)
    data = read_limited(uploaded)
    check_content(extension, data)
    with transaction.atomic():
        referral = _lock_open(referral_id)
        _check_editable_by(referral, actor, "تنها ارجاع‌گیرنده می‌تواند مستند این شاخص را بارگذاری کند.")
        # A new performance starts at version 0: uploading does not invalidate the form a client holds.
        performance, _ = Performance.objects.get_or_create(referral=referral, defaults={"version": 0})
        evidence = store_evidence(
            actor=actor, performance=performance, file_name=file_name, extension=extension, data=data
        )
        events.referral_changed(referral, actor, events.EventKind.EVIDENCE_ADDED)
        return evidence


# --- finish / return ----------------------------------------------------------------------


def finish_referral(*, actor: User, referral_id: int, version: int) -> Referral:
    """«اتمام عملیات»: the assignee submits; the referrer approves and sends it one level up."""
    with transaction.atomic():
        referral = _lock_open(referral_id)
        if referral.version != version:
            raise Conflict()
        if referral.assignee_id == actor.pk and referral.status in WITH_ASSIGNEE:
            _submit(referral, actor, version)
        elif referral.referrer_id == actor.pk and referral.status == S.SUBMITTED:
            _approve(referral, actor, version)
        elif actor.pk in (referral.assignee_id, referral.referrer_id):
            raise DomainError("INVALID_STATE", "این ارجاع در وضعیتی نیست که اتمام عملیات آن ممکن باشد.", "referral")
        else:
            raise DomainError("NOT_ALLOWED", "اتمام عملیات این ارجاع بر عهده شما نیست.", "referral")
        return referral


def _submit(referral: Referral, actor: User, version: int) -> None:
    performance = Performance.objects.filter(referral=referral).first()
    if performance is None or performance.value is None:
        raise DomainError("VALUE_REQUIRED", "پیش از اتمام عملیات، مقدار عملکرد را ثبت کنید.", "value")
    _transition(referral, actor, version, S.SUBMITTED)


def _approve(referral: Referral, actor: User, version: int) -> None:
    if referral.parent_id is None:
        # The main leader's approval of the top referral: the final registration.
        _transition(referral, actor, version, S.FINALIZED, "ثبت نهایی")
        Assignment.objects.filter(pk=referral.assignment_id).update(status=S.FINALIZED)
        referral.assignment.status = S.FINALIZED
        return
    _transition(referral, actor, version, S.APPROVED)
    parent = _lock(referral.parent_id)
    if referral.province_id is not None:
        _roll_up_if_complete(parent, actor)
    else:
        _carry_up(referral, parent, actor)
        _transition(parent, actor, parent.version, S.SUBMITTED, "تأیید و ارسال به سطح بالاتر")


def _save_as(performance: Performance, actor: User) -> None:
    """Save a performance version, attributed to ``actor`` in its history."""
    performance.updated_by = actor
    performance._history_user = actor
    performance.save()


def _write_parent_performance(parent: Referral, actor: User, fields: dict) -> Performance:
    """The result that goes up as ``parent``'s submission: a new version of its performance."""
    performance, _ = Performance.objects.get_or_create(referral=parent, defaults={"version": 0})
    for field, value in fields.items():
        setattr(performance, field, value)
    performance.version += 1
    _save_as(performance, actor)
    return performance


def _carry_up(child: Referral, parent: Referral, actor: User) -> None:
    """The approved child's value, narrative and evidence become the parent's submission."""
    source = Performance.objects.get(referral=child)
    target = _write_parent_performance(parent, actor, {field: getattr(source, field) for field in PERFORMANCE_FIELDS})
    for evidence in source.evidence.all():
        evidence.pk = None
        evidence.performance = target
        evidence.save()


def _roll_up_if_complete(parent: Referral, actor: User) -> None:
    slices = list(parent.slices.all())
    children = {c.province_id: c for c in parent.children.filter(province__isnull=False)}
    if len(children) < len(slices) or any(c.status != S.APPROVED for c in children.values()):
        return
    values = {
        p.referral.province_id: p.value
        for p in Performance.objects.filter(referral__in=children.values()).select_related("referral")
    }
    rule = parent.assignment.indicator.rollup
    combined = combine(rule, [values[s.province_id] for s in slices], [s.weight for s in slices])
    # A sum of slices can outgrow the column, and SQLite keeps fewer digits than an average may have.
    value = decimals.rounded(Performance, "value", combined, "value")
    comments = "تجمیع برش‌های استانی: " + "، ".join(f"{s.province.name}: {plain(values[s.province_id])}" for s in slices)
    _write_parent_performance(parent, actor, {"value": value, "comments": comments})
    _transition(parent, actor, parent.version, S.SUBMITTED, "تجمیع برش‌های استانی")


def return_referral(*, actor: User, referral_id: int, version: int, reason: str) -> Referral:
    """Return a received submission for correction, one level down, with a reason."""
    with transaction.atomic():
        referral = _lock_open(referral_id)
        if referral.referrer_id != actor.pk:
            raise DomainError("NOT_REFERRER", "تنها ارجاع‌دهنده می‌تواند این شاخص را برگشت دهد.", "referral")
        if not (reason or "").strip():
            raise DomainError("REASON_REQUIRED", "دلیل برگشت برای اصلاح را بنویسید.", "reason")
        # The version first: of two concurrent decisions on the same submission, the later one is a
        # CONFLICT, whichever of approve/return won (as in finish_referral).
        if referral.version != version:
            raise Conflict()
        if referral.status != S.SUBMITTED:
            raise DomainError("INVALID_STATE", "تنها موردی که برای بررسی ارسال شده است برگشت‌پذیر است.", "referral")
        _transition(referral, actor, version, S.RETURNED, reason.strip())
        return referral


# --- send for evaluation ------------------------------------------------------------------


def send_for_evaluation(*, actor: User, role, period_id: int) -> list[Assignment]:
    """The main leader sends their organization's finalized assignments to the senior leader."""
    from permissions.scope import assignments_of_role
    from permissions.viewer import Viewer

    if role is None or role.role != Role.MAIN_LEADER:
        raise DomainError("NOT_ALLOWED", "تنها راهبر اصلی دستگاه می‌تواند شاخص‌ها را برای ارزیابی ارسال کند.")
    with transaction.atomic():
        viewer = Viewer(user=actor, active_role=role)
        finalized = assignments_of_role(
            Assignment.objects.select_for_update().filter(period_id=period_id, status=S.FINALIZED), viewer
        )
        assignments = list(finalized)
        if not assignments:
            raise DomainError("NOTHING_TO_SEND", "شاخص ثبت نهایی‌شده‌ای برای ارسال وجود ندارد.", "period")
        Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(status=S.SENT_FOR_EVALUATION)
        for top in Referral.objects.filter(assignment__in=assignments, parent__isnull=True, status=S.FINALIZED):
            _transition(top, actor, top.version, S.SENT_FOR_EVALUATION)
        for assignment in assignments:
            assignment.status = S.SENT_FOR_EVALUATION
        return assignments
