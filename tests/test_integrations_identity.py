"""The civil registry and Shahkar adapters: offline from the demo people file, and over HTTP against
a stub service (answers, retries on 5xx, timeouts, garbage, credentials kept out of logs)."""

from __future__ import annotations

import datetime
import json
import logging
import os
import traceback

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations.identity import (
    BirthDateMismatch,
    IdentityServiceError,
    RegistryPerson,
    civil_registry,
    shahkar,
)
from models.identity import is_valid_national_code
from models.jalali import parse_jalali
from models.requests import RegistrationRequest
from models.users import User
from tests.http_stub import Reply, StubServer, closed_port_url

HAMIDREZA = RegistryPerson(
    national_code="0091537525",
    first_name="حمیدرضا",
    last_name="قهرمانی",
    birth_date=parse_jalali("1368/05/21"),
)
TOKEN = "registry-bearer-TOKEN-8841"
FOUND = {
    "result": "FOUND",
    "person": {
        "national_code": "0091537525",
        "first_name": "حمیدرضا",
        "last_name": "قهرمانی",
        "birth_date": "1989-08-12",
    },
}


# --- offline (the demo people file) -------------------------------------------------------------


def test_a_known_person_is_found_by_national_code_and_birth_date():
    assert HAMIDREZA.birth_date == datetime.date(1989, 8, 12)
    assert civil_registry().lookup(national_code="0091537525", birth_date=datetime.date(1989, 8, 12)) == HAMIDREZA
    assert civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21") == HAMIDREZA
    assert civil_registry().lookup(national_code="0091537525", birth_date="1989-08-12") == HAMIDREZA


def test_persian_digits_are_accepted_everywhere():
    assert civil_registry().lookup(national_code="۰۰۹۱۵۳۷۵۲۵", birth_date="۱۳۶۸/۰۵/۲۱") == HAMIDREZA
    assert civil_registry().lookup(national_code="٠٠٩١٥٣٧٥٢٥ ", birth_date="١٣٦٨-٠٥-٢١") == HAMIDREZA
    assert shahkar().matches(national_code="۰۰۹۱۵۳۷۵۲۵", mobile="۰۹۱۲۱۱۱۲۲۳۳")
    assert shahkar().matches(national_code="0091537525", mobile="+98 912 111 2233")


def test_a_wrong_birth_date_is_told_apart_from_an_unknown_person():
    with pytest.raises(BirthDateMismatch):
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/22")
    # A valid national code nobody in the registry has.
    assert is_valid_national_code("0044556675")
    assert civil_registry().lookup(national_code="0044556675", birth_date="1368/05/21") is None
    # Not a national code at all (check digit, length, letters).
    for code in ("0091537526", "007123456", "abc", ""):
        assert civil_registry().lookup(national_code=code, birth_date="1368/05/21") is None


def test_iso_birth_dates_in_the_file_match_jalali_questions():
    person = civil_registry().lookup(national_code="0087654326", birth_date="1370/12/24")
    assert (person.first_name, person.last_name, person.birth_date) == ("نیلوفر", "کاظمی", datetime.date(1992, 3, 14))


def test_a_malformed_birth_date_is_a_value_error():
    for value in ("1368/13/01", "12 August 1989", "1368/05"):
        with pytest.raises(ValueError):
            civil_registry().lookup(national_code="0091537525", birth_date=value)


def test_shahkar_matches_only_the_owner_of_the_line():
    assert shahkar().matches(national_code="0091537525", mobile="09121112233") is True
    # Someone else's line, an unknown person, a malformed number.
    assert shahkar().matches(national_code="0091537525", mobile="09120000011") is False
    assert shahkar().matches(national_code="0044556675", mobile="09121112233") is False
    assert shahkar().matches(national_code="0091537525", mobile="0212345678") is False


def test_the_demo_people_file_agrees_with_the_demo(demo):
    """Every demo user and registration request is in the file, under the same name and mobile."""
    with open(os.path.join(os.path.dirname(__file__), "..", "integrations", "identity", "demo_people.json")) as file:
        rows = {row["national_code"]: row for row in json.load(file)}
    people = [(u.national_code, u.first_name, u.last_name, u.mobile, None) for u in User.objects.all()]
    people += [
        (r.national_code, r.first_name, r.last_name, r.mobile, r.birth_date) for r in RegistrationRequest.objects.all()
    ]
    for code, first, last, mobile, born in people:
        assert (rows[code]["first_name"], rows[code]["last_name"], rows[code]["mobile"]) == (first, last, mobile)
        assert shahkar().matches(national_code=code, mobile=mobile)
        if born:
            assert civil_registry().lookup(national_code=code, birth_date=born).last_name == last
    # The new applicants: nobody in the demo has their codes or mobiles.
    for code, mobile in [("0091537525", "09121112233"), ("0087654326", "09121112244"), ("0071234561", "09121112266")]:
        assert is_valid_national_code(code)
        assert not User.objects.filter(national_code=code).exists()
        assert not User.objects.filter(mobile=mobile).exists()
        assert not RegistrationRequest.objects.filter(mobile=mobile).exists()
        assert shahkar().matches(national_code=code, mobile=mobile)
    assert all(is_valid_national_code(code) for code in rows)


def test_another_people_file_is_read_and_reread_when_it_changes(settings, tmp_path):
    path = tmp_path / "people.json"
    path.write_text(
        json.dumps(
            [{"national_code": "۰۰۴۴۵۵۶۶۷۵", "first_name": "آزاده", "last_name": "نیک", "birth_date": "1990-01-02"}]
        ),
        encoding="utf-8",
    )
    settings.MANA_IDENTITY_FIXTURE = path
    assert civil_registry().lookup(national_code="0044556675", birth_date="1990-01-02").first_name == "آزاده"
    # No mobile in the file: Shahkar matches no line.
    assert shahkar().matches(national_code="0044556675", mobile="09121112233") is False
    assert civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21") is None

    path.write_text(
        json.dumps(
            [{"national_code": "0044556675", "first_name": "آزاده", "last_name": "نیکو", "birth_date": "1368/10/12"}]
        ),
        encoding="utf-8",
    )
    os.utime(path, ns=(1, 10**18))
    assert civil_registry().lookup(national_code="0044556675", birth_date="1368/10/12").last_name == "نیکو"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"national_code": "0044556675"}',
        '[{"national_code": "0044556676", "first_name": "a", "last_name": "b", "birth_date": "1368/01/01"}]',
        '[{"national_code": "0044556675", "first_name": "a", "birth_date": "1368/01/01"}]',
        '[{"national_code": "0044556675", "first_name": "a", "last_name": "b", "birth_date": "yesterday"}]',
    ],
)
def test_an_unusable_people_file_is_a_service_error(settings, tmp_path, content):
    path = tmp_path / "people.json"
    path.write_text(content, encoding="utf-8")
    settings.MANA_IDENTITY_FIXTURE = path
    with pytest.raises(IdentityServiceError, match="identity fixture"):
        civil_registry().lookup(national_code="0044556675", birth_date="1368/01/01")
    with pytest.raises(IdentityServiceError, match="identity fixture"):
        shahkar().matches(national_code="0044556675", mobile="09121112233")


def test_a_missing_people_file_is_a_service_error(settings, tmp_path):
    settings.MANA_IDENTITY_FIXTURE = tmp_path / "nowhere.json"
    with pytest.raises(IdentityServiceError, match="cannot be read"):
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")


def test_an_unknown_backend_is_a_configuration_error(settings):
    settings.MANA_IDENTITY_BACKEND = "soap"
    with pytest.raises(ImproperlyConfigured):
        civil_registry()
    with pytest.raises(ImproperlyConfigured):
        shahkar()


# --- over HTTP, against a stub service ------------------------------------------------------------


@pytest.fixture
def service(settings):
    settings.MANA_IDENTITY_BACKEND = "http"
    settings.MANA_CIVIL_REGISTRY_TOKEN = TOKEN
    settings.MANA_SHAHKAR_TOKEN = TOKEN
    settings.MANA_IDENTITY_CONNECT_TIMEOUT = 0.5
    settings.MANA_IDENTITY_READ_TIMEOUT = 0.2
    settings.MANA_IDENTITY_RETRIES = 2
    settings.MANA_IDENTITY_RETRY_BACKOFF = 0
    with StubServer() as stub:
        settings.MANA_CIVIL_REGISTRY_URL = f"{stub.url}/registry/lookup"
        settings.MANA_SHAHKAR_URL = f"{stub.url}/shahkar/match"
        yield stub


def assert_clean(caplog, exc: BaseException | None = None) -> None:
    printed = caplog.text + "".join(r.getMessage() for r in caplog.records)
    if exc is not None:
        # Raised `from None`: a traceback shows no underlying exception (with a URL or a body).
        assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
        printed += "".join(traceback.format_exception_only(exc)) + repr(exc)
    for secret in (TOKEN, "0091537525", "09121112233"):
        assert secret not in printed


def test_http_lookup_found(service, caplog):
    caplog.set_level(logging.DEBUG)
    service.reply(Reply(200, FOUND))
    assert civil_registry().lookup(national_code="۰۰۹۱۵۳۷۵۲۵", birth_date="1368/05/21") == HAMIDREZA
    (request,) = service.requests
    assert request.path == "/registry/lookup"
    assert request.json() == {"national_code": "0091537525", "birth_date": "1989-08-12"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert_clean(caplog)


def test_http_lookup_not_found_and_birth_date_mismatch(service):
    service.reply(Reply(200, {"result": "NOT_FOUND"}))
    assert civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21") is None
    service.reply(Reply(200, {"result": "BIRTH_DATE_MISMATCH"}))
    with pytest.raises(BirthDateMismatch):
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")


def test_http_lookup_of_a_malformed_national_code_asks_nobody(service):
    assert civil_registry().lookup(national_code="0091537526", birth_date="1368/05/21") is None
    assert shahkar().matches(national_code="0091537526", mobile="09121112233") is False
    assert shahkar().matches(national_code="0091537525", mobile="021") is False
    assert service.requests == []


def test_http_lookup_retries_a_5xx(service):
    service.reply(Reply(503, "<html>busy</html>"), Reply(502, "bad gateway"), Reply(200, FOUND))
    assert civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21") == HAMIDREZA
    assert len(service.requests) == 3


def test_http_lookup_gives_up_after_the_retries(service, caplog):
    service.reply(Reply(503, "<html>busy</html>"))
    with pytest.raises(IdentityServiceError) as raised:
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")
    assert str(raised.value) == "civil registry: answered HTTP 503"
    assert len(service.requests) == 3
    assert_clean(caplog, raised.value)


def test_http_refusal_statuses_are_not_retried(service):
    service.reply(Reply(401, {"error": "bad token"}))
    with pytest.raises(IdentityServiceError, match="answered HTTP 401"):
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")
    assert len(service.requests) == 1


def test_http_lookup_timeout(service, caplog):
    caplog.set_level(logging.DEBUG)
    service.reply(Reply(200, FOUND, delay=0.6))
    with pytest.raises(IdentityServiceError) as raised:
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")
    assert str(raised.value) == "civil registry: no answer in time after 3 tries (connect 0.5 s, read 0.2 s each)"
    assert len(service.requests) == 3
    assert_clean(caplog, raised.value)


def test_http_timeout_then_answer(service):
    service.reply(Reply(200, FOUND, delay=0.6), Reply(200, {"match": True}))
    assert shahkar().matches(national_code="0091537525", mobile="09121112233") is True
    assert len(service.requests) == 2


def test_http_unreachable(service, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.MANA_CIVIL_REGISTRY_URL = f"{closed_port_url()}/registry/lookup"
    with pytest.raises(IdentityServiceError) as raised:
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")
    assert str(raised.value).startswith("civil registry: unreachable: ConnectionError")
    assert_clean(caplog, raised.value)


def test_http_url_not_configured(service, settings):
    settings.MANA_SHAHKAR_URL = ""
    with pytest.raises(IdentityServiceError, match="Shahkar: its URL is not configured"):
        shahkar().matches(national_code="0091537525", mobile="09121112233")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, "<html>login page</html>"),
        Reply(200, [FOUND]),
        Reply(200, {"result": "MAYBE"}),
        Reply(200, {"result": "FOUND"}),
        Reply(200, {"result": "FOUND", "person": {"national_code": "0091537525"}}),
        Reply(200, {"result": "FOUND", "person": {**FOUND["person"], "national_code": "0087654326"}}),
        Reply(200, {"result": "FOUND", "person": {**FOUND["person"], "birth_date": "1989-08-13"}}),
        Reply(200, {"result": "FOUND", "person": {**FOUND["person"], "birth_date": "1368/05/21"}}),
        Reply(200, {"result": "FOUND", "person": {**FOUND["person"], "first_name": " "}}),
    ],
)
def test_http_lookup_garbage(service, caplog, reply):
    service.reply(reply)
    with pytest.raises(IdentityServiceError, match="civil registry: unusable answer") as raised:
        civil_registry().lookup(national_code="0091537525", birth_date="1368/05/21")
    assert len(service.requests) == 1
    assert_clean(caplog, raised.value)


def test_http_shahkar_match_and_mismatch(service, caplog):
    caplog.set_level(logging.DEBUG)
    service.reply(Reply(200, {"match": True}), Reply(200, {"match": False}))
    assert shahkar().matches(national_code="0091537525", mobile="+989121112233") is True
    assert shahkar().matches(national_code="0091537525", mobile="09120000011") is False
    assert [r.json() for r in service.requests] == [
        {"national_code": "0091537525", "mobile": "09121112233"},
        {"national_code": "0091537525", "mobile": "09120000011"},
    ]
    assert service.requests[0].path == "/shahkar/match"
    assert_clean(caplog)


@pytest.mark.parametrize("body", [{"match": "yes"}, {"match": 1}, {}, "true", None])
def test_http_shahkar_garbage(service, body):
    service.reply(Reply(200, body))
    with pytest.raises(IdentityServiceError, match="Shahkar: unusable answer"):
        shahkar().matches(national_code="0091537525", mobile="09121112233")


def test_http_shahkar_retries_a_5xx_and_times_out(service):
    service.reply(Reply(500, "oops"), Reply(200, {"match": True}))
    assert shahkar().matches(national_code="0091537525", mobile="09121112233") is True
    service.reply(Reply(200, {"match": True}, delay=0.6))
    with pytest.raises(IdentityServiceError, match="Shahkar: no answer in time"):
        shahkar().matches(national_code="0091537525", mobile="09121112233")
