"""Bad input through the real endpoint: every refusal has a code and a Persian message, never a
500 or a traceback, and changes nothing. Plus unit tests of the parsing it relies on
(national code, mobile, Persian text folding, Jalali dates and the JalaliDate scalar).

No query or mutation takes a JalaliDate argument yet, so the scalar's parsing is tested through
its parse functions and its serialization through ``EvaluationPeriod.startDate``.
"""

from __future__ import annotations

import base64
import datetime
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from graphql import StringValueNode

from models.identity import (
    is_valid_national_code,
    normalize_mobile,
    normalize_national_code,
    validate_mobile,
    validate_national_code,
)
from models.jalali import format_jalali, parse_jalali
from models.organization import Organization
from models.text import normalize_for_search, to_latin_digits
from models.users import User
from schema.errors import ManaError
from schema.ids import encode_global_id
from schema.scalars import _parse_jalali, _parse_jalali_literal

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

PERSIAN = re.compile(r"[\u0600-\u06FF]")
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages", '.py", line')


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assert_clean_errors(result: dict) -> None:
    """Every error has a code and a Persian message, and nothing of a traceback leaks."""
    assert result["errors"], result
    for error in result["errors"]:
        assert error["extensions"]["code"], error
        assert PERSIAN.search(error["message"]), error
    text = json.dumps(result)
    for marker in TRACEBACK_MARKERS:
        assert marker not in text


def gid(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def org_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_id",
    ["abc", "", "!!!", gid("Organization"), gid("Organization:x"), gid("Organization:-1"), gid("Organization:0")],
)
def test_malformed_global_id_is_invalid_id(gql, demo, bad_id):
    gql.login("0010000021")
    result = gql.execute("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_ID"]
    assert result["data"] == {"node": None}
    assert_clean_errors(result)
    result = gql.execute("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [org_id("MOE"), bad_id]})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_ID"]
    assert_clean_errors(result)


@pytest.mark.django_db
def test_id_of_an_unknown_type_is_invalid_id(gql, demo):
    gql.login("0010000021")
    assert gql.error_codes("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Invoice:1")}) == ["INVALID_ID"]


@pytest.mark.django_db
def test_id_of_the_wrong_type_is_invalid_id(gql, demo):
    gql.login("0010000011")
    province = encode_global_id("Province", 24)
    result = gql.execute("query($p: ID) { organizations(parent: $p) { totalCount } }", {"p": province})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_ID"]
    assert result["errors"][0]["message"] == f"شناسه «{province}» از نوع دستگاه نیست."
    assert result["data"] is None
    moe = org_id("MOE")
    assert gql.error_codes("query($p: ID) { organizations(province: $p) { totalCount } }", {"p": moe}) == ["INVALID_ID"]
    assert gql.error_codes(
        "query($id: ID!, $p: ID!) { node(id: $id) { ... on Organization { assignments(period: $p) { totalCount } } } }",
        {"id": moe, "p": moe},
    ) == ["INVALID_ID"]


@pytest.mark.django_db
def test_unknown_id_is_null_without_error(gql, demo):
    gql.login("0010000011")
    missing = encode_global_id("Organization", 987_654)
    assert gql.execute("query($id: ID!) { node(id: $id) { id } }", {"id": missing}) == {"data": {"node": None}}
    assert gql.execute("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [missing, org_id("ARO")]}) == {
        "data": {"nodes": [None, {"id": org_id("ARO")}]}
    }


# --- pagination ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_size_cap_and_cursor_validation(gql, demo):
    gql.login("0010000011")
    for arguments in ("first: 1000", "first: 101", "first: -1", "last: 1000"):
        result = gql.execute("{ organizations(" + arguments + ") { totalCount } }")
        assert [e["extensions"]["code"] for e in result["errors"]] == ["PAGE_SIZE_EXCEEDED"], arguments
        assert_clean_errors(result)
    assert gql.data("{ organizations(first: 100) { totalCount } }")["organizations"]["totalCount"] == 19
    for cursor in ("zzz", gid("arrayconnection:-5"), gid("other:3"), gid("arrayconnection:x")):
        result = gql.execute("query($c: String) { organizations(after: $c) { totalCount } }", {"c": cursor})
        assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_CURSOR"], cursor
        assert_clean_errors(result)
    # Nested connections are capped too.
    codes = gql.error_codes(
        "query($id: ID!) { node(id: $id) { ... on Organization { descendants(first: 500) { totalCount } } } }",
        {"id": org_id("ARO")},
    )
    assert codes == ["PAGE_SIZE_EXCEEDED"]
    # A valid cursor continues where the page ended.
    page = gql.data("{ organizations(first: 2) { edges { node { code } } pageInfo { endCursor hasNextPage } } }")
    assert [e["node"]["code"] for e in page["organizations"]["edges"]] == ["ARO", "MOA"]
    after = page["organizations"]["pageInfo"]["endCursor"]
    page = gql.data(
        "query($c: String) { organizations(first: 1, after: $c) { edges { node { code } } } }", {"c": after}
    )
    assert [e["node"]["code"] for e in page["organizations"]["edges"]] == ["MOA-ESF"]


# --- login ---------------------------------------------------------------------------------------

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { errors { field code message } me { user { nationalCode } } } }"


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["0010000012", "123", "abcdefghij", "1111111111", "00100000111"])
def test_login_with_an_invalid_national_code(gql, demo, code):
    result = gql.data(LOGIN, {"i": {"nationalCode": code, "password": "mana-demo-1402", "captcha": PASSED}})
    assert result["login"] == {
        "errors": [{"field": "nationalCode", "code": "INVALID_NATIONAL_CODE", "message": "کد ملی معتبر نیست."}],
        "me": None,
    }
    assert gql.error_codes("{ me { user { id } } }") == ["UNAUTHENTICATED"]
    assert "_auth_user_id" not in gql.http.session


@pytest.mark.django_db
def test_login_with_a_wrong_password_stays_anonymous(gql, demo):
    last_login = User.objects.get(national_code="0010000021").last_login
    result = gql.data(LOGIN, {"i": {"nationalCode": "0010000021", "password": "wrong", "captcha": PASSED}})
    assert result["login"] == {
        "errors": [{"field": None, "code": "INVALID_CREDENTIALS", "message": "کد ملی یا رمز عبور نادرست است."}],
        "me": None,
    }
    # An unknown (but valid) national code gets the very same answer.
    unknown = gql.data(LOGIN, {"i": {"nationalCode": "0499370899", "password": "mana-demo-1402", "captcha": PASSED}})
    assert unknown == result
    assert gql.error_codes("{ me { user { id } } }") == ["UNAUTHENTICATED"]
    assert gql.error_codes("{ organizations { totalCount } }") == ["UNAUTHENTICATED"]
    assert User.objects.get(national_code="0010000021").last_login == last_login
    # Persian digits in the national code are accepted.
    ok = gql.data(LOGIN, {"i": {"nationalCode": "۰۰۱۰۰۰۰۰۲۱", "password": "mana-demo-1402", "captcha": PASSED}})
    assert ok["login"] == {"errors": [], "me": {"user": {"nationalCode": "0010000021"}}}


# --- malformed documents and requests ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ organizations( { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ nosuchfield }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ organizations(first: "x") { totalCount } }', None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { node(id: $id) { id } }", None, "BAD_USER_INPUT"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": {"a": 1}}, "BAD_USER_INPUT"),
        (LOGIN, {"i": {"nationalCode": 5}}, "BAD_USER_INPUT"),
        (
            "{ organizations { edges { node { " + "children { " * 15 + "code" + " }" * 15 + " } } } }",
            None,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ],
)
def test_malformed_documents_get_a_code_never_a_500(gql, demo, query, variables, code):
    gql.login("0010000021")
    response = gql.post(query, variables)
    assert response.status_code in (200, 400)
    result = response.json()
    assert {e["extensions"]["code"] for e in result["errors"]} == {code}
    assert result.get("data") is None
    assert_clean_errors(result)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("not json", "application/json"),
        ("{}", "application/json"),
        ('{"query": 5}', "application/json"),
        ('{"query": "{ me { user { id } } }"}', "text/plain"),
    ],
)
def test_malformed_http_requests_answer_in_the_error_format(body, content_type):
    response = Client().post("/graphql/", data=body, content_type=content_type)
    assert response.status_code == 400
    result = response.json()
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert_clean_errors(result)


@pytest.mark.django_db
def test_mutation_over_get_is_refused_and_changes_nothing(gql, demo):
    gql.login("0010000021")
    response = gql.http.get("/graphql/", {"query": "mutation { logout { errors { code } } }"})
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
    assert gql.data("{ me { user { nationalCode } } }")["me"]["user"]["nationalCode"] == "0010000021"


# --- search folding through the API --------------------------------------------------------------


@pytest.mark.django_db
def test_search_folds_arabic_letters_and_digits(gql, demo):
    gql.login("0010000021")
    # «ستاد وزارت نيرو» typed with Arabic yeh (U+064A).
    for search in ("ستاد وزارت نيرو", "ستاد وزارت نیرو", "  ستاد   نيرو ", "moe-hq", "MOE-HQ"):
        data = gql.data("query($s: String) { organizations(search: $s) { edges { node { name } } } }", {"s": search})
        assert [e["node"]["name"] for e in data["organizations"]["edges"]] == ["ستاد وزارت نیرو"], search
    # Arabic kaf (U+0643) in «شرکت».
    data = gql.data('{ organizations(search: "شركت توزيع") { totalCount edges { node { code } } } }')
    assert data["organizations"]["totalCount"] == 2
    assert {e["node"]["code"] for e in data["organizations"]["edges"]} == {"MOE-TAVANIR-THR", "MOE-TAVANIR-ESF"}
    assert gql.data('{ organizations(search: "کشاورزی") { totalCount } }')["organizations"]["totalCount"] == 0


# --- JalaliDate serialization through the API ----------------------------------------------------


@pytest.mark.django_db
def test_jalali_dates_serialize_with_latin_digits(gql, demo):
    gql.login("0010000054")
    data = gql.data("{ periods { startDate endDate } }")
    assert data["periods"] == [{"startDate": "1402/10/10", "endDate": "1402/11/29"}]


# --- unit tests: identity, text, Jalali, the scalar ------------------------------------------------


@pytest.mark.parametrize("code", ["0010000011", "0010000021", "0032054009", "0499370899", "۰۰۱۰۰۰۰۰۱۱", "٠٠١٠٠٠٠٠١١"])
def test_valid_national_codes(code):
    assert is_valid_national_code(normalize_national_code(code))
    validate_national_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "0010000012",
        "0010000010",
        "1111111111",
        "0000000000",
        "9999999999",
        "123456789",
        "00100000111",
        "abcdefghij",
        "",
    ],
)
def test_invalid_national_codes(code):
    assert not is_valid_national_code(normalize_national_code(code))
    with pytest.raises(ValidationError) as raised:
        validate_national_code(code)
    assert raised.value.code == "INVALID_NATIONAL_CODE"
    assert raised.value.messages == ["کد ملی معتبر نیست."]


def test_national_code_normalization():
    assert normalize_national_code("۰۰۱۰۰۰۰۰۱۱") == "0010000011"
    assert normalize_national_code(" 001-000001-1 ") == "0010000011"


@pytest.mark.parametrize(
    "mobile",
    ["09121234567", "+989121234567", "00989121234567", "989121234567", "9121234567", "۰۹۱۲۱۲۳۴۵۶۷", "0912 123 4567"],
)
def test_mobile_normalization(mobile):
    assert normalize_mobile(mobile) == "09121234567"
    validate_mobile(mobile)


@pytest.mark.parametrize("mobile", ["0912123456", "08121234567", "+9891212345678", "abc", "", "02181000000"])
def test_invalid_mobiles(mobile):
    with pytest.raises(ValidationError) as raised:
        validate_mobile(mobile)
    assert raised.value.code == "INVALID_MOBILE"


def test_text_folding():
    assert normalize_for_search("نيرو") == "نیرو"
    assert normalize_for_search("كيفيت") == "کیفیت"
    assert normalize_for_search("ستاد  وزارت\u200cنيرو ") == "ستاد وزارت نیرو"
    assert normalize_for_search("سال ۱۴۰۲ و ٢٠٢٣ ABC") == "سال 1402 و 2023 abc"
    assert to_latin_digits("۱۴۰۲/۱۰/۱۰") == "1402/10/10"
    # Folding is idempotent: stored names and queries meet in one form.
    assert normalize_for_search(normalize_for_search("كيفيت ي")) == normalize_for_search("كيفيت ي")


@pytest.mark.parametrize(
    ("text", "gregorian"),
    [
        ("1402/10/10", datetime.date(2023, 12, 31)),
        ("1402-10-10", datetime.date(2023, 12, 31)),
        ("۱۴۰۲/۱۰/۱۰", datetime.date(2023, 12, 31)),
        ("1403/12/30", datetime.date(2025, 3, 20)),
        ("1402/1/1", datetime.date(2023, 3, 21)),
    ],
)
def test_valid_jalali_dates(text, gregorian):
    assert parse_jalali(text) == gregorian
    assert _parse_jalali(text) == gregorian
    assert _parse_jalali_literal(StringValueNode(value=text)) == gregorian


@pytest.mark.parametrize(
    "text", ["1404/12/30", "1402/13/01", "1402/00/10", "1402/07/31", "abc", "", "1402/10", "14021010"]
)
def test_invalid_jalali_dates(text):
    with pytest.raises(ValidationError) as raised:
        parse_jalali(text)
    assert raised.value.code == "INVALID_DATE"
    with pytest.raises(ManaError) as raised_scalar:
        _parse_jalali(text)
    assert raised_scalar.value.extensions == {"code": "INVALID_DATE"}
    assert PERSIAN.search(raised_scalar.value.message)


def test_jalali_scalar_refuses_non_strings():
    with pytest.raises(ManaError) as raised:
        _parse_jalali(14021010)
    assert raised.value.extensions == {"code": "INVALID_DATE"}


def test_format_jalali_round_trip():
    assert format_jalali(datetime.date(2023, 12, 31)) == "1402/10/10"
    assert format_jalali(parse_jalali("۱۴۰۳/۱۲/۳۰")) == "1403/12/30"
