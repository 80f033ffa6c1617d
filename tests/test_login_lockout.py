"""Password guessing: lockout per account and per address, one login per document (issue 7 §3).

Through the real endpoints: the GraphQL ``login`` over HTTP and the admin console's login form.
Each test starts with no recorded attempt (the database is rolled back between tests).
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection, connections
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext

from models.users import User
from tests.conftest import GraphQLClient

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

pytestmark = pytest.mark.django_db

CODE = "0010000021"
PERSIAN_CODE = "۰۰۱۰۰۰۰۰۲۱"
PASSWORD = "a-long-and-right-password-1402"
LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  errors { field code message } retryAfter me { user { nationalCode } } } }"""
COOL_OFF_MINUTES = 15  # the defaults of MANA_LOGIN_COOLOFF_MINUTES,
ACCOUNT_LIMIT = 5  # MANA_LOGIN_FAILURE_LIMIT
ADDRESS_LIMIT = 30  # and MANA_LOGIN_ADDRESS_FAILURE_LIMIT


@pytest.fixture(autouse=True)
def default_limits(settings):
    """The defaults, whatever the environment running the tests sets."""
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=COOL_OFF_MINUTES)
    settings.AXES_FAILURE_LIMIT = ACCOUNT_LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT


@pytest.fixture
def person(db) -> User:
    # Staff, so that the same person can sign in to the admin console too.
    return User.objects.create_superuser(CODE, PASSWORD, first_name="زهرا", last_name="احمدی")


def client_at(address: str) -> GraphQLClient:
    return GraphQLClient(Client(REMOTE_ADDR=address))


def login(client: GraphQLClient, code: str, password: str) -> dict:
    result = client.execute(LOGIN, {"i": {"nationalCode": code, "password": password, "captcha": PASSED}})
    assert "errors" not in result, result
    return result["data"]["login"]


def code_of(result: dict) -> str | None:
    return result["errors"][0]["code"] if result["errors"] else None


def signed_in(client: GraphQLClient) -> bool:
    return "_auth_user_id" in client.http.session


def failures(**filters) -> int:
    return sum(AccessAttempt.objects.filter(**filters).values_list("failures_since_start", flat=True))


def national_code(serial: int) -> str:
    """A national code with a valid check digit (nobody's: they need not exist to be tried)."""
    head = f"{serial:09d}"
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(head)) % 11
    return head + str(remainder if remainder < 2 else 11 - remainder)


def age_attempts(minutes: float) -> None:
    """Move every recorded failure back in time, as if that much time had passed."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - datetime.timedelta(minutes=minutes)
        )


def lock_account(client: GraphQLClient) -> dict:
    for _ in range(ACCOUNT_LIMIT - 1):
        assert code_of(login(client, CODE, "wrong")) == "INVALID_CREDENTIALS"
    return login(client, CODE, "wrong")


# --- the account ---------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused_too(person):
    gql = client_at("10.0.0.1")
    last_login = User.objects.get(pk=person.pk).last_login

    locking = lock_account(gql)
    assert locking["errors"] == [
        {
            "field": None,
            "code": "LOGIN_LOCKED_OUT",
            "message": "به‌دلیل چند تلاش ناموفق پیاپی، ورود با این کد ملی موقتاً بسته شده است؛ "
            "۱۵ دقیقهٔ دیگر دوباره تلاش کنید.",
        }
    ]
    assert COOL_OFF_MINUTES * 60 - 5 <= locking["retryAfter"] <= COOL_OFF_MINUTES * 60
    assert locking["me"] is None

    # The right password, in either digit form and from any address, no longer signs in.
    for client, code in ((gql, CODE), (client_at("10.0.0.2"), PERSIAN_CODE)):
        refused = login(client, code, PASSWORD)
        assert code_of(refused) == "LOGIN_LOCKED_OUT"
        assert "دقیقه" in refused["errors"][0]["message"]
        assert refused["me"] is None
        assert not signed_in(client)
    assert User.objects.get(pk=person.pk).last_login == last_login
    # Refused attempts are not counted again: the wait announced is the wait that holds.
    assert failures(username=CODE) == ACCOUNT_LIMIT


def test_the_lockout_counts_down_and_lifts_after_the_cool_off(person):
    gql = client_at("10.0.0.1")
    lock_account(gql)

    age_attempts(minutes=10)
    later = login(gql, CODE, PASSWORD)
    assert code_of(later) == "LOGIN_LOCKED_OUT"
    assert "۵ دقیقهٔ دیگر" in later["errors"][0]["message"]
    assert 5 * 60 - 5 <= later["retryAfter"] <= 5 * 60

    age_attempts(minutes=5)
    assert login(gql, CODE, PASSWORD) == {"errors": [], "retryAfter": None, "me": None}
    assert signed_in(gql)
    # The success forgave this account's failures from this address.
    assert failures(username=CODE) == 0


def test_a_success_before_the_limit_starts_the_count_again(person):
    gql = client_at("10.0.0.1")
    for _ in range(ACCOUNT_LIMIT - 1):
        assert code_of(login(gql, CODE, "wrong")) == "INVALID_CREDENTIALS"
    assert login(gql, CODE, PASSWORD)["errors"] == []
    for _ in range(ACCOUNT_LIMIT - 1):
        assert code_of(login(gql, CODE, "wrong")) == "INVALID_CREDENTIALS"
    assert login(gql, CODE, PASSWORD)["errors"] == []


def test_guesses_spread_over_addresses_still_lock_the_account(person):
    for i in range(ACCOUNT_LIMIT - 1):
        assert code_of(login(client_at(f"10.0.1.{i}"), CODE, "wrong")) == "INVALID_CREDENTIALS"
    assert code_of(login(client_at("10.0.1.200"), CODE, "wrong")) == "LOGIN_LOCKED_OUT"
    assert code_of(login(client_at("10.0.1.201"), CODE, PASSWORD)) == "LOGIN_LOCKED_OUT"


# --- the address ---------------------------------------------------------------------------------


def test_an_address_spraying_many_accounts_is_locked_out(person):
    sprayer = client_at("10.0.2.1")
    codes = [national_code(100_000 + i) for i in range(ADDRESS_LIMIT)]
    for code in codes[:-1]:
        assert code_of(login(sprayer, code, "Password1402")) == "INVALID_CREDENTIALS"
    locking = login(sprayer, codes[-1], "Password1402")
    assert locking["errors"][0]["code"] == "LOGIN_LOCKED_OUT"
    assert locking["errors"][0]["message"] == (
        "به‌دلیل تلاش‌های ناموفق پیاپی از این نشانی اینترنتی، ورود از آن موقتاً بسته شده است؛ "
        "۱۵ دقیقهٔ دیگر دوباره تلاش کنید."
    )
    # No account reached its own limit, yet nobody signs in from that address now…
    assert max(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 1
    refused = login(sprayer, CODE, PASSWORD)
    assert code_of(refused) == "LOGIN_LOCKED_OUT"
    assert "نشانی اینترنتی" in refused["errors"][0]["message"]
    assert not signed_in(sprayer)
    # …while the same person signs in from elsewhere.
    elsewhere = client_at("10.0.2.2")
    assert login(elsewhere, CODE, PASSWORD)["errors"] == []
    assert signed_in(elsewhere)


def test_signing_in_to_ones_own_account_does_not_wipe_the_address_count(person, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    sprayer = client_at("10.0.3.1")
    for serial in range(5):
        assert code_of(login(sprayer, national_code(200_000 + serial), "x")) == "INVALID_CREDENTIALS"
    assert login(sprayer, CODE, PASSWORD)["errors"] == []  # the sprayer's own account
    assert code_of(login(sprayer, national_code(200_099), "x")) == "LOGIN_LOCKED_OUT"


# --- the admin console ---------------------------------------------------------------------------


def admin_login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_the_admin_login_shares_the_count_and_is_locked_with_a_persian_page(person):
    browser = Client(REMOTE_ADDR="10.0.4.1")
    gql = client_at("10.0.4.2")
    for _ in range(3):
        assert code_of(login(gql, CODE, "wrong")) == "INVALID_CREDENTIALS"
    # The admin's form, with Persian digits: the same national code, the same counter.
    response = admin_login(browser, PERSIAN_CODE, "wrong")
    assert response.status_code == 200  # the form again, with its error
    response = admin_login(browser, PERSIAN_CODE, "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert 'lang="fa" dir="rtl"' in page
    assert "ورود با این کد ملی موقتاً بسته شده است؛ ۱۵ دقیقهٔ دیگر" in page
    assert COOL_OFF_MINUTES * 60 - 5 <= int(response["Retry-After"]) <= COOL_OFF_MINUTES * 60
    assert failures(username=CODE) == ACCOUNT_LIMIT

    # Locked in both consoles, with the right password.
    response = admin_login(browser, CODE, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert code_of(login(gql, CODE, PASSWORD)) == "LOGIN_LOCKED_OUT"

    age_attempts(minutes=COOL_OFF_MINUTES)
    response = admin_login(browser, CODE, PASSWORD)
    assert response.status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_a_graphql_lockout_is_answered_in_the_graphql_format(person):
    # axes' middleware replaces a locked-out response by its page; the GraphQL answer keeps its
    # format, its data and its status.
    gql = client_at("10.0.5.1")
    lock_account(gql)
    response = gql.post(LOGIN, {"i": {"nationalCode": CODE, "password": PASSWORD, "captcha": PASSED}})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["data"]["login"]["errors"][0]["code"] == "LOGIN_LOCKED_OUT"


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_admin_page_and_the_graphql_answer_are_the_same(person):
    # Under daphne the middleware chain is async, and axes' middleware calls the lockout page
    # with other arguments there; the answers must not change.
    browser = AsyncClient()
    try:
        for _ in range(ACCOUNT_LIMIT):
            response = await browser.post("/admin/login/?next=/admin/", {"username": CODE, "password": "wrong"})
        assert response.status_code == 429
        assert "ورود با این کد ملی موقتاً بسته شده است؛ ۱۵ دقیقهٔ دیگر" in response.content.decode()
        assert int(response["Retry-After"]) > COOL_OFF_MINUTES * 60 - 5

        body = {"query": LOGIN, "variables": {"i": {"nationalCode": CODE, "password": PASSWORD, "captcha": PASSED}}}
        response = await browser.post("/graphql/", data=json.dumps(body), content_type="application/json")
        assert response.status_code == 200
        (error,) = response.json()["data"]["login"]["errors"]
        assert error["code"] == "LOGIN_LOCKED_OUT"
        assert "۱۵ دقیقهٔ دیگر" in error["message"]
    finally:
        # The test client leaves its sync thread's connection open; PostgreSQL's test database
        # could not be dropped at the end.
        await sync_to_async(connections.close_all)()


# --- cost and timing -----------------------------------------------------------------------------


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password hash computed (tests hash with MD5, see conftest): checks and dummy runs."""
    calls: list[str] = []
    verify, encode = MD5PasswordHasher.verify, MD5PasswordHasher.encode

    def counting_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counting_encode(self, password, salt):
        calls.append("encode")
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    return calls


def test_a_locked_out_attempt_costs_no_password_hash(person, hashes):
    gql = client_at("10.0.6.1")
    lock_account(gql)
    hashes.clear()
    assert code_of(login(gql, CODE, PASSWORD)) == "LOGIN_LOCKED_OUT"
    assert code_of(login(gql, CODE, "wrong")) == "LOGIN_LOCKED_OUT"
    assert hashes == []


def test_a_locked_out_address_costs_no_password_hash_either(person, hashes, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    sprayer = client_at("10.0.6.2")
    for serial in range(3):
        login(sprayer, national_code(300_000 + serial), "x")
    hashes.clear()
    for code in (CODE, national_code(300_050)):
        assert code_of(login(sprayer, code, PASSWORD)) == "LOGIN_LOCKED_OUT"
    assert hashes == []


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent transactions need PostgreSQL (SQLite's shared test cache locks)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counter", ["account", "address"])
def test_concurrent_guesses_get_no_more_password_checks_than_the_limit(person, hashes, monkeypatch, settings, counter):
    # Each attempt is counted before its password is checked: guesses sent all at once cannot all
    # pass the check before any is counted (they did: 20 parallel guesses, 20 checks, limit 5).
    counting_encode = MD5PasswordHasher.encode

    def slow_encode(self, password, salt):
        time.sleep(0.2)  # a real hash takes about a second: all guesses are in flight together
        return counting_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", slow_encode)
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ACCOUNT_LIMIT + 1
    limit = ACCOUNT_LIMIT if counter == "account" else settings.LOGIN_ADDRESS_FAILURE_LIMIT

    def attempt(n: int) -> tuple[GraphQLClient, str]:
        if counter == "account":  # one national code from many addresses
            return client_at(f"10.0.12.{n}"), CODE
        return client_at("10.0.13.1"), national_code(500_000 + n)  # many codes from one address

    guesses = 3 * limit
    start = threading.Barrier(guesses)

    def guess(n: int) -> str:
        client, code = attempt(n)
        start.wait()
        try:
            return code_of(login(client, code, f"guess{n}"))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(guesses) as pool:
        answers = list(pool.map(guess, range(guesses)))
    assert set(answers) <= {"INVALID_CREDENTIALS", "LOGIN_LOCKED_OUT"}
    # A check hashes through "encode", as the dummy run for an unknown code does.
    checked = hashes.count("encode")
    assert 1 <= checked <= limit
    # Every password checked is counted; no refused attempt is.
    assert failures() == checked


def test_an_unknown_national_code_costs_what_a_known_one_costs(person, hashes):
    # Timing: Django's ModelBackend hashes the password once for an unknown national code too, and
    # axes counts by the code typed, not by the person: same hashes, same statements.
    costs = []
    for code, address in ((CODE, "10.0.7.1"), (national_code(400_000), "10.0.7.2")):
        gql = client_at(address)
        hashes.clear()
        with CaptureQueriesContext(connection) as queries:
            assert code_of(login(gql, code, "wrong")) == "INVALID_CREDENTIALS"
        # A check ("verify") hashes through "encode", as the dummy run for an unknown code does.
        costs.append((hashes.count("encode"), len(queries)))
    assert costs[0] == costs[1]
    assert costs[0][0] == 1


# --- one login per document ----------------------------------------------------------------------

ALIASED = """mutation($i: LoginInput!, $j: LoginInput!) {
  a: login(input: $i) { errors { code } } b: login(input: $j) { errors { code } } }"""
THROUGH_FRAGMENTS = """mutation($i: LoginInput!, $j: LoginInput!) {
  ...Guess ... on Mutation { b: login(input: $j) { errors { code } } } }
fragment Guess on Mutation { a: login(input: $i) { errors { code } } }"""
THIRTY = (
    "mutation {"
    + " ".join(
        f'g{n}: login(input: {{nationalCode: "{CODE}", password: "guess{n}", captcha: {{key: "-", value: "PASSED"}}}})'
        " { errors { code } }"
        for n in range(30)
    )
    + " }"
)


@pytest.mark.parametrize("document", [ALIASED, THROUGH_FRAGMENTS, THIRTY], ids=["aliases", "fragments", "thirty"])
def test_more_than_one_login_in_a_document_is_refused_before_anything_runs(person, document):
    gql = client_at("10.0.8.1")
    variables = {
        "i": {"nationalCode": CODE, "password": "wrong", "captcha": PASSED},
        "j": {"nationalCode": CODE, "password": PASSWORD, "captcha": PASSED},
    }
    result = gql.execute(document, variables if "$i" in document else None)
    assert result["data"] is None
    codes = {error["extensions"]["code"] for error in result["errors"]}
    assert codes == {"ONE_LOGIN_PER_REQUEST"}
    assert "تنها یک «login»" in result["errors"][0]["message"]
    # Nothing ran: nothing counted, nobody signed in.
    assert AccessAttempt.objects.count() == 0
    assert not signed_in(gql)
    assert User.objects.get(pk=person.pk).last_login is None


def test_one_login_per_operation_is_what_counts(person):
    gql = client_at("10.0.8.2")
    # Two operations, one login each: the request runs the one it names.
    document = """mutation Wrong($i: LoginInput!) { login(input: $i) { errors { code } } }
    mutation Right($j: LoginInput!) { login(input: $j) { errors { code } } }"""
    body = {
        "query": document,
        "operationName": "Right",
        "variables": {"j": {"nationalCode": CODE, "password": PASSWORD, "captcha": PASSED}},
    }
    response = gql.http.post("/graphql/", data=json.dumps(body), content_type="application/json")
    assert response.json() == {"data": {"login": {"errors": []}}}
    # The same field twice under one response key is merged by GraphQL and runs once.
    twice = "mutation($i: LoginInput!) { login(input: $i) { errors { code } } login(input: $i) { me { __typename } } }"
    other = client_at("10.0.8.3")
    assert other.data(twice, {"i": {"nationalCode": CODE, "password": "wrong", "captcha": PASSED}})["login"][
        "errors"
    ] == [{"code": "INVALID_CREDENTIALS"}]
    assert failures(username=CODE) == 1


def test_a_batch_of_logins_is_refused(person):
    gql = client_at("10.0.9.1")
    batch = [
        {"query": LOGIN, "variables": {"i": {"nationalCode": CODE, "password": f"guess{n}"}}} for n in range(29)
    ] + [{"query": LOGIN, "variables": {"i": {"nationalCode": CODE, "password": PASSWORD, "captcha": PASSED}}}]
    response = gql.http.post("/graphql/", data=json.dumps(batch), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert AccessAttempt.objects.count() == 0
    assert not signed_in(gql)
