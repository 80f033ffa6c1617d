"""The demo as ``seed_demo`` leaves it: beside the seed's 1402 period, the current year's, with work
in every state and deadlines ahead (models/demo_current.py), read through the API by the people a
web client would sign in as."""

from __future__ import annotations

import datetime
import io

import jdatetime
import pytest
from django.core.management import call_command
from django.utils import timezone

from models.demo import load_demo
from models.demo_current import RETURN_REASON, current_period_title, load_current_period
from models.indicators import Assignment
from models.jalali import format_jalali, parse_jalali
from models.object_permissions import ReferralUserObjectPermission
from models.periods import EvaluationPeriod
from models.referrals import Performance, Referral, ReferralEvent
from schema.ids import encode_global_id
from tests.workflow_helpers import ALI, AMIR, FATEMEH, NARGES, SARA, client_for

PERIODS = "{ periods { id title year startDate endDate isOpen proposalsOpen } }"
INBOX = """query($period: ID!) { inbox(period: $period) { totalCount edges { node {
  status inboxAction daysLeft isOverdue deadline province { code }
  assignment { indicator { code } } assignee { nationalCode } performance { value }
  timeline { toStatus reason } } } } }"""
PROGRESS = """query($period: ID!) { organizations(search: "ستاد وزارت نیرو") { edges { node { name
  referralProgress(period: $period) { generalPercent specificPercent daysLeft }
  assignments(period: $period) { totalCount edges { node { status indicator { code } } } } } } } }"""
DASHBOARD = """query($period: ID!) { dashboard(period: $period) {
  totals { assignments referred submitted finalized overdue selfScore } } }"""


@pytest.fixture
def full_demo(db):
    # Exactly what `manage.py seed_demo` loads (the suite's `demo` fixture leaves the current period out).
    call_command("seed_demo", stdout=io.StringIO())


def current_period() -> EvaluationPeriod:
    return EvaluationPeriod.objects.get(year=jdatetime.date.fromgregorian(date=timezone.localdate()).year)


def current_period_id() -> str:
    return encode_global_id("EvaluationPeriod", current_period().pk)


def inbox(national_code: str) -> list[dict]:
    edges = client_for(national_code).data(INBOX, {"period": current_period_id()})["inbox"]["edges"]
    return [edge["node"] for edge in edges]


def by_indicator(items: list[dict]) -> dict[tuple[str, str | None], dict]:
    return {(i["assignment"]["indicator"]["code"], (i["province"] or {}).get("code")): i for i in items}


def test_the_current_period_comes_first_and_its_deadlines_lie_ahead(full_demo):
    periods = client_for(FATEMEH).data(PERIODS)["periods"]
    today = timezone.localdate()
    year = jdatetime.date.fromgregorian(date=today).year
    assert [p["year"] for p in periods] == [year, 1402]  # newest first: a client's default is the current one
    current = periods[0]
    assert current["title"] == current_period_title(year) == f"دوره ارزیابی عملکرد شهید رجایی {year}".translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    )
    assert current["startDate"] == f"{year}/01/01"
    assert parse_jalali(current["endDate"]) >= today + datetime.timedelta(days=60)
    assert current["isOpen"] and current["proposalsOpen"]
    assert periods[1]["title"] == "دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲"
    # Every assignment and referral of the current period is due after today.
    period = current_period()
    assert Assignment.objects.filter(period=period).count() == 8
    assert all(a.deadline > today for a in Assignment.objects.filter(period=period))
    assert all(r.deadline > today for r in Referral.objects.filter(assignment__period=period))


def test_every_inbox_has_work_in_a_different_state(full_demo):
    ali = by_indicator(inbox(ALI))
    assert {key: (i["status"], i["inboxAction"]) for key, i in ali.items()} == {
        ("MOE-04", None): ("SUBMITTED", "REVIEW"),  # سارا's submission
        ("MOE-05", None): ("SUBMITTED", "REVIEW"),  # فاطمه approved امیر's and sent it up
    }
    fatemeh = by_indicator(inbox(FATEMEH))
    assert {key: (i["status"], i["inboxAction"]) for key, i in fatemeh.items()} == {
        ("MOE-01", None): ("DELEGATED", "WAIT"),  # split by province, both slices referred
        ("MOE-01", "IR-23"): ("SUBMITTED", "REVIEW"),  # محمد's Tehran slice, for her review
        ("MOE-02", None): ("DELEGATED", "WAIT"),
        ("MOE-03", None): ("DELEGATED", "WAIT"),
    }
    amir = by_indicator(inbox(AMIR))
    assert {key: (i["status"], i["inboxAction"]) for key, i in amir.items()} == {
        ("MOE-02", None): ("IN_PROGRESS", "REGISTER_OR_REFER"),
        ("MOE-03", None): ("RETURNED", "CORRECT"),
    }
    assert amir[("MOE-02", None)]["performance"]["value"] == "35.8"  # saved, not submitted
    assert amir[("MOE-03", None)]["timeline"][-1] == {"toStatus": "RETURNED", "reason": RETURN_REASON}
    assert [(i["status"], i["inboxAction"]) for i in inbox(NARGES)] == [("IN_PROGRESS", "REGISTER_OR_REFER")]
    for item in [*ali.values(), *fatemeh.values(), *amir.values()]:
        assert item["daysLeft"] > 0 and not item["isOverdue"], item


def test_the_main_leader_sees_progress_a_finalized_item_and_a_dashboard(full_demo):
    ali = client_for(ALI)
    period = current_period_id()
    (unit,) = [e["node"] for e in ali.data(PROGRESS, {"period": period})["organizations"]["edges"]]
    statuses = {e["node"]["indicator"]["code"]: e["node"]["status"] for e in unit["assignments"]["edges"]}
    assert statuses == {
        "MOE-01": "DELEGATED",
        "MOE-02": "DELEGATED",
        "MOE-03": "DELEGATED",
        "MOE-04": "DELEGATED",
        "MOE-05": "DELEGATED",
        "MOE-06": "FINALIZED",
        "MOE-07": "PENDING",  # still to refer
    }
    # General: MOE-04, 05, 07 (two of three referred); specific: MOE-01, 02, 03, 06 (all four).
    assert unit["referralProgress"]["generalPercent"] == 66.67
    assert unit["referralProgress"]["specificPercent"] == 100.0
    assert unit["referralProgress"]["daysLeft"] > 0
    totals = ali.data(DASHBOARD, {"period": period})["dashboard"]["totals"]
    assert totals == {
        "assignments": 7,
        "referred": 6,
        "submitted": 3,  # MOE-04 and MOE-05 with him, MOE-06 finalized
        "finalized": 1,
        "overdue": 0,
        # The top referrals' values: MOE-04 12 / 10 × 50 = 60, MOE-05 92 / 100 × 50 = 46, MOE-06 372 / 360 × 85.
        "selfScore": "193.83",
    }


def test_the_states_were_made_by_the_workflow(full_demo):
    """Grants and history as people doing it by hand would leave them."""
    period = current_period()
    tehran = Referral.objects.get(assignment__period=period, province__code="IR-23")
    isfahan = Referral.objects.get(assignment__period=period, province__code="IR-10")
    # The Isfahan assignee does not see the Tehran slice; the one who split both does.
    tehran_id = encode_global_id("Referral", tehran.pk)
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert client_for(NARGES).data(node, {"id": tehran_id})["node"] is None
    assert client_for(FATEMEH).data(node, {"id": tehran_id})["node"] == {"id": tehran_id}
    # محمد submitted: he may no longer change it; نرگس may change hers.
    assert not ReferralUserObjectPermission.objects.filter(
        content_object=tehran, user=tehran.assignee, permission__codename="change_referral"
    ).exists()
    assert ReferralUserObjectPermission.objects.filter(
        content_object=isfahan, user=isfahan.assignee, permission__codename="change_referral"
    ).exists()
    # Every transition is an event; every saved performance has its history.
    returned = Referral.objects.get(
        assignment__period=period, assignment__indicator__code="MOE-03", parent__isnull=False
    )
    assert list(ReferralEvent.objects.filter(referral=returned).values_list("from_status", "to_status", "reason")) == [
        (None, "IN_PROGRESS", ""),
        ("IN_PROGRESS", "SUBMITTED", ""),
        ("SUBMITTED", "RETURNED", RETURN_REASON),
    ]
    assert Performance.history.filter(referral=returned).count() == 1
    # The returned item is امیر's to correct again, through the API.
    amir = client_for(AMIR)
    saved = amir.data(
        "mutation($input: SavePerformanceInput!) { savePerformance(input: $input) { errors { code } "
        "performance { value } } }",
        {"input": {"referral": encode_global_id("Referral", returned.pk), "version": 1, "value": "8"}},
    )["savePerformance"]
    assert saved == {"errors": [], "performance": {"value": "8"}}
    # سارا's finalized item can be sent for evaluation by the main leader.
    sent = client_for(ALI).data(
        "mutation($input: SendForEvaluationInput!) { sendForEvaluation(input: $input) { errors { code } "
        "assignments { indicator { code } status } } }",
        {"input": {"period": encode_global_id("EvaluationPeriod", period.pk)}},
    )["sendForEvaluation"]
    assert sent == {"errors": [], "assignments": [{"indicator": {"code": "MOE-06"}, "status": "SENT_FOR_EVALUATION"}]}
    assert client_for(SARA).data(PERIODS)["periods"][0]["year"] == period.year


def snapshot() -> dict:
    return {
        "periods": list(EvaluationPeriod.objects.order_by("pk").values_list("title", "start_date", "end_date")),
        "assignments": list(Assignment.objects.order_by("pk").values_list("pk", "status", "deadline")),
        "referrals": list(Referral.objects.order_by("pk").values_list("pk", "status", "version", "deadline")),
        "events": ReferralEvent.objects.count(),
        "performances": list(Performance.objects.order_by("pk").values_list("pk", "value", "version")),
        "history": Performance.history.count(),
        "grants": ReferralUserObjectPermission.objects.count(),
    }


def test_seed_demo_twice_changes_nothing(full_demo):
    before = snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == before
    # A later day of the same year finds the period and its work as they are.
    load_demo(today=timezone.localdate() + datetime.timedelta(days=20))
    assert snapshot() == before


@pytest.mark.parametrize("today", ["1403/12/30", "1404/12/29", "1405/01/01", "1405/06/31"])
def test_deadlines_lie_ahead_whatever_the_day(demo, today):
    """On the year's last day the period runs on past it; on its first, it starts that day."""
    from models.demo import _organizations, _people

    day = parse_jalali(today)
    organizations = _organizations()
    period = load_current_period(organizations, _people(organizations), today=day)
    assert period.year == int(today[:4])
    assert format_jalali(period.start_date) == f"{today[:4]}/01/01"
    assert period.end_date >= day + datetime.timedelta(days=60)
    referrals = Referral.objects.filter(assignment__period=period)
    assert referrals.count() == 11
    assert all(day < r.deadline <= period.end_date for r in referrals)
    assert all(r.deadline <= (r.parent.deadline if r.parent else r.assignment.deadline) for r in referrals)
