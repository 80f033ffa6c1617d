"""Deadline reminders (issue 10 §7): an assignee hears — in the inbox and by SMS, with the Jalali
date — a configurable number of days before a referral's deadline and the day after it passes;
once each, also when two runs race; on the embedded default and under a real worker."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from integrations.models import OutgoingSms
from models.deadline_reminders import send_deadline_reminders
from models.indicators import Assignment
from models.jalali import parse_jalali
from models.referrals import Referral
from models.reminders import DeadlineReminder
from models.site_settings import SiteSettings
from models.users import User
from tests.test_integrations_sms import _flush_sms_callbacks, _run_worker
from tests.workflow_helpers import (
    ALI,
    AMIR,
    FATEMEH,
    FINISH,
    REFER,
    SAVE,
    SPLIT,
    client_for,
    mutate,
    province_id,
    user_id,
)

pytestmark = pytest.mark.django_db

FATEMEH_MOBILE = "09121555900"
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def remind(today: str) -> str:
    out = io.StringIO()
    call_command("send_deadline_reminders", "--today", today, stdout=out)
    return out.getvalue()


def villages() -> Referral:
    """The demo's open referral: «تعداد روستاهای آبرسانی شده…», Ali → Fatemeh, due 1402/11/15."""
    return Referral.objects.get(assignment__indicator__code="MOE-01", parent__isnull=True)


def sent() -> list[tuple]:
    return sorted(DeadlineReminder.objects.values_list("referral_id", "kind", "deadline"))


# --- near, passed, once each ----------------------------------------------------------------------


def test_the_assignee_is_reminded_days_before_and_once(demo, sms_outbox):
    assert remind("1402/11/11") == "0 near, 0 passed reminder(s) sent (0 SMS queued, 0 sent by another run).\n"
    assert list(sms_outbox) == []

    assert remind("1402/11/12") == "1 near, 0 passed reminder(s) sent (1 SMS queued, 0 sent by another run).\n"
    assert sent() == [(villages().pk, "BEFORE_DEADLINE", parse_jalali("1402/11/15"))]
    (message,) = sms_outbox
    assert (message.mobile, message.purpose) == (FATEMEH_MOBILE, "reminder")
    assert message.text == (
        "سکوی معنا: ۳ روز تا پایان مهلت ثبت عملکرد شاخص «تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی» "
        "(۱۴۰۲/۱۱/۱۵) مانده است."
    )

    # Again the same day, and the days after up to the deadline: nothing more.
    for day in ("1402/11/12", "1402/11/13", "1402/11/15"):
        assert remind(day).startswith("0 near, 0 passed")
    assert len(sms_outbox) == 1


def test_the_day_after_the_deadline_it_says_it_has_passed_once(demo, sms_outbox):
    assert remind("1402/11/15").startswith("1 near")  # the last day: near, not passed
    assert "امروز (۱۴۰۲/۱۱/۱۵) آخرین روز مهلت" in sms_outbox[-1].text
    assert remind("1402/11/16").startswith("0 near, 1 passed")
    assert sms_outbox[-1].text == (
        "سکوی معنا: مهلت ثبت عملکرد شاخص «تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی» در ۱۴۰۲/۱۱/۱۵ "
        "به پایان رسید؛ آن را هرچه زودتر در کارپوشه انجام دهید."
    )
    assert remind("1402/11/17").startswith("0 near, 0 passed")
    assert [kind for _, kind, _ in sent()] == ["BEFORE_DEADLINE", "DEADLINE_PASSED"]
    assert len(sms_outbox) == 2


def test_a_missed_run_catches_up_within_a_week_and_no_further(demo, sms_outbox):
    # The cron did not run for a while: the first run after the deadline sends «passed» only.
    assert remind("1402/11/22").startswith("0 near, 1 passed")
    DeadlineReminder.objects.all().delete()
    assert remind("1402/11/23").startswith("0 near, 0 passed")  # 8 days after: too old to announce


def test_the_days_before_are_a_setting(demo, sms_outbox):
    settings_row = SiteSettings.get_solo()
    settings_row.reminder_days_before = 5
    settings_row.save()
    assert remind("1402/11/10").startswith("1 near")
    assert "۵ روز تا پایان مهلت" in sms_outbox[0].text


def test_a_deadline_moved_later_is_reminded_again(demo, sms_outbox):
    assert remind("1402/11/12").startswith("1 near")
    Referral.objects.filter(pk=villages().pk).update(deadline=parse_jalali("1402/11/20"))
    assert remind("1402/11/17").startswith("1 near")
    assert len(sms_outbox) == 2


# --- which referrals: only those whose work is with their assignee --------------------------------


def test_only_work_still_with_the_assignee_is_reminded(demo, sms_outbox):
    ali, fatemeh = client_for(ALI), client_for(FATEMEH)
    period_assignments = {a.indicator.code: a for a in Assignment.objects.select_related("indicator")}
    from schema.ids import encode_global_id

    def refer(client, source, assignee, deadline="1402/11/15", **extra):
        payload = mutate(
            client, REFER, {"source": source, "assignee": user_id(assignee), "deadline": deadline, **extra}
        )
        assert payload["errors"] == [], payload
        return payload["referral"]

    # MOE-02: Ali → Fatemeh → Amir. Fatemeh's is DELEGATED (waiting on Amir): Amir is reminded, not she.
    top = refer(ali, encode_global_id("Assignment", period_assignments["MOE-02"].pk), FATEMEH)
    refer(fatemeh, top["id"], AMIR, "1402/11/14")
    # MOE-03: Ali → Fatemeh, who submits it: the work is with Ali now.
    submitted = refer(ali, encode_global_id("Assignment", period_assignments["MOE-03"].pk), FATEMEH)
    assert mutate(fatemeh, SAVE, {"referral": submitted["id"], "version": 0, "value": "5"})["errors"] == []
    assert mutate(fatemeh, FINISH, {"referral": submitted["id"], "version": submitted["version"]})["errors"] == []
    # MOE-01 (the demo's): Fatemeh splits it by province and refers Tehran's slice only: still hers.
    referral = villages()
    slices = [
        {"province": province_id("IR-23"), "target": "1500"},
        {"province": province_id("IR-10"), "target": "1500"},
    ]
    villages_id = encode_global_id("Referral", referral.pk)
    assert (
        mutate(fatemeh, SPLIT, {"referral": villages_id, "version": referral.version, "slices": slices})["errors"] == []
    )
    refer(fatemeh, villages_id, "0010000119", "1402/11/14", province=province_id("IR-23"))
    # MOE-04: referred to Fatemeh, but found not applicable afterwards: out of scoring, no reminder.
    refer(ali, encode_global_id("Assignment", period_assignments["MOE-04"].pk), FATEMEH)
    Assignment.objects.filter(pk=period_assignments["MOE-04"].pk).update(is_applicable=False)

    remind("1402/11/13")
    reminded = {
        (r.assignee.national_code, r.assignment.indicator.code, r.status)
        for r in Referral.objects.filter(reminders__isnull=False).select_related("assignee", "assignment__indicator")
    }
    assert reminded == {
        (AMIR, "MOE-02", "IN_PROGRESS"),
        (FATEMEH, "MOE-01", "DELEGATED"),  # split by her, Isfahan's slice still to refer
        ("0010000119", "MOE-01", "IN_PROGRESS"),  # Mohammad, Tehran's slice
    }

    # Once Isfahan's slice is referred too, her split referral waits on others: no more reminders.
    DeadlineReminder.objects.all().delete()
    refer(fatemeh, villages_id, "0010000127", "1402/11/14", province=province_id("IR-10"))
    remind("1402/11/13")
    assert (FATEMEH, "MOE-01") not in {
        (r.assignee.national_code, r.assignment.indicator.code)
        for r in Referral.objects.filter(reminders__isnull=False)
    }


def test_an_inactive_assignee_or_one_without_a_mobile(demo, sms_outbox):
    User.objects.filter(national_code=FATEMEH).update(mobile=None)
    assert remind("1402/11/12").startswith("1 near, 0 passed reminder(s) sent (0 SMS queued")
    assert list(sms_outbox) == []  # the inbox hears it; there is no number to text
    DeadlineReminder.objects.all().delete()
    User.objects.filter(national_code=FATEMEH).update(is_active=False)
    assert remind("1402/11/12").startswith("0 near")


def test_a_bad_day_is_refused(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        remind("1402/12/30")


# --- under a real worker: the database queue and db_worker ----------------------------------------


def test_under_the_database_queue_a_worker_sends_them(demo, sms_outbox, settings, monkeypatch):
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    settings.TASKS = DATABASE
    output = remind("1402/11/12")
    assert output.startswith("Queued as task ")
    task = DBTaskResult.objects.get()
    assert task.task_path == "models.tasks.send_deadline_reminders_task"
    assert task.args_kwargs == {"args": ["2024-02-01"], "kwargs": {}}  # 1402/11/12, as the worker reads it
    assert not DeadlineReminder.objects.exists()

    _run_worker()
    assert len(sent()) == 1
    assert DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL"
    # The SMS went into the outbox with the reminder and is sent by the worker too, as every SMS is.
    _flush_sms_callbacks()
    assert OutgoingSms.objects.get().status == "PENDING"
    _run_worker()
    assert [(m.mobile, m.purpose) for m in sms_outbox] == [(FATEMEH_MOBILE, "reminder")]


def test_every_runs_it_again_and_again(demo, sms_outbox, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    out = io.StringIO()
    call_command("send_deadline_reminders", "--today", "1402/11/12", "--every", "60", "--times", "3", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 near, 0 passed reminder(s) sent (1 SMS queued, 0 sent by another run).",
        "0 near, 0 passed reminder(s) sent (0 SMS queued, 0 sent by another run).",
        "0 near, 0 passed reminder(s) sent (0 SMS queued, 0 sent by another run).",
    ]


# --- two runs at once: one sends ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(demo):
    if connection.vendor != "postgresql":
        pytest.skip("races are tested for real on PostgreSQL (SQLite serializes writers)")
    from models.roles import Role
    from models.users import RoleAssignment
    from models.workflow import refer

    ali = User.objects.get(national_code=ALI)
    role = RoleAssignment.objects.get(user=ali, role=Role.MAIN_LEADER)
    fatemeh = User.objects.get(national_code=FATEMEH)
    for assignment in Assignment.objects.filter(organization__code="MOE-HQ").exclude(indicator__code="MOE-01"):
        refer(actor=ali, role=role, source=assignment, assignee=fatemeh, deadline=parse_jalali("1402/11/15"))
    due = Referral.objects.filter(status="IN_PROGRESS").count()
    assert due == 7

    start = threading.Barrier(2)
    reports = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            reports.append(send_deadline_reminders(today=parse_jalali("1402/11/13")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sum(report.near for report in reports) == due
    assert DeadlineReminder.objects.count() == due
    assert OutgoingSms.objects.filter(purpose="reminder").count() == due


# --- the in-app event: inboxUpdated ---------------------------------------------------------------

INBOX = "subscription { inboxUpdated { kind referral { id deadline assignment { indicator { code } } } } }"


@pytest.mark.django_db(transaction=True)
async def test_the_assignee_hears_it_in_the_inbox(demo):
    from asgiref.sync import sync_to_async

    from schema.ids import encode_global_id
    from tests.test_subscriptions import cookie_of, nothing_more, open_socket, received, subscribe, until_listening

    fatemeh, ali = await sync_to_async(client_for)(FATEMEH), await sync_to_async(client_for)(ALI)
    hers, his = await open_socket(cookie_of(fatemeh)), await open_socket(cookie_of(ali))
    await subscribe(hers, "inbox", INBOX)
    await subscribe(his, "inbox", INBOX)
    await until_listening(2)

    await sync_to_async(remind)("1402/11/13")
    event = (await received(hers))["inboxUpdated"]
    referral = await sync_to_async(villages)()
    assert event == {
        "kind": "DEADLINE_NEAR",
        "referral": {
            "id": encode_global_id("Referral", referral.pk),
            "deadline": "1402/11/15",
            "assignment": {"indicator": {"code": "MOE-01"}},
        },
    }
    await nothing_more(his)  # the referrer is not reminded of his assignee's deadline

    await sync_to_async(remind)("1402/11/16")
    assert (await received(hers))["inboxUpdated"]["kind"] == "DEADLINE_PASSED"
    await hers.disconnect()
    await his.disconnect()
    # The test client leaves its sync thread's connection open (tests/test_login_lockout.py).
    await sync_to_async(connections.close_all)()
