"""Sending SMS: the outbox row, on_commit, retries, the backends, Kavenegar against a stub gateway,
and the text and API key kept out of the database, logs, errors and the admin console."""

from __future__ import annotations

import datetime
import json
import logging
import traceback
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations import sms
from integrations.models import OutgoingSms, SmsStatus
from integrations.sms import SmsMessage, SmsSendError, get_backend, send_sms
from integrations.sms.backends.base import BaseSmsBackend
from integrations.sms.backends.kavenegar import SmsBackend as KavenegarBackend
from models.persian_digits import persian_digits
from models.users import User
from tests import sms_fixtures
from tests.http_stub import Reply, StubServer, closed_port_url

MOBILE = "09121234567"
SECRET_TEXT = "رمز یکبار مصرف شما: 493817"
API_KEY = "4A6F-SeCrEtKeY+/=7391"
KAVENEGAR_OK = {
    "return": {"status": 200, "message": "تایید شد"},
    "entries": [{"messageid": 8792343, "message": SECRET_TEXT, "status": 1, "receptor": MOBILE}],
}
LOCMEM = "integrations.sms.backends.locmem.SmsBackend"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class FailingBackend(BaseSmsBackend):
    """Fails the first `failures` sends (all, by default), then delivers like locmem."""

    failures = 10**6
    calls = 0
    error: Exception = SmsSendError("gateway down")

    def send(self, message: SmsMessage) -> str:
        FailingBackend.calls += 1
        if FailingBackend.calls <= FailingBackend.failures:
            raise FailingBackend.error
        sms.outbox.append(message)
        return "after-failures"


@pytest.fixture
def failing(settings, sms_outbox):
    settings.SMS_BACKEND = "tests.test_integrations_sms.FailingBackend"
    FailingBackend.failures, FailingBackend.calls, FailingBackend.error = 10**6, 0, SmsSendError("gateway down")
    return FailingBackend


@pytest.fixture
def kavenegar(settings):
    settings.SMS_KAVENEGAR_API_KEY = API_KEY
    settings.SMS_CONNECT_TIMEOUT = 0.5
    settings.SMS_READ_TIMEOUT = 0.3
    with StubServer() as stub:
        settings.SMS_KAVENEGAR_BASE_URL = f"{stub.url}/v1"
        yield stub


def assert_no_secret(caplog, *extra: str) -> None:
    logged = caplog.text + "".join(record.getMessage() for record in caplog.records)
    for secret in (API_KEY, SECRET_TEXT, "493817", *extra):
        assert secret not in logged


# --- send_sms end to end --------------------------------------------------------------------------


def test_send_sms_writes_the_outbox_row_and_wipes_the_text_once_sent(db, sms_outbox, caplog):
    caplog.set_level(logging.DEBUG)
    row = send_sms(mobile="۰۹۱۲۱۲۳۴۵۶۷", text=SECRET_TEXT, purpose="otp")
    row.refresh_from_db()
    # Not sent before the transaction commits.
    assert (row.mobile, row.purpose, row.text, row.status, row.attempts) == (MOBILE, "otp", SECRET_TEXT, "PENDING", 0)

    assert [(m.mobile, m.text, m.purpose) for m in sms_outbox] == [(MOBILE, SECRET_TEXT, "otp")]
    row.refresh_from_db()
    assert row.status == SmsStatus.SENT
    assert row.text == ""
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.provider_message_id == "locmem-1"
    assert row.backend == LOCMEM
    assert "0912***4567" in caplog.text
    assert_no_secret(caplog, MOBILE)


def test_nothing_is_sent_when_the_transaction_rolls_back(db, sms_outbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
        raise RuntimeError("the request failed")
    assert list(sms_outbox) == []
    assert not OutgoingSms.objects.exists()


def test_delivery_is_enqueued_on_commit_with_the_row_id_only(db, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = LOCMEM
    settings.TASKS = DATABASE
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="password")
    assert len(callbacks) == 1
    assert not DBTaskResult.objects.exists()
    callbacks[0]()
    task = DBTaskResult.objects.get()
    assert task.task_path == "integrations.sms.tasks.deliver_sms"
    assert task.args_kwargs == {"args": [row.pk], "kwargs": {}}
    assert SECRET_TEXT not in json.dumps(task.args_kwargs)


def test_send_sms_refuses_programming_errors(db):
    with pytest.raises(ValueError, match="mobile"):
        send_sms(mobile="0212345678", text="x", purpose="otp")
    with pytest.raises(ValueError, match="purpose"):
        send_sms(mobile=MOBILE, text="x", purpose="One Time Code")
    with pytest.raises(ValueError, match="empty"):
        send_sms(mobile=MOBILE, text="  ", purpose="otp")
    assert not OutgoingSms.objects.exists()


def test_filebased_backend_appends_one_json_line_per_message(db, settings, sms_outbox, tmp_path):
    settings.SMS_BACKEND = "integrations.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms" / "outbox.jsonl"
    send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    send_sms(mobile="09351234567", text="سلام\nدنیا", purpose="registration")
    sms_outbox.flush()
    lines = settings.SMS_FILE_PATH.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["mobile"] for line in lines] == [MOBILE, "09351234567"]
    assert [json.loads(line)["text"] for line in lines] == [SECRET_TEXT, "سلام\nدنیا"]
    assert [json.loads(line)["purpose"] for line in lines] == ["otp", "registration"]
    assert set(OutgoingSms.objects.values_list("status", "text")) == {("SENT", "")}


def test_console_backend_prints_one_line_per_message(capsys):
    get_backend("integrations.sms.backends.console.SmsBackend").send(
        SmsMessage(mobile=MOBILE, text="دو\nخط", purpose="otp")
    )
    assert capsys.readouterr().out == f"SMS to {MOBILE} [otp]: دو خط\n"


# --- failures and retries -------------------------------------------------------------------------


def test_a_failing_send_is_retried_then_marked_failed_and_logged(db, settings, failing, sms_outbox, caplog):
    caplog.set_level(logging.INFO)
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    assert list(sms_outbox) == []
    row.refresh_from_db()
    assert row.status == SmsStatus.FAILED
    assert row.attempts == settings.SMS_MAX_ATTEMPTS == 5
    assert failing.calls == 5
    assert row.last_error == "SmsSendError: gateway down"
    # Kept for retry_failed_sms.
    assert row.text == SECRET_TEXT
    mine = [r for r in caplog.records if r.name == "integrations.sms"]
    assert [r.levelname for r in mine] == ["INFO"] + ["WARNING"] * 4 + ["ERROR"]
    assert "FAILED after 5 attempt(s)" in mine[-1].getMessage()
    assert_no_secret(caplog, MOBILE)

    # The gateway is back: the operator sends the failed messages again.
    settings.SMS_BACKEND = LOCMEM
    call_command("retry_failed_sms", stdout=(out := _Output()))
    assert "1 message(s) queued again." in out.text
    assert [m.text for m in sms_outbox] == [SECRET_TEXT]
    row.refresh_from_db()
    assert (row.status, row.text, row.attempts) == (SmsStatus.SENT, "", 1)


def test_a_send_that_fails_twice_is_sent_on_the_third_attempt(db, failing, sms_outbox):
    failing.failures = 2
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    assert len(sms_outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.text, row.provider_message_id) == ("SENT", 3, "", "after-failures")


def test_a_permanent_refusal_is_not_retried(db, failing, sms_outbox):
    failing.error = SmsSendError("no such number", retryable=False)
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    sms_outbox.flush()
    row.refresh_from_db()
    assert (row.status, row.attempts, failing.calls) == ("FAILED", 1, 1)


def test_an_unexpected_exception_is_a_failure_with_a_scrubbed_message(db, failing, sms_outbox, caplog):
    failing.error = RuntimeError(f"broken while sending {SECRET_TEXT!r}")
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    sms_outbox.flush()
    row.refresh_from_db()
    assert row.status == SmsStatus.FAILED
    assert row.last_error == "RuntimeError: broken while sending '***'"
    assert_no_secret(caplog)


def test_with_the_database_queue_a_retry_waits_growing_delays(db, settings, failing, monkeypatch):
    # The real worker, in this process. It closes "old" connections between tasks, which inside
    # the test's transaction (never committed) would be this test's own connection.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    settings.TASKS = DATABASE
    settings.SMS_MAX_ATTEMPTS = 3
    settings.SMS_RETRY_DELAY = 30
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    _flush_sms_callbacks()
    assert DBTaskResult.objects.count() == 1

    started = timezone.now()
    _run_worker()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("PENDING", 1)
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.args_kwargs["args"] == [row.pk]
    assert abs((retry.run_after - started) - datetime.timedelta(seconds=30)).total_seconds() < 5
    assert row.next_attempt_at == retry.run_after

    # Not due yet: the worker leaves it alone.
    _run_worker()
    assert OutgoingSms.objects.get().attempts == 1

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    started = timezone.now()
    _run_worker()
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert abs((retry.run_after - started) - datetime.timedelta(seconds=60)).total_seconds() < 5

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    _run_worker()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("FAILED", 3, None)
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert failing.calls == 3


def test_retry_failed_sms_selects_and_discards(db, settings, failing, sms_outbox):
    settings.SMS_MAX_ATTEMPTS = 1
    otp = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    password = send_sms(mobile=MOBILE, text="رمز عبور: Xy7", purpose="password")
    sms_outbox.flush()
    # A PENDING row whose task was lost (a worker died mid-send) an hour ago.
    lost = OutgoingSms.objects.create(mobile=MOBILE, purpose="registration", text="ثبت‌نام", attempts=1)
    OutgoingSms.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=1))

    settings.SMS_BACKEND = LOCMEM
    call_command("retry_failed_sms", "--purpose", "password", stdout=_Output())
    assert [m.purpose for m in sms_outbox] == ["password"]
    call_command("retry_failed_sms", "--discard", stdout=(out := _Output()))
    assert "1 failed message(s) discarded" in out.text
    otp.refresh_from_db()
    assert (otp.status, otp.text) == ("FAILED", "")
    call_command("retry_failed_sms", "--stale", "30", stdout=(out := _Output()))
    # The discarded one is still FAILED, but without its text it cannot be sent again.
    assert out.text == "1 message(s) queued again; 1 skipped (text gone).\n"
    assert [m.purpose for m in sms_outbox] == ["password", "registration"]
    password.refresh_from_db()
    assert password.status == "SENT"


# --- the admin console ------------------------------------------------------------------------------


def test_the_admin_console_never_shows_the_text(db, failing, sms_outbox):
    admin = User.objects.create_superuser("0010000011", "x", first_name="مریم", last_name="رضایی")
    client = Client()
    client.force_login(admin)
    failed = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    sms_outbox.flush()
    pending = OutgoingSms.objects.create(mobile="09351234567", purpose="password", text="رمز عبور: Kd93-secret")

    changelist = client.get("/admin/integrations/outgoingsms/")
    assert changelist.status_code == 200
    page = changelist.content.decode()
    # The console writes numbers in Persian digits (models/persian_digits.py).
    assert persian_digits(MOBILE) in page
    for row in (failed, pending):
        change = client.get(f"/admin/integrations/outgoingsms/{row.pk}/change/")
        assert change.status_code == 200
        page += change.content.decode()
    assert "gateway down" in page
    for secret in (SECRET_TEXT, "493817", "Kd93-secret"):
        assert secret not in page and persian_digits(secret) not in page
    # No add form, no edit form: messages come from send_sms only.
    assert client.get("/admin/integrations/outgoingsms/add/").status_code == 403
    assert 'name="text"' not in page

    # The console's "send again" action, once the gateway is back.
    FailingBackend.failures = 0
    response = client.post(
        "/admin/integrations/outgoingsms/",
        {"action": "send_again", "_selected_action": [failed.pk, pending.pk]},
    )
    assert response.status_code == 302
    assert [m.text for m in sms_outbox] == [SECRET_TEXT]
    failed.refresh_from_db()
    pending.refresh_from_db()
    assert (failed.status, failed.text) == ("SENT", "")
    assert pending.status == "PENDING"  # only FAILED ones are sent again


# --- Kavenegar against a stub gateway -------------------------------------------------------------


def test_kavenegar_sends_and_returns_the_message_id(kavenegar, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.SMS_KAVENEGAR_SENDER = "10004346"
    kavenegar.reply(Reply(200, KAVENEGAR_OK))
    message_id = KavenegarBackend().send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))
    assert message_id == "8792343"
    (request,) = kavenegar.requests
    assert request.path == "/v1/4A6F-SeCrEtKeY%2B%2F%3D7391/sms/send.json"
    form = parse_qs(request.body.decode())
    assert form == {"receptor": [MOBILE], "message": [SECRET_TEXT], "sender": ["10004346"]}
    # urllib3 logs each request line (with the key in its path) at DEBUG: scrubbed.
    assert any("sms/send.json" in record.getMessage() for record in caplog.records)
    assert_no_secret(caplog, "SeCrEtKeY", "4A6F-SeCrEtKeY%2B%2F%3D7391")


def test_kavenegar_end_to_end_after_a_5xx(kavenegar, db, settings, sms_outbox, caplog):
    caplog.set_level(logging.DEBUG)
    settings.SMS_BACKEND = "integrations.sms.backends.kavenegar.SmsBackend"
    kavenegar.reply(Reply(502, "<html>Bad Gateway</html>"), Reply(200, KAVENEGAR_OK))
    row = send_sms(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")
    sms_outbox.flush()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.text, row.provider_message_id) == ("SENT", 2, "", "8792343")
    assert row.last_error == "SmsSendError: Kavenegar answered HTTP 502 without its JSON status"
    assert len(kavenegar.requests) == 2
    assert_no_secret(caplog, "SeCrEtKeY")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            Reply(418, {"return": {"status": 418, "message": "اعتبار حساب شما کافی نیست"}, "entries": None}),
            "Kavenegar refused the message: status 418 (اعتبار حساب شما کافی نیست)",
        ),
        (
            # Kavenegar's own words echoing the key or the text are scrubbed too.
            Reply(403, {"return": {"status": 403, "message": f"key {API_KEY} invalid for {SECRET_TEXT}"}}),
            "Kavenegar refused the message: status 403 (key *** invalid for ***)",
        ),
        (Reply(200, "<html>maintenance</html>"), "Kavenegar answered HTTP 200 without its JSON status"),
        (Reply(200, {"return": "ok"}), "Kavenegar answered HTTP 200 without its JSON status"),
        (Reply(200, [1, 2, 3]), "Kavenegar answered HTTP 200 without its JSON status"),
        (Reply(500, b"\xff\xfe garbage"), "Kavenegar answered HTTP 500 without its JSON status"),
    ],
)
def test_kavenegar_refusals_and_garbage_are_send_errors(kavenegar, caplog, reply, expected):
    caplog.set_level(logging.DEBUG)
    kavenegar.reply(reply)
    with pytest.raises(SmsSendError) as raised:
        KavenegarBackend().send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))
    assert str(raised.value) == expected
    assert raised.value.retryable
    assert_no_secret(caplog, "SeCrEtKeY")


def test_kavenegar_invalid_receptor_is_permanent(kavenegar):
    kavenegar.reply(Reply(411, {"return": {"status": 411, "message": "گیرنده نامعتبر است"}}))
    with pytest.raises(SmsSendError) as raised:
        KavenegarBackend().send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))
    assert not raised.value.retryable


def test_kavenegar_timeout(kavenegar, caplog):
    caplog.set_level(logging.DEBUG)
    kavenegar.reply(Reply(200, KAVENEGAR_OK, delay=1.0))
    with pytest.raises(SmsSendError) as raised:
        KavenegarBackend().send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))
    assert str(raised.value) == "Kavenegar did not answer in time (connect 0.5 s, read 0.3 s)"
    assert len(kavenegar.requests) == 1  # no HTTP-level retry: the task retries, with its delays
    _assert_exception_clean(raised.value)
    assert_no_secret(caplog, "SeCrEtKeY")


def test_kavenegar_unreachable_never_shows_the_key(settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.SMS_KAVENEGAR_BASE_URL = f"{closed_port_url()}/v1"
    with pytest.raises(SmsSendError) as raised:
        KavenegarBackend(api_key=API_KEY).send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))
    message = str(raised.value)
    assert message.startswith("could not reach Kavenegar: ConnectionError")
    # requests' own text names the URL: its key part is scrubbed.
    assert "/v1/***/sms/send.json" in message
    _assert_exception_clean(raised.value)
    assert_no_secret(caplog, "SeCrEtKeY")


def test_kavenegar_without_an_api_key_fails_clearly(settings):
    settings.SMS_KAVENEGAR_API_KEY = ""
    with pytest.raises(SmsSendError, match="SMS_KAVENEGAR_API_KEY is not set"):
        KavenegarBackend().send(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp"))


def test_a_message_repr_hides_its_text():
    assert repr(SmsMessage(mobile=MOBILE, text=SECRET_TEXT, purpose="otp")) == (
        "SmsMessage(mobile='0912***4567', purpose='otp')"
    )


# --- helpers ----------------------------------------------------------------------------------------


def _assert_exception_clean(exc: BaseException) -> None:
    printed = "".join(traceback.format_exception(exc))
    for secret in (API_KEY, "SeCrEtKeY", SECRET_TEXT):
        assert secret not in printed
        assert secret not in repr(exc)


class _Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def _flush_sms_callbacks() -> None:
    sms_fixtures.SmsOutbox().flush()


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)
