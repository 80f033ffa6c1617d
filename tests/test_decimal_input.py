"""Decimal input through the real endpoint (issue 7 §1, numbers), on SQLite and PostgreSQL alike.

* What is not a number — NaN, sNaN, Infinity, «1e400», text — is INVALID_DECIMAL, top-level;
* a number its column cannot hold is refused in the payload with the field: more digits before
  the point than the column has → DECIMAL_OUT_OF_RANGE, more places → DECIMAL_TOO_PRECISE, never
  rounded; a negative count → NEGATIVE_NOT_ALLOWED;
* what is accepted comes back in the payload exactly as a later read gives it, in the one
  canonical form of a Decimal (docs/scalars.md: "30", not the column's "30.0000");
* every refusal leaves the performance (version, value, history) and the slices as they were.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.db import connection

from models.referrals import Performance, ProvincialSlice, Referral, ReferralEvent
from models.units import is_count
from schema.ids import encode_global_id
from tests.workflow_helpers import (
    ALI,
    FATEMEH,
    FINISH,
    MOHAMMAD,
    NARGES,
    REFER,
    REFERRAL,
    SARA,
    SAVE,
    SPLIT,
    assignment_id,
    build_chain,
    client_for,
    mutate,
    province_id,
    user_id,
)

pytestmark = pytest.mark.django_db
PERSIAN = re.compile(r"[\u0600-\u06FF]")
TEHRAN, ISFAHAN = "IR-23", "IR-10"
# SQLite keeps 15 significant digits of a decimal (models/decimals.py); PostgreSQL all 18 of the column.
SQLITE = connection.vendor == "sqlite"


def _state() -> tuple:
    """Everything a refused call must leave untouched."""
    return (
        list(Performance.objects.order_by("id").values_list("id", "version", "value")),
        Performance.history.count(),
        list(ProvincialSlice.objects.order_by("id").values_list("id", "province_id", "target", "weight")),
        list(Referral.objects.order_by("id").values_list("id", "status", "version", "target")),
        ReferralEvent.objects.count(),
    )


@pytest.fixture
def chain(demo):
    """Ali → Fatemeh → Amir on MOE-02 (راندمان شبکه برق, «درصد»: not a count)."""
    return build_chain()


def _save(chain, value, version: int = 0) -> dict:
    return chain["amir"].execute(
        SAVE, {"input": {"referral": chain["child"]["id"], "version": version, "value": value}}
    )


def _read_value(client, referral_id: str) -> str | None:
    performance = client.data(REFERRAL, {"id": referral_id})["node"]["performance"]
    return performance and performance["value"]


def _only_error(result: dict) -> dict:
    assert result.get("data") is None, result
    (error,) = result["errors"]
    assert PERSIAN.search(error["message"]), error
    assert "Traceback" not in json.dumps(result)
    return error


def _refusal(payload: dict) -> dict:
    (error,) = payload["errors"]
    assert PERSIAN.search(error["message"]), error
    return error


# --- not a number: INVALID_DECIMAL, before anything runs -------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "nan",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e400",
        "-1e400",
        "1e99999999999999999999",
        "0." + "0" * 60 + "1",
        "1" * 41,
        "abc",
        "",
        " ",
        "1_000",
        "1 000",
        "30,5",
        "30.5.1",
        "0x1F",
        "--1",
        "1e",
        "۳۰a",
        "9" * 5000,
        float("nan"),  # JSON's NaN and Infinity tokens, which Python's json reads
        float("inf"),
        float("-inf"),
        1e400,  # a JSON number too large for a double arrives as Infinity
        True,
        [1],
        {"value": 1},
    ],
)
def test_what_is_not_a_number_is_invalid_decimal_and_changes_nothing(chain, value):
    before = _state()
    error = _only_error(_save(chain, value))
    assert error["extensions"]["code"] == "INVALID_DECIMAL", error
    assert error["extensions"]["field"] == "variables.input.value", error
    assert _state() == before
    assert _read_value(chain["amir"], chain["child"]["id"]) is None  # and reads still work


@pytest.mark.parametrize("literal", ["NaN", '"NaN"', '"Infinity"', "1e400", '"1e400"', "true", '"abc"', "[1]"])
def test_a_literal_that_is_not_a_number_is_invalid_decimal(chain, literal):
    before = _state()
    error = _only_error(chain["amir"].execute(_literal_save(chain, 0, literal)))
    assert error["extensions"]["code"] == "INVALID_DECIMAL", error
    assert _state() == before


# --- a number that does not fit its column: refused in the payload, with the field ------------

OUT_OF_RANGE = [
    "1" * 30,  # the 30-digit value
    "100000000000000",  # 15 digits before the point; the column holds 14
    "-100000000000000",
    "1e14",
    "1E+30",
    "123456789012345.5",
    "9" * 40,
]
TOO_PRECISE = ["30.123456789", "30.12345", "0.00001", "-0.00001", "1e-5", "12.34567"]


@pytest.mark.parametrize(("value", "code"), [(v, "DECIMAL_OUT_OF_RANGE") for v in OUT_OF_RANGE])
def test_too_many_digits_before_the_point_is_out_of_range(chain, value, code):
    before = _state()
    payload = _save(chain, value)["data"]["savePerformance"]
    assert payload["performance"] is None
    error = _refusal(payload)
    assert (error["field"], error["code"]) == ("value", code)
    assert error["message"] == "عملکرد بیش از اندازه بزرگ است: حداکثر ۱۴ رقم پیش از ممیز."
    assert _state() == before


@pytest.mark.parametrize("value", TOO_PRECISE)
def test_more_places_than_the_column_is_refused_not_rounded(chain, value):
    before = _state()
    payload = _save(chain, value)["data"]["savePerformance"]
    assert payload["performance"] is None
    error = _refusal(payload)
    assert (error["field"], error["code"]) == ("value", "DECIMAL_TOO_PRECISE")
    assert "حداکثر ۴ رقم اعشار" in error["message"]
    assert _state() == before


def test_a_refused_value_keeps_the_saved_one_and_its_history(chain):
    saved = _save(chain, "30")["data"]["savePerformance"]
    assert saved["errors"] == []
    before = _state()
    for value in ("30.123456789", "1" * 30):
        payload = _save(chain, value, version=1)["data"]["savePerformance"]
        assert payload["performance"] is None and len(payload["errors"]) == 1
        assert _state() == before
    assert _read_value(chain["amir"], chain["child"]["id"]) == "30"
    assert Performance.objects.get().version == 1


def test_the_largest_values_the_column_holds(chain):
    assert _save(chain, "99999999999999")["data"]["savePerformance"]["performance"]["value"] == "99999999999999"
    # 14 + 4 digits: PostgreSQL keeps them all; SQLite keeps 15 significant digits and would read
    # back 100000000000000 (which no read can answer), so there it is refused.
    payload = _save(chain, "99999999999999.9999", version=1)["data"]["savePerformance"]
    if SQLITE:
        error = _refusal(payload)
        assert (error["field"], error["code"]) == ("value", "DECIMAL_TOO_PRECISE")
        assert "۱۵ رقم معنادار" in error["message"]
        assert _read_value(chain["amir"], chain["child"]["id"]) == "99999999999999"
    else:
        assert payload["errors"] == []
        assert payload["performance"]["value"] == "99999999999999.9999"
        assert _read_value(chain["amir"], chain["child"]["id"]) == "99999999999999.9999"
    # 15 significant digits fit on both.
    payload = _save(chain, "12345678901.2345", version=Performance.objects.get().version)["data"]["savePerformance"]
    assert payload["errors"] == []
    assert payload["performance"]["value"] == _read_value(chain["amir"], chain["child"]["id"]) == "12345678901.2345"


# --- what is accepted comes back as stored, in canonical form --------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("30.1234", "30.1234"),
        ("30", "30"),
        ("30.12340", "30.1234"),  # trailing zeros are not places
        ("30.1234000000000000", "30.1234"),
        ("+30.5", "30.5"),
        (".5", "0.5"),
        ("1e3", "1000"),
        ("1.5E+2", "150"),
        ("1e-4", "0.0001"),
        ("0", "0"),
        ("-0", "0"),
        ("0e400", "0"),
        ("-5", "-5"),  # a percentage may be negative (not a count)
        (" 30.5 ", "30.5"),
        ("۳۰٫۵", "30.5"),  # Persian digits and decimal separator
        ("۳۰.۱۲۳۴", "30.1234"),
        ("٣٠.٥", "30.5"),  # Arabic-Indic digits
        (30.5, "30.5"),  # a JSON number
        (42, "42"),
        ("99999999999999", "99999999999999"),
    ],
)
def test_the_payload_is_what_a_later_read_gives(chain, value, stored):
    payload = _save(chain, value)["data"]["savePerformance"]
    assert payload["errors"] == []
    assert payload["performance"]["value"] == stored
    assert payload["performance"]["valueHistory"][-1]["newValue"] == stored
    assert _read_value(chain["amir"], chain["child"]["id"]) == stored
    assert Performance.objects.get().value == Decimal(stored)


def _literal_save(chain, version: int, literal: str) -> str:
    return (
        f'mutation {{ savePerformance(input: {{referral: "{chain["child"]["id"]}", version: {version}, '
        f"value: {literal}}}) {{ errors {{ code }} performance {{ value }} }} }}"
    )


def test_a_literal_keeps_every_digit(chain):
    # The literal's text, not a double made of it (12345678901.2345 has no exact double).
    saved = chain["amir"].data(_literal_save(chain, 0, "30.1234"))["savePerformance"]
    assert saved == {"errors": [], "performance": {"value": "30.1234"}}
    saved = chain["amir"].data(_literal_save(chain, 1, "12345678901.2345"))["savePerformance"]
    assert saved["performance"]["value"] == "12345678901.2345"
    assert _read_value(chain["amir"], chain["child"]["id"]) == "12345678901.2345"


def test_clearing_the_value_still_works(chain):
    assert _save(chain, "30")["data"]["savePerformance"]["errors"] == []
    payload = _save(chain, None, version=1)["data"]["savePerformance"]
    assert payload["errors"] == [] and payload["performance"]["value"] is None
    assert _read_value(chain["amir"], chain["child"]["id"]) is None


# --- counts cannot be negative; slices' targets and weights fit their columns ---------------


@pytest.fixture
def split_moe01(demo):
    """The demo's MOE-01 (villages, «تعداد»: a count, SUM), Ali → Fatemeh, to be split by her."""
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    return {"fatemeh": client_for(FATEMEH), "id": encode_global_id("Referral", referral.pk)}


def _slices(*pairs):
    return [{"province": province_id(code), "target": target} for code, target in pairs]


@pytest.mark.parametrize(
    ("slices", "field", "code", "words"),
    [
        ([(TEHRAN, "-1000"), (ISFAHAN, "4000")], "slices.0.target", "NEGATIVE_NOT_ALLOWED", "«تعداد»"),
        ([(TEHRAN, "1000"), (ISFAHAN, "2000.00001")], "slices.1.target", "DECIMAL_TOO_PRECISE", "۴ رقم اعشار"),
        ([(TEHRAN, "1e20"), (ISFAHAN, "2000")], "slices.0.target", "DECIMAL_OUT_OF_RANGE", "۱۴ رقم"),
        ([(TEHRAN, "1000.123456789"), (ISFAHAN, "1999.876543211")], "slices.0.target", "DECIMAL_TOO_PRECISE", None),
    ],
)
def test_slice_targets_are_checked_with_their_field(split_moe01, slices, field, code, words):
    fatemeh, referral = split_moe01["fatemeh"], split_moe01["id"]
    before = _state()
    rows = [{"province": province_id(province), "target": target} for province, target in slices]
    error = _refusal(mutate(fatemeh, SPLIT, {"referral": referral, "version": 1, "slices": rows}))
    assert (error["field"], error["code"]) == (field, code)
    if words:
        assert words in error["message"], error
    assert _state() == before


def test_slice_target_that_is_not_a_number_is_invalid_decimal(split_moe01):
    before = _state()
    rows = [{"province": province_id(TEHRAN), "target": "Infinity"}]
    result = split_moe01["fatemeh"].execute(
        SPLIT, {"input": {"referral": split_moe01["id"], "version": 1, "slices": rows}}
    )
    error = _only_error(result)
    assert error["extensions"]["code"] == "INVALID_DECIMAL"
    assert error["extensions"]["field"] == "variables.input.slices[0].target"
    assert _state() == before


def test_an_accepted_split_answers_its_targets_as_stored(split_moe01):
    fatemeh, referral = split_moe01["fatemeh"], split_moe01["id"]
    split = mutate(
        fatemeh, SPLIT, {"referral": referral, "version": 1, "slices": _slices((TEHRAN, "1200.5"), (ISFAHAN, "۱۷۹۹٫۵"))}
    )
    assert split["errors"] == []
    answered = [(s["province"]["code"], s["target"]) for s in split["referral"]["slices"]]
    assert answered == [(ISFAHAN, "1799.5"), (TEHRAN, "1200.5")]
    assert [
        (s["province"]["code"], s["target"]) for s in fatemeh.data(REFERRAL, {"id": referral})["node"]["slices"]
    ] == (answered)


def _split_and_refer(split_moe01, tehran="1200", isfahan="1800") -> tuple[dict, dict]:
    fatemeh, referral = split_moe01["fatemeh"], split_moe01["id"]
    assert (
        mutate(
            fatemeh,
            SPLIT,
            {"referral": referral, "version": 1, "slices": _slices((TEHRAN, tehran), (ISFAHAN, isfahan))},
        )["errors"]
        == []
    )
    made = {}
    for code, person in ((TEHRAN, MOHAMMAD), (ISFAHAN, NARGES)):
        refer = {
            "source": referral,
            "province": province_id(code),
            "assignee": user_id(person),
            "deadline": "1402/11/10",
        }
        result = mutate(fatemeh, REFER, refer)
        assert result["errors"] == []
        made[code] = result["referral"]
    return made[TEHRAN], made[ISFAHAN]


def test_a_negative_count_is_refused_a_zero_is_not(split_moe01):
    tehran, _ = _split_and_refer(split_moe01)
    assert tehran["target"] == "1200"
    mohammad = client_for(MOHAMMAD)
    before = _state()
    for value in ("-1", "-0.0001", "-1e3"):
        payload = mutate(mohammad, SAVE, {"referral": tehran["id"], "version": 0, "value": value})
        error = _refusal(payload)
        assert (error["field"], error["code"]) == ("value", "NEGATIVE_NOT_ALLOWED")
        assert error["message"] == "واحد سنجش این شاخص «تعداد» است و مقدار آن نمی‌تواند منفی باشد."
        assert payload["performance"] is None
        assert _state() == before
    saved = mutate(mohammad, SAVE, {"referral": tehran["id"], "version": 0, "value": "0"})
    assert saved["errors"] == [] and saved["performance"]["value"] == "0"


def test_a_roll_up_that_outgrows_the_column_is_refused(split_moe01):
    """Each slice value fits; their SUM has 15 digits before the point. The last approval is refused."""
    tehran, isfahan = _split_and_refer(split_moe01)
    big = "99999999999999"
    for person, slice_ in ((MOHAMMAD, tehran), (NARGES, isfahan)):
        client = client_for(person)
        assert mutate(client, SAVE, {"referral": slice_["id"], "version": 0, "value": big})["errors"] == []
        assert mutate(client, FINISH, {"referral": slice_["id"], "version": 1})["errors"] == []
    fatemeh = split_moe01["fatemeh"]
    assert mutate(fatemeh, FINISH, {"referral": tehran["id"], "version": 2})["errors"] == []
    before = _state()
    refused = mutate(fatemeh, FINISH, {"referral": isfahan["id"], "version": 2})
    error = _refusal(refused)
    assert (error["field"], error["code"]) == ("value", "DECIMAL_OUT_OF_RANGE")
    assert _state() == before
    assert fatemeh.data(REFERRAL, {"id": isfahan["id"]})["node"]["status"] == "SUBMITTED"


def test_referrer_slices_targets_and_weights_are_checked(demo):
    ali = client_for(ALI)
    base = {
        "source": assignment_id("MOE-02"),  # «درصد», AVERAGE of 36.5
        "assignee": user_id(FATEMEH),
        "deadline": "1402/11/15",
        "hasProvincialBreakdown": True,
        "breakdownBy": "REFERRER",
    }

    def slices(*rows):
        return [
            {"province": province_id(code), "target": target, "assignee": user_id(person), **extra}
            for code, target, person, extra in rows
        ]

    refusals = [
        (
            slices((TEHRAN, "36", FATEMEH, {}), (ISFAHAN, "37.00001", SARA, {})),
            "slices.1.target",
            "DECIMAL_TOO_PRECISE",
        ),
        (slices((TEHRAN, "1" * 30, FATEMEH, {}), (ISFAHAN, "37", SARA, {})), "slices.0.target", "DECIMAL_OUT_OF_RANGE"),
        (
            slices((TEHRAN, "36", FATEMEH, {"weight": "1.00001"}), (ISFAHAN, "37", SARA, {})),
            "slices.0.weight",
            "DECIMAL_TOO_PRECISE",
        ),
        (
            slices((TEHRAN, "36", FATEMEH, {}), (ISFAHAN, "37", SARA, {"weight": "1e15"})),
            "slices.1.weight",
            "DECIMAL_OUT_OF_RANGE",
        ),
        # A percentage is not a count, but a slice target is never negative (the existing rule).
        (slices((TEHRAN, "-1", FATEMEH, {}), (ISFAHAN, "74", SARA, {})), "slices", "SLICE_TARGET_INVALID"),
    ]
    before = _state()
    for rows, field, code in refusals:
        error = _refusal(mutate(ali, REFER, {**base, "slices": rows}))
        assert (error["field"], error["code"]) == (field, code), rows
        assert _state() == before
    result = ali.execute(REFER, {"input": {**base, "slices": slices((TEHRAN, "NaN", FATEMEH, {}))}})
    assert _only_error(result)["extensions"]["code"] == "INVALID_DECIMAL"
    assert _state() == before

    made = mutate(
        ali,
        REFER,
        {**base, "slices": slices((TEHRAN, "36.25", FATEMEH, {"weight": "2.5"}), (ISFAHAN, "36.75", SARA, {}))},
    )
    assert made["errors"] == []
    assert [(s["province"]["code"], s["target"]) for s in made["referral"]["slices"]] == [
        (ISFAHAN, "36.75"),
        (TEHRAN, "36.25"),
    ]
    stored = ProvincialSlice.objects.order_by("province__code").values_list("target", "weight")
    assert [(str(t), str(w)) for t, w in stored] == [("36.7500", "1.0000"), ("36.2500", "2.5000")]
    children = Referral.objects.filter(province__isnull=False).order_by("province__code")
    assert [str(c.target) for c in children] == ["36.7500", "36.2500"]


def test_every_variable_a_scalar_refuses_names_its_field(demo):
    # The same rule for every scalar (schema/errors.py): here a JalaliDate.
    fatemeh = client_for(FATEMEH)
    error = _only_error(fatemeh.execute("query($on: JalaliDate) { periods(on: $on) { title } }", {"on": "1404/12/30"}))
    assert error["extensions"] == {"code": "INVALID_DATE", "field": "variables.on"}


@pytest.mark.parametrize(
    ("unit", "count"),
    [
        ("تعداد", True),
        ("تعداد طرح", True),
        ("نفر", True),
        ("نفر-ساعت", True),
        (" مورد ", True),
        ("فقره", True),
        ("درصد", False),
        ("درصد تعداد", False),
        ("میلیارد ریال", False),
        ("تراوات ساعت", False),
        ("روز", False),
        ("", False),
    ],
)
def test_which_units_are_counts(unit, count):
    assert is_count(unit) is count
