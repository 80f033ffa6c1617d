"""Deadline reminders: an assignee hears, in the inbox and by SMS, that a referral's deadline is near
(``SiteSettings.reminder_days_before`` days before it, 3 by default) and that it has passed.

Only referrals whose work is still with their assignee are reminded of: IN_PROGRESS and RETURNED,
and DELEGATED when the assignee split it by province (breakdown by the assignee) and a slice is
still to be referred — the one DELEGATED state that waits on the assignee rather than on people
below. A referral of an assignment taken out of scoring (non-applicability approved), or of a person
no longer active, is left alone.

* **Near**: the deadline is today or within the next ``reminder_days_before`` days. A run that
  first sees a referral inside that window reminds at once (a referral made two days before its
  deadline hears it that day), so a missed cron run delays a reminder, never loses it.
* **Passed**: the deadline was yesterday — or up to :data:`PASSED_LOOKBACK_DAYS` days ago, for
  runs that were missed; older deadlines are not announced again.

Once each: one :class:`DeadlineReminder` row per (referral, kind, deadline) under a unique
constraint, inserted in the same transaction that queues the SMS and the event. Of two runs at once
the second insert waits for the first and fails on the constraint, and its transaction — SMS and
event included — rolls back: nothing is sent twice. A deadline moved later is a new deadline and
gets reminders of its own.
"""

from __future__ import annotations

import datetime
import functools
import logging
from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from integrations.sms import send_sms
from models.events import Event, EventKind
from models.indicators import ReferralStatus
from models.jalali import format_jalali
from models.referrals import BreakdownBy, ProvincialSlice, Referral
from models.reminders import DeadlineReminder, ReminderKind
from models.site_settings import SiteSettings

logger = logging.getLogger("mana.reminders")

PASSED_LOOKBACK_DAYS = 7
TITLE_IN_SMS = 60
EVENT_OF_KIND = {
    ReminderKind.BEFORE_DEADLINE: EventKind.DEADLINE_NEAR,
    ReminderKind.DEADLINE_PASSED: EventKind.DEADLINE_PASSED,
}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
S = ReferralStatus


@dataclass
class ReminderReport:
    near: int = 0
    passed: int = 0
    sms: int = 0
    already_sent: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def open_with_assignee() -> Q:
    """Referrals whose next step is their assignee's (see the module's docstring)."""
    child_of_slice = Referral.objects.filter(parent_id=OuterRef("referral_id"), province_id=OuterRef("province_id"))
    unreferred_slice = ProvincialSlice.objects.filter(referral_id=OuterRef("pk")).filter(~Exists(child_of_slice))
    split_and_waiting = Q(status=S.DELEGATED, breakdown_by=BreakdownBy.ASSIGNEE) & Q(Exists(unreferred_slice))
    return (Q(status__in=(S.IN_PROGRESS, S.RETURNED)) | split_and_waiting) & Q(
        assignment__is_applicable=True, assignee__is_active=True
    )


def due(kind: str, today: datetime.date, days_before: int) -> QuerySet[Referral]:
    """Open referrals owed a reminder of ``kind`` today and not yet sent one for their deadline."""
    if kind == ReminderKind.BEFORE_DEADLINE:
        window = Q(deadline__gte=today, deadline__lte=today + datetime.timedelta(days=days_before))
    else:
        window = Q(deadline__lt=today, deadline__gte=today - datetime.timedelta(days=PASSED_LOOKBACK_DAYS))
    sent = DeadlineReminder.objects.filter(referral_id=OuterRef("pk"), kind=kind, deadline=OuterRef("deadline"))
    return (
        Referral.objects.filter(window, open_with_assignee())
        .filter(~Exists(sent))
        .select_related("assignee", "assignment__indicator")
        .order_by("deadline", "id")
    )


def send_deadline_reminders(today: datetime.date | None = None) -> ReminderReport:
    """Send every reminder due ``today`` (Tehran's date by default); safe to run at any time, and
    again: what was sent is not sent twice."""
    today = today or timezone.localdate()
    days_before = SiteSettings.get_solo().reminder_days_before
    report = ReminderReport()
    for kind in (ReminderKind.DEADLINE_PASSED, ReminderKind.BEFORE_DEADLINE):
        for referral in due(kind, today, days_before):
            try:
                with transaction.atomic():
                    DeadlineReminder.objects.create(referral=referral, kind=kind, deadline=referral.deadline)
                    report.sms += _notify(referral, kind, today)
            except IntegrityError:
                report.already_sent += 1  # another run got there first; it sends
                continue
            if kind == ReminderKind.BEFORE_DEADLINE:
                report.near += 1
            else:
                report.passed += 1
    logger.info("deadline reminders for %s: %s", today.isoformat(), report.as_dict())
    return report


def _notify(referral: Referral, kind: str, today: datetime.date) -> int:
    """The in-app event and the SMS, both after the commit. Returns the number of SMS queued."""
    from subscriptions.publish import INBOX_MESSAGE, publish_to_user

    # To the assignee's inbox only: a reminder does not change the referral, so referralChanged
    # subscribers hear nothing (the workflow's events go through models.events.announce for both).
    event = Event(
        kind=EVENT_OF_KIND[kind],
        at=timezone.now(),
        actor_id=None,
        referral_id=referral.pk,
        user_ids=(referral.assignee_id,),
    )
    message = {"type": INBOX_MESSAGE, **event.as_message()}
    transaction.on_commit(functools.partial(publish_to_user, referral.assignee_id, message), robust=True)
    if not referral.assignee.mobile:
        return 0
    send_sms(mobile=referral.assignee.mobile, text=reminder_text(referral, kind, today), purpose="reminder")
    return 1


def reminder_text(referral: Referral, kind: str, today: datetime.date) -> str:
    title = referral.assignment.indicator.title
    if len(title) > TITLE_IN_SMS:
        title = title[: TITLE_IN_SMS - 1].rstrip() + "…"
    deadline = format_jalali(referral.deadline).translate(_PERSIAN_DIGITS)
    if kind == ReminderKind.DEADLINE_PASSED:
        return (
            f"سکوی معنا: مهلت ثبت عملکرد شاخص «{title}» در {deadline} به پایان رسید؛ "
            "آن را هرچه زودتر در کارپوشه انجام دهید."
        )
    days = (referral.deadline - today).days
    if days == 0:
        return f"سکوی معنا: امروز ({deadline}) آخرین روز مهلت ثبت عملکرد شاخص «{title}» است."
    left = str(days).translate(_PERSIAN_DIGITS)
    return f"سکوی معنا: {left} روز تا پایان مهلت ثبت عملکرد شاخص «{title}» ({deadline}) مانده است."
