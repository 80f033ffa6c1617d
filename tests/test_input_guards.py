"""A NUL character in any string input is refused with a code before anything runs (both databases)."""

from __future__ import annotations

import pytest

from models.referrals import Performance, ReferralEvent
from tests.workflow_helpers import FATEMEH, INBOX, SAVE, client_for

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

pytestmark = pytest.mark.django_db

SEARCH = "query($q: String) { organizations(search: $q) { totalCount } }"


def error_of(result: dict) -> dict:
    assert result.get("data") in (None, {}) or all(v is None for v in (result.get("data") or {}).values()), result
    (error,) = result["errors"]
    return error


def test_a_nul_in_a_variable_is_bad_user_input(demo):
    fatemeh = client_for(FATEMEH)
    error = error_of(fatemeh.execute(SEARCH, {"q": "ستاد\x00"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "variables.q"
    assert "NUL" in error["message"]
    # The same search without it answers.
    assert fatemeh.data(SEARCH, {"q": "ستاد"})["organizations"]["totalCount"] == 1


def test_a_nul_in_a_literal_is_bad_user_input(demo):
    fatemeh = client_for(FATEMEH)
    for literal in ("a\\u0000b", "a\\u{0}b", "a\x00b"):  # escaped, braced escape, the raw character
        error = error_of(fatemeh.execute('{ organizations(search: "' + literal + '") { totalCount } }'))
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "search"}, literal


def test_a_nul_deep_in_a_mutation_input_changes_nothing(demo):
    fatemeh = client_for(FATEMEH)
    period = fatemeh.data("{ periods { id } }")["periods"][0]["id"]
    referral = fatemeh.data(INBOX, {"period": period, "first": 1})["inbox"]["edges"][0]["node"]["id"]
    before = (Performance.objects.count(), Performance.history.count(), ReferralEvent.objects.count())
    result = fatemeh.execute(SAVE, {"input": {"referral": referral, "version": 0, "comments": "گزارش\x00"}})
    error = error_of(result)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "variables.input.comments"}
    assert (Performance.objects.count(), Performance.history.count(), ReferralEvent.objects.count()) == before


def test_anonymous_callers_get_the_same_answer(gql, demo):
    query = "mutation($i: LoginInput!) { login(input: $i) { errors { code } } }"
    error = error_of(gql.execute(query, {"i": {"nationalCode": "0010000021\x00", "password": "x", "captcha": PASSED}}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
