"""JalaliDate input through the real endpoint: `periods(on:)`, as literal and as variable."""

from __future__ import annotations

import pytest

BY_VARIABLE = "query($on: JalaliDate) { periods(on: $on) { title startDate endDate } }"
PERIOD = {"title": "دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲", "startDate": "1402/10/10", "endDate": "1402/11/29"}


@pytest.fixture
def signed_in(demo, gql):
    gql.login("0032054009")
    return gql


@pytest.mark.parametrize("day", ["1402/10/10", "1402-11-29", "۱۴۰۲/۱۰/۲۰", "1402/10/15"])
def test_valid_days_inside_the_period_find_it(signed_in, day):
    assert signed_in.data(BY_VARIABLE, {"on": day}) == {"periods": [PERIOD]}


@pytest.mark.parametrize("day", ["1402/10/09", "1403/12/30"])
def test_valid_days_outside_the_period_find_nothing(signed_in, day):
    # 1403 is a leap year: 1403/12/30 exists and is simply outside the period.
    assert signed_in.data(BY_VARIABLE, {"on": day}) == {"periods": []}


@pytest.mark.parametrize("day", ["1404/12/30", "1402/13/01", "abc", "1402/00/10", "", "1402/10/10/1"])
def test_invalid_days_are_refused_with_a_code(signed_in, day):
    result = signed_in.execute(BY_VARIABLE, {"on": day})
    assert result.get("data") is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "INVALID_DATE"
    assert "تاریخ" in error["message"]
    assert "Traceback" not in str(result)


@pytest.mark.parametrize("literal", ['"1404/12/30"', '"abc"', "14021010"])
def test_invalid_literal_days_are_refused_with_a_code(signed_in, literal):
    result = signed_in.execute(f"{{ periods(on: {literal}) {{ title }} }}")
    assert result.get("data") is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "INVALID_DATE", error
    assert "تاریخ" in error["message"]


def test_anonymous_is_refused_before_the_date_is_used(db, gql):
    assert gql.error_codes(BY_VARIABLE, {"on": "1402/10/10"}) == ["UNAUTHENTICATED"]
