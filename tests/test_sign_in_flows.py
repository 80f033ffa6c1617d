"""Captcha, password sign-in, one-time SMS codes, forgot/change password, switching role — through
POST /graphql/, as a person with a browser or an app would."""

from __future__ import annotations

import datetime

import pytest
from captcha.models import CaptchaStore
from django.utils import timezone

from models.credentials import OneTimeCode
from models.demo import DEMO_PASSWORD
from models.users import RoleAssignment, User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.identity_helpers import (
    LOGIN,
    LOGIN_WITH_OTP,
    PASSED,
    REQUEST_OTP,
    six_digits,
    texts_to,
)
from tests.workflow_helpers import ALI, SARA

ALI_MOBILE = "09120000021"
NOBODY = "0499370899"  # a valid national code nobody holds


def _login(client, code, password=DEMO_PASSWORD, captcha=PASSED):
    return client.data(LOGIN, {"i": {"nationalCode": code, "password": password, "captcha": captcha}})["login"]


def _signed_in_as(client) -> str | None:
    result = client.execute("{ me { user { nationalCode } } }")
    return (result.get("data") or {}).get("me") and result["data"]["me"]["user"]["nationalCode"]


# --- captcha ---------------------------------------------------------------------------------


def _new_captcha(client) -> tuple[str, str, str]:
    captcha = client.data("{ captcha { key imageUrl expiresIn } }")["captcha"]
    assert captcha["expiresIn"] == 300
    answer = CaptchaStore.objects.get(hashkey=captcha["key"]).response
    return captcha["key"], captcha["imageUrl"], answer


def test_captcha_image_is_served_and_an_answer_is_good_once(demo, gql, settings):
    settings.CAPTCHA_TEST_MODE = False
    key, url, answer = _new_captcha(gql)
    assert url.startswith("http://testserver/captcha/image/")
    image = gql.http.get(url.removeprefix("http://testserver"))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert len(answer) == 5 and answer.isdigit()
    # Typed on a Persian keyboard.
    persian = answer.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert _login(gql, ALI, captcha={"key": key, "value": persian})["errors"] == []
    # The same key again (even with the right answer) is spent.
    again = GraphQLClient()
    refused = _login(again, ALI, captcha={"key": key, "value": answer})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("captcha", "CAPTCHA_INVALID")]
    assert _signed_in_as(again) is None


def test_wrong_expired_or_missing_captcha_is_refused_before_the_password_is_tried(demo, gql, settings):
    settings.CAPTCHA_TEST_MODE = False
    key, _url, answer = _new_captcha(gql)
    wrong = str((int(answer) + 1) % 100000).zfill(5)
    assert _login(gql, ALI, captcha={"key": key, "value": wrong})["errors"][0]["code"] == "CAPTCHA_INVALID"
    # A wrong answer spends the key too: no second guess at one image.
    assert _login(gql, ALI, captcha={"key": key, "value": answer})["errors"][0]["code"] == "CAPTCHA_INVALID"
    key, _url, answer = _new_captcha(gql)
    CaptchaStore.objects.filter(hashkey=key).update(expiration=timezone.now() - datetime.timedelta(seconds=1))
    assert _login(gql, ALI, captcha={"key": key, "value": answer})["errors"][0]["code"] == "CAPTCHA_INVALID"
    assert _login(gql, ALI, captcha={"key": "no-such-key", "value": "12345"})["errors"][0]["code"] == "CAPTCHA_INVALID"
    assert _signed_in_as(gql) is None
    # "PASSED" is only an answer in test mode.
    assert _login(gql, ALI)["errors"][0]["code"] == "CAPTCHA_INVALID"
    # Refused before the password was tried: no failed attempt was counted against the account.
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()


def test_captcha_answers_are_never_in_the_admin_or_the_response(demo, gql, settings, client):
    settings.CAPTCHA_TEST_MODE = False
    _key, _url, answer = _new_captcha(gql)
    client.force_login(User.objects.get(national_code="0010000011"))
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "captchastore" not in page.content.decode().lower()
    assert answer not in gql.post("{ captcha { key imageUrl } }").content.decode()


# --- one-time codes --------------------------------------------------------------------------


def _request_otp(client, code=ALI, captcha=PASSED):
    return client.data(REQUEST_OTP, {"i": {"nationalCode": code, "captcha": captcha}})["requestOtp"]


def _login_otp(client, code, otp):
    return client.data(LOGIN_WITH_OTP, {"i": {"nationalCode": code, "code": otp}})["loginWithOtp"]


def test_one_time_code_signs_in_once(demo, gql, sms_outbox, caplog):
    assert _request_otp(gql) == {"errors": [], "expiresIn": 120, "retryAfter": None}
    [text] = texts_to(sms_outbox, ALI_MOBILE)
    code = six_digits(text)
    row = OneTimeCode.objects.get(national_code=ALI)
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert _login_otp(gql, ALI, code)["errors"] == []
    assert _signed_in_as(gql) == ALI
    # Single use.
    other = GraphQLClient()
    assert _login_otp(other, ALI, code)["errors"] == [
        {
            "field": "code",
            "code": "OTP_USED",
            "message": "این رمز یکبار مصرف پیش‌تر به کار رفته است؛ رمز تازه‌ای درخواست کنید.",
        }
    ]
    assert _signed_in_as(other) is None
    assert code not in caplog.text


def test_a_newer_code_replaces_the_older(demo, gql, sms_outbox):
    _request_otp(gql)
    _request_otp(gql)
    first, second = (six_digits(t) for t in texts_to(sms_outbox, ALI_MOBILE))
    if first != second:
        assert _login_otp(gql, ALI, first)["errors"][0]["code"] == "OTP_INVALID"
    assert _login_otp(gql, ALI, second)["errors"] == []


def test_three_wrong_tries_end_a_code(demo, gql, sms_outbox):
    _request_otp(gql)
    code = six_digits(texts_to(sms_outbox, ALI_MOBILE)[0])
    wrong = str((int(code) + 1) % 10**6).zfill(6)
    for _ in range(3):
        assert _login_otp(gql, ALI, wrong)["errors"][0]["code"] == "OTP_INVALID"
    assert _login_otp(gql, ALI, code)["errors"][0]["code"] == "OTP_TOO_MANY_TRIES"
    assert _signed_in_as(gql) is None


def test_an_expired_code_is_refused(demo, gql, sms_outbox):
    _request_otp(gql)
    code = six_digits(texts_to(sms_outbox, ALI_MOBILE)[0])
    OneTimeCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert _login_otp(gql, ALI, code)["errors"][0]["code"] == "OTP_EXPIRED"
    assert _signed_in_as(gql) is None


def test_no_answer_tells_whether_a_national_code_exists(demo, sms_outbox):
    answers = {}
    for code in (ALI, NOBODY):
        client = GraphQLClient()
        flow = [_request_otp(client, code)]
        flow.append(_login_otp(client, code, "000000"))
        OneTimeCode.objects.filter(national_code=code).update(expires_at=timezone.now())
        flow.append(_login_otp(client, code, "000000"))
        flow += [_request_otp(client, code) for _ in range(3)]
        flow.append(
            client.data(
                "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) { errors { code } retryAfter } }",
                {"i": {"nationalCode": code, "captcha": PASSED}},
            )["forgotPassword"]
        )
        answers[code] = flow
    # A throttle window's end depends on the throttled value (django-ratelimit staggers windows by
    # key), not on whether anyone holds it: compared without the wait.
    for flow in answers.values():
        assert 0 < flow[5]["retryAfter"] <= 600
        flow[5]["retryAfter"] = None
        flow[5]["errors"][0]["message"] = flow[5]["errors"][0]["message"].split("؛")[0]
    assert answers[ALI] == answers[NOBODY]
    assert [a.get("errors") and a["errors"][0]["code"] for a in answers[ALI]] == [
        [],
        "OTP_INVALID",
        "OTP_EXPIRED",
        [],
        [],
        "TOO_MANY_CODES",
        [],
    ]
    # Only the real person got messages (two codes; the third request was throttled).
    assert {m.mobile for m in sms_outbox} == {ALI_MOBILE}


def test_sending_is_throttled_per_national_code_and_per_address(demo, sms_outbox, settings):
    settings.MANA_SMS_RATE_PER_ADDRESS = "5/h"
    client = GraphQLClient()
    for _ in range(3):
        assert _request_otp(client)["errors"] == []
    refused = _request_otp(client)
    assert refused["errors"][0]["code"] == "TOO_MANY_CODES" and 0 < refused["retryAfter"] <= 600
    assert len(sms_outbox) == 3
    # Per address: many national codes from one address (the throttled request above was not counted).
    codes = ["0010000011", "0032054009", "0010000038", "0010000054", "0010000062", "0010000070"]
    answers = [_request_otp(GraphQLClient(), code)["errors"] for code in codes]
    assert [a[0]["code"] if a else None for a in answers] == [
        None,
        None,
        "TOO_MANY_CODES",
        "TOO_MANY_CODES",
        "TOO_MANY_CODES",
        "TOO_MANY_CODES",
    ]


def test_wrong_codes_count_towards_the_lockout(demo, sms_outbox, settings):
    settings.AXES_FAILURE_LIMIT = 4
    client = GraphQLClient()
    _request_otp(client)
    for _ in range(2):
        assert _login_otp(client, ALI, "000000")["errors"][0]["code"] == "OTP_INVALID"
    _request_otp(client)
    assert _login_otp(client, ALI, "000000")["errors"][0]["code"] == "OTP_INVALID"
    # The fourth wrong code locks the account; then even the right code is not tried.
    assert _login_otp(client, ALI, "000000")["errors"][0]["code"] == "LOGIN_LOCKED_OUT"
    code = six_digits(texts_to(sms_outbox, ALI_MOBILE)[-1])
    locked = _login_otp(client, ALI, code)
    assert locked["errors"][0]["code"] == "LOGIN_LOCKED_OUT" and locked["retryAfter"] > 0
    assert OneTimeCode.objects.filter(national_code=ALI).first().used_at is None
    assert _signed_in_as(client) is None


def test_bad_one_time_code_input(demo, gql):
    assert _login_otp(gql, "123", "1")["errors"][0]["code"] == "INVALID_NATIONAL_CODE"
    assert (
        gql.data(REQUEST_OTP, {"i": {"nationalCode": "12", "captcha": PASSED}})["requestOtp"]["errors"][0]["code"]
        == "INVALID_NATIONAL_CODE"
    )
    assert _login_otp(gql, NOBODY, "x" * 10_000)["errors"][0]["code"] == "OTP_INVALID"
    assert not OneTimeCode.objects.exists()


# --- forgot / change password ----------------------------------------------------------------

FORGOT = "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) { errors { field code message } retryAfter } }"
CHANGE = """mutation($i: ChangePasswordInput!) { changePassword(input: $i) {
  errors { field code message } me { user { nationalCode } } } }"""


def test_forgotten_password_new_credentials_must_be_changed_first(demo, sms_outbox, caplog):
    client = GraphQLClient()
    assert client.data(FORGOT, {"i": {"nationalCode": ALI, "captcha": PASSED}})["forgotPassword"] == {
        "errors": [],
        "retryAfter": None,
    }
    [text] = texts_to(sms_outbox, ALI_MOBILE)
    temporary = text.split("رمز عبور موقت: ")[1].split("\n")[0]
    # The old password no longer works; the temporary one does, with a condition.
    assert _login(GraphQLClient(), ALI)["errors"][0]["code"] == "INVALID_CREDENTIALS"
    signed_in = _login(client, ALI, temporary)
    assert signed_in["errors"] == [] and signed_in["mustChangePassword"] is True
    for document in (
        "{ me { user { nationalCode } } }",
        "{ organizations { totalCount } }",
        "{ periods { id } }",
        '{ node(id: "T3JnYW5pemF0aW9uOjE=") { id } }',
        "{ registrationRequests { totalCount } }",
    ):
        assert client.error_codes(document) == ["PASSWORD_CHANGE_REQUIRED"], document
    download = client.http.get("/evidence/1/report.pdf")
    assert download.status_code == 403
    assert download.json()["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    # A weak or unchanged password is refused, with Django's rules in Persian.
    weak = client.data(CHANGE, {"i": {"currentPassword": temporary, "newPassword": "123"}})["changePassword"]
    assert {e["code"] for e in weak["errors"]} == {"WEAK_PASSWORD"}
    assert any("کوتاه" in e["message"] for e in weak["errors"])
    assert any("عدد" in e["message"] for e in weak["errors"])
    same = client.data(CHANGE, {"i": {"currentPassword": temporary, "newPassword": temporary}})["changePassword"]
    assert same["errors"][0]["code"] == "WEAK_PASSWORD"
    wrong = client.data(CHANGE, {"i": {"currentPassword": "nope", "newPassword": "a-Good-passphrase-9"}})
    assert wrong["changePassword"]["errors"][0] == {
        "field": "currentPassword",
        "code": "INVALID_CREDENTIALS",
        "message": "رمز عبور کنونی نادرست است.",
    }
    assert User.objects.get(national_code=ALI).must_change_password
    done = client.data(CHANGE, {"i": {"currentPassword": temporary, "newPassword": "a-Good-passphrase-9"}})
    assert done["changePassword"] == {"errors": [], "me": {"user": {"nationalCode": ALI}}}
    # This session goes on, now unrestricted; the new password signs in elsewhere.
    assert _signed_in_as(client) == ALI
    assert _login(GraphQLClient(), ALI, "a-Good-passphrase-9")["mustChangePassword"] is False
    assert temporary not in caplog.text and "a-Good-passphrase-9" not in caplog.text


def test_changing_password_ends_other_sessions(demo):
    here, elsewhere = GraphQLClient(), GraphQLClient()
    _login(here, ALI)
    _login(elsewhere, ALI)
    changed = here.data(CHANGE, {"i": {"currentPassword": DEMO_PASSWORD, "newPassword": "another-Good-one-7"}})
    assert changed["changePassword"]["errors"] == []
    assert _signed_in_as(here) == ALI
    assert elsewhere.error_codes("{ me { user { nationalCode } } }") == ["UNAUTHENTICATED"]


def test_change_password_needs_a_session_and_counts_guesses(demo, settings):
    anonymous = GraphQLClient()
    assert anonymous.error_codes(CHANGE, {"i": {"currentPassword": "a", "newPassword": "b"}}) == ["UNAUTHENTICATED"]
    settings.AXES_FAILURE_LIMIT = 3
    client = GraphQLClient()
    _login(client, ALI)
    for expected in ("INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "LOGIN_LOCKED_OUT"):
        result = client.data(CHANGE, {"i": {"currentPassword": "guess", "newPassword": "x-Good-passphrase-1"}})
        assert result["changePassword"]["errors"][0]["code"] == expected
    # Locked out, the right password is not even tried.
    locked = client.data(CHANGE, {"i": {"currentPassword": DEMO_PASSWORD, "newPassword": "x-Good-passphrase-1"}})
    assert locked["changePassword"]["errors"][0]["code"] == "LOGIN_LOCKED_OUT"
    assert User.objects.get(national_code=ALI).check_password(DEMO_PASSWORD)


# --- switching role --------------------------------------------------------------------------

SWITCH = """mutation($i: SwitchRoleInput!) { switchRole(input: $i) {
  errors { field code message } me { activeRole { role organization { code } } } } }"""


def _role_id(code: str, organization: str) -> str:
    role = RoleAssignment.objects.get(user__national_code=code, organization__code=organization)
    return encode_global_id("RoleAssignment", role.pk)


def test_sara_switches_to_her_tavanir_role_and_sees_its_scope_at_once(demo):
    sara = GraphQLClient()
    _login(sara, SARA)
    units = "{ organizations { totalCount edges { node { code } } } }"
    assert [e["node"]["code"] for e in sara.data(units)["organizations"]["edges"]] == ["MOE-HQ"]
    # Switch, and read the new scope in the same request.
    switched = sara.data(
        "mutation($i: SwitchRoleInput!) { switchRole(input: $i) {"
        " errors { code } me { activeRole { organization { code } } } } }",
        {"i": {"roleAssignment": _role_id(SARA, "MOE-TAVANIR")}},
    )
    assert switched["switchRole"] == {"errors": [], "me": {"activeRole": {"organization": {"code": "MOE-TAVANIR"}}}}
    assert [e["node"]["code"] for e in sara.data(units)["organizations"]["edges"]] == ["MOE-TAVANIR"]
    assert sara.data("{ me { activeRole { organization { code } } } }")["me"]["activeRole"]["organization"] == {
        "code": "MOE-TAVANIR"
    }
    # And back.
    assert sara.data(SWITCH, {"i": {"roleAssignment": _role_id(SARA, "MOE-HQ")}})["switchRole"]["errors"] == []
    assert [e["node"]["code"] for e in sara.data(units)["organizations"]["edges"]] == ["MOE-HQ"]


def test_switching_to_someone_elses_role_changes_nothing(demo):
    sara = GraphQLClient()
    _login(sara, SARA)
    for role_id, code in (
        (_role_id(ALI, "MOE"), "NOT_FOUND"),
        (encode_global_id("RoleAssignment", 10**6), "NOT_FOUND"),
        (encode_global_id("Organization", 1), "INVALID_ID"),
        ("not an id", "INVALID_ID"),
    ):
        refused = sara.data(SWITCH, {"i": {"roleAssignment": role_id}})["switchRole"]
        assert refused["me"] is None and [(e["field"], e["code"]) for e in refused["errors"]] == [
            ("roleAssignment", code)
        ]
    assert sara.data("{ me { activeRole { organization { code } } } }")["me"]["activeRole"]["organization"] == {
        "code": "MOE-HQ"
    }
    assert GraphQLClient().error_codes(SWITCH, {"i": {"roleAssignment": _role_id(SARA, "MOE-TAVANIR")}}) == [
        "UNAUTHENTICATED"
    ]


@pytest.mark.parametrize("document", [REQUEST_OTP, LOGIN_WITH_OTP, FORGOT])
def test_identity_mutations_refuse_bad_input_with_codes(demo, gql, document):
    result = gql.execute(document, {"i": {"nationalCode": 5}})
    assert {e["extensions"]["code"] for e in result["errors"]} == {"BAD_USER_INPUT"}
