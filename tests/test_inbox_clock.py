"""``daysLeft`` and ``isOverdue`` with the clock pinned, so the date arithmetic itself is asserted.

"Today" is the calendar day in Tehran (``TIME_ZONE = "Asia/Tehran"``, UTC+3:30, no daylight saving
since 1401), read once through ``django.utils.timezone`` (models.progress.today_in_tehran). The
clock is pinned where Django reads it, ``timezone.now``, so the conversion of the instant to a
Tehran day is tested too: a minute before and after Tehran's midnight (20:30 UTC) fall on two
different days here while they are the same day in UTC.

The demo's first referral (Ali → Fatemeh, MOE-01) is due on 1402/11/15, that is 2024-02-04; the
assignments of MOE-HQ are due on 1402/11/20 (2024-02-09).
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from models.indicators import ReferralStatus
from models.jalali import format_jalali
from models.referrals import Referral
from schema.ids import encode_global_id
from tests.workflow_helpers import ALI, FATEMEH, INBOX, client_for, period_id

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
PROGRESS = """query($id: ID!, $period: ID!) { node(id: $id) { ... on Organization {
  referralProgress(period: $period) { deadline daysLeft } } } }"""
DUE = "query($id: ID!) { node(id: $id) { ... on Referral { deadline daysLeft isOverdue status } } }"


@pytest.fixture
def pin_clock(monkeypatch):
    """Pins the server's clock (every ``timezone.now()`` of the request) to a UTC instant."""

    def pin(*utc: int) -> None:
        instant = datetime.datetime(*utc, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return pin


@pytest.fixture
def fatemeh(demo):
    # Signed in before the clock is pinned: the session is made with the real time.
    return client_for(FATEMEH)


# (instant in UTC, the Tehran day it is, daysLeft to 1402/11/15, isOverdue)
INSTANTS = [
    ((2024, 1, 25, 8, 30), "1402/11/05 12:00", 10, False),
    ((2024, 2, 3, 20, 29), "1402/11/14 23:59", 1, False),
    ((2024, 2, 3, 20, 31), "1402/11/15 00:01", 0, False),  # still 3 February in UTC
    ((2024, 2, 4, 20, 29), "1402/11/15 23:59", 0, False),  # the deadline's last minute
    ((2024, 2, 4, 20, 31), "1402/11/16 00:01", -1, True),  # still 4 February in UTC
    ((2024, 2, 14, 20, 30), "1402/11/26 00:00", -11, True),
]


@pytest.mark.parametrize(("utc", "tehran", "days_left", "overdue"), INSTANTS, ids=[i[1] for i in INSTANTS])
def test_days_left_and_overdue_count_tehran_days(fatemeh, pin_clock, utc, tehran, days_left, overdue):
    pin_clock(*utc)
    assert f"{format_jalali(timezone.localdate())} {timezone.localtime():%H:%M}" == tehran
    (edge,) = fatemeh.data(INBOX, {"period": period_id()})["inbox"]["edges"]
    item = edge["node"]
    assert (item["deadline"], item["status"]) == ("1402/11/15", "IN_PROGRESS")
    assert (item["daysLeft"], item["isOverdue"]) == (days_left, overdue), tehran
    # The same through node.
    node = fatemeh.data(DUE, {"id": item["id"]})["node"]
    assert (node["daysLeft"], node["isOverdue"]) == (days_left, overdue)


@pytest.mark.parametrize(
    ("utc", "days_left"),
    [
        ((2024, 2, 8, 20, 29), 1),  # 1402/11/19 23:59 in Tehran
        ((2024, 2, 8, 20, 31), 0),  # 1402/11/20 00:01: the assignments' deadline
        ((2024, 2, 9, 20, 31), -1),
    ],
)
def test_referral_progress_days_left_counts_tehran_days(demo, pin_clock, utc, days_left):
    ali = client_for(ALI)
    pin_clock(*utc)
    moe_hq = encode_global_id("Organization", _organization_pk("MOE-HQ"))
    progress = ali.data(PROGRESS, {"id": moe_hq, "period": period_id()})["node"]["referralProgress"]
    assert progress == {"deadline": "1402/11/20", "daysLeft": days_left}


@pytest.mark.parametrize(
    ("status", "overdue"),
    [
        (ReferralStatus.SUBMITTED, True),  # waiting on the referrer's review: still open
        (ReferralStatus.RETURNED, True),
        (ReferralStatus.APPROVED, False),  # finished: past its deadline, yet not overdue
        (ReferralStatus.FINALIZED, False),
    ],
)
def test_only_open_referrals_become_overdue(demo, pin_clock, status, overdue):
    ali = client_for(ALI)
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    Referral.objects.filter(pk=referral.pk).update(status=status)
    pin_clock(2024, 2, 4, 20, 31)  # 1402/11/16 00:01 in Tehran: the day after the deadline
    node = ali.data(DUE, {"id": encode_global_id("Referral", referral.pk)})["node"]
    assert (node["status"], node["daysLeft"], node["isOverdue"]) == (status.value, -1, overdue)


def _organization_pk(code: str) -> int:
    from models.organization import Organization

    return Organization.objects.get(code=code).pk
