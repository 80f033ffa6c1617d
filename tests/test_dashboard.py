"""The dashboard (داشبورد) through the real endpoint: the figures after workflow steps driven
through the API, who may see which dashboard, the score computed in SQL against models/scoring.py,
and a constant number of statements whatever the number of units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from models import dashboard as domain
from models.evaluations import Evaluation
from models.indicators import Assignment, Indicator, IndicatorKind, IndicatorNature
from models.jalali import parse_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Performance, Referral
from models.scoring import score
from models.users import User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.workflow_helpers import (
    ALI,
    FATEMEH,
    FINISH,
    HASAN,
    REFER,
    SARA,
    SAVE,
    SEND,
    client_for,
    mutate,
    period_id,
    user_id,
)

pytestmark = pytest.mark.django_db

MARYAM = "0010000011"  # senior leader, ARO
ZAHRA = "0010000054"  # provincial leader, Tehran (MPO-THR)
REZA = "0010000062"  # evaluator

FIGURES = """assignments referred referredPercent submitted submittedPercent finalized finalizedPercent
  overdue notApplicable selfScore evaluated evaluatedScore"""
DASHBOARD = f"""query($period: ID!, $organization: ID) {{ dashboard(period: $period, organization: $organization) {{
  period {{ title }} organization {{ code }} generatedAt
  own {{ {FIGURES} }} totals {{ {FIGURES} }}
  units {{ rank organization {{ code name province {{ code }} }} own {{ {FIGURES} }} totals {{ {FIGURES} }} }} }} }}"""


def org_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


def read(client: GraphQLClient, organization: str | None = None) -> dict:
    variables = {"period": period_id(), "organization": org_id(organization) if organization else None}
    return client.data(DASHBOARD, variables)["dashboard"]


def refused(client: GraphQLClient, organization: str | None = None, period: str | None = None) -> list[dict]:
    variables = {"period": period or period_id(), "organization": org_id(organization) if organization else None}
    result = client.execute(DASHBOARD, variables)
    assert result["data"] is None, result
    return result["errors"]


def codes(errors: list[dict]) -> list[str]:
    return [error["extensions"]["code"] for error in errors]


def figures(**given) -> dict:
    """A DashboardFigures answer: zeros but for ``given`` (snake_case), percentages derived."""
    values = {
        "assignments": 0,
        "referred": 0,
        "submitted": 0,
        "finalized": 0,
        "overdue": 0,
        "not_applicable": 0,
        "self_score": "0",
        "evaluated": 0,
        "evaluated_score": None,
    }
    values.update(given)
    whole = values["assignments"]

    def percent(part: int) -> float:
        return round(100.0 * part / whole, 2) if whole else 0.0

    return {
        "assignments": whole,
        "referred": values["referred"],
        "referredPercent": percent(values["referred"]),
        "submitted": values["submitted"],
        "submittedPercent": percent(values["submitted"]),
        "finalized": values["finalized"],
        "finalizedPercent": percent(values["finalized"]),
        "overdue": values["overdue"],
        "notApplicable": values["not_applicable"],
        "selfScore": values["self_score"],
        "evaluated": values["evaluated"],
        "evaluatedScore": values["evaluated_score"],
    }


def without_time(dashboard: dict) -> dict:
    return {key: value for key, value in dashboard.items() if key != "generatedAt"}


def units_of(dashboard: dict) -> dict[str, dict]:
    return {unit["organization"]["code"]: unit for unit in dashboard["units"]}


@pytest.fixture
def today(monkeypatch):
    """Pins the dashboard's «today» (Tehran) to a Jalali day."""

    def pin(jalali: str) -> None:
        monkeypatch.setattr(domain, "today_in_tehran", lambda: parse_jalali(jalali))

    return pin


def assign(indicator_code: str, unit: str, deadline: str | None = "1402/11/20", **extra) -> Assignment:
    """An assignment of a new indicator to a unit of the demo (the demo assigns only to headquarters)."""
    indicator = Indicator.objects.create(
        code=indicator_code,
        title=f"شاخص آزمایشی {indicator_code}",
        kind=IndicatorKind.SPECIFIC,
        unit="تعداد",
        nature=IndicatorNature.HIGHER_IS_BETTER,
    )
    return Assignment.objects.create(
        indicator=indicator,
        organization=Organization.objects.get(code=unit),
        period=EvaluationPeriod.objects.get(),
        target=Decimal(extra.pop("target", "360")),
        weight=Decimal("85"),
        score_cap=Decimal("170"),
        deadline=parse_jalali(deadline) if deadline else None,
        **extra,
    )


def refer(client, assignment: Assignment | str, assignee: str, deadline: str = "1402/11/18") -> dict:
    source = assignment if isinstance(assignment, str) else encode_global_id("Assignment", assignment.pk)
    payload = mutate(client, REFER, {"source": source, "assignee": user_id(assignee), "deadline": deadline})
    assert payload["errors"] == [], payload
    return payload["referral"]


def save(client, referral: dict, value: str) -> None:
    payload = mutate(client, SAVE, {"referral": referral["id"], "version": 0, "value": value})
    assert payload["errors"] == [], payload


def finish(client, referral_id: str) -> dict:
    from schema.ids import decode_global_id

    version = Referral.objects.get(pk=decode_global_id(referral_id)[1]).version
    payload = mutate(client, FINISH, {"referral": referral_id, "version": version})
    assert payload["errors"] == [], payload
    return payload["referral"]


def moe(code: str) -> str:
    return encode_global_id("Assignment", Assignment.objects.get(indicator__code=code).pk)


@pytest.fixture
def walked(demo, today):
    """The demo after some steps of the workflow, driven through the API by its people.

    Headquarters (MOE-HQ, the demo's seven assignments): MOE-01 referred (the demo's), MOE-02
    submitted, finalized and sent for evaluation (value 36.5 on 36.5: 85.00), MOE-03 submitted
    (12 on 10, weight 72: 86.40), MOE-04 referred with a draft (5 on 10, weight 50: 25.00).
    Tavanir: its own TAV-1, referred and overdue (due 1402/11/15); its Tehran unit's THR-1, referred
    with a value (400 on 360, weight 85: 94.44). Isfahan's regional water company: WRM-1, found not
    applicable. MOE-02's two published evaluations average 82.505 → 82.51; an unpublished one does
    not count. «Today» is 1402/11/19.
    """
    today("1402/11/19")
    tavanir = assign("TAV-1", "MOE-TAVANIR", deadline="1402/11/15")
    tavanir_thr = assign("THR-1", "MOE-TAVANIR-THR")
    assign("WRM-1", "MOE-WRM-ESF", is_applicable=False)
    ali, fatemeh, sara = client_for(ALI), client_for(FATEMEH), client_for(SARA)

    efficiency = refer(ali, moe("MOE-02"), FATEMEH)
    save(fatemeh, efficiency, "36.5")
    finish(fatemeh, efficiency["id"])
    finish(ali, efficiency["id"])
    assert mutate(ali, SEND, {"period": period_id()})["errors"] == []

    imbalance = refer(ali, moe("MOE-03"), SARA)
    save(sara, imbalance, "12")
    finish(sara, imbalance["id"])

    save(fatemeh, refer(ali, moe("MOE-04"), FATEMEH), "5")
    refer(ali, tavanir, SARA, deadline="1402/11/14")
    save(sara, refer(ali, tavanir_thr, SARA), "400")

    sent = Assignment.objects.get(indicator__code="MOE-02")
    now = timezone.now()
    for evaluator, value, published in ((REZA, "80", now), (MARYAM, "85.01", now), (HASAN, "10", None)):
        Evaluation.objects.create(
            assignment=sent,
            evaluator=User.objects.get(national_code=evaluator),
            score=Decimal(value),
            feedback="بازخورد",
            published_at=published,
        )
    return {"ali": ali, "fatemeh": fatemeh, "sara": sara}


HQ = figures(
    assignments=7,
    referred=4,
    submitted=2,
    finalized=1,
    self_score="196.4",
    evaluated=1,
    evaluated_score="82.51",
)
TAVANIR_OWN = figures(assignments=1, referred=1, overdue=1)
TAVANIR_THR = figures(assignments=1, referred=1, self_score="94.44")
TAVANIR = figures(assignments=2, referred=2, overdue=1, self_score="94.44")
WRM = figures(not_applicable=1)
MOE_TOTALS = figures(
    assignments=9,
    referred=6,
    submitted=2,
    finalized=1,
    overdue=1,
    not_applicable=1,
    self_score="290.84",
    evaluated=1,
    evaluated_score="82.51",
)


def test_the_main_leaders_dashboard_shows_the_ministrys_units_with_correct_figures(walked):
    dashboard = read(walked["ali"])
    assert dashboard["organization"] == {"code": "MOE"}
    assert dashboard["period"]["title"]
    assert dashboard["generatedAt"]
    assert dashboard["own"] == figures()
    assert dashboard["totals"] == MOE_TOTALS
    # Ranked by self-registered score; the three without any share the third rank, in tree order.
    assert [(u["organization"]["code"], u["rank"]) for u in dashboard["units"]] == [
        ("MOE-HQ", 1),
        ("MOE-TAVANIR", 2),
        ("MOE-ABFA-KHZ", 3),
        ("MOE-ABFA-THR", 3),
        ("MOE-WRM", 3),
    ]
    units = units_of(dashboard)
    assert units["MOE-HQ"]["own"] == units["MOE-HQ"]["totals"] == HQ
    assert units["MOE-TAVANIR"]["own"] == TAVANIR_OWN
    assert units["MOE-TAVANIR"]["totals"] == TAVANIR
    assert units["MOE-WRM"]["own"] == figures()
    assert units["MOE-WRM"]["totals"] == WRM
    for code in ("MOE-ABFA-KHZ", "MOE-ABFA-THR"):
        assert units[code]["own"] == units[code]["totals"] == figures()
        assert units[code]["organization"]["province"]["code"] in {"IR-06", "IR-23"}


def test_the_figures_follow_the_next_steps(walked, today):
    ali = walked["ali"]
    imbalance = Referral.objects.get(assignment__indicator__code="MOE-03")
    # The main leader finalizes the submitted one; a day after the deadline the open ones are overdue.
    finish(ali, encode_global_id("Referral", imbalance.pk))
    today("1402/11/21")
    units = units_of(read(ali))
    assert units["MOE-HQ"]["own"] == figures(
        assignments=7,
        referred=4,
        submitted=2,
        finalized=2,
        overdue=5,
        self_score="196.4",
        evaluated=1,
        evaluated_score="82.51",
    )
    # Not applicable any more: out of every figure of headquarters, and counted as such.
    Assignment.objects.filter(indicator__code="MOE-03").update(is_applicable=False)
    units = units_of(read(ali))
    assert units["MOE-HQ"]["own"] == figures(
        assignments=6,
        referred=3,
        submitted=1,
        finalized=1,
        overdue=5,
        not_applicable=1,
        self_score="110",
        evaluated=1,
        evaluated_score="82.51",
    )


def test_a_subtree_below_the_leaders_unit(walked):
    dashboard = read(walked["ali"], "MOE-TAVANIR")
    assert dashboard["organization"] == {"code": "MOE-TAVANIR"}
    assert dashboard["own"] == TAVANIR_OWN
    assert dashboard["totals"] == TAVANIR
    assert [(u["organization"]["code"], u["rank"]) for u in dashboard["units"]] == [
        ("MOE-TAVANIR-THR", 1),
        ("MOE-TAVANIR-ESF", 2),
    ]
    assert units_of(dashboard)["MOE-TAVANIR-THR"]["totals"] == TAVANIR_THR
    # A leaf: its own figures, no units.
    leaf = read(walked["ali"], "MOE-TAVANIR-THR")
    assert (leaf["own"], leaf["totals"], leaf["units"]) == (TAVANIR_THR, TAVANIR_THR, [])


def test_the_senior_leader_sees_the_country(walked):
    dashboard = read(client_for(MARYAM))
    assert dashboard["organization"] == {"code": "ARO"}
    units = units_of(dashboard)
    assert list(units) == ["MOE", "MOA", "PBO"]
    assert [u["rank"] for u in dashboard["units"]] == [1, 2, 2]
    assert units["MOE"]["totals"] == MOE_TOTALS
    assert units["MOA"]["totals"] == figures(assignments=1)
    assert dashboard["totals"]["assignments"] == 10
    # And any unit below: the same figures as its own leader sees.
    assert without_time(read(client_for(MARYAM), "MOE")) == without_time(read(walked["ali"]))


def test_the_provincial_leader_sees_their_province(walked):
    zahra = client_for(ZAHRA)
    dashboard = read(zahra)
    assert dashboard["organization"] == {"code": "MPO-THR"}
    # Tehran's provincial and regional units, wherever they are in the tree, each with what is below it.
    assert [(u["organization"]["code"], u["rank"]) for u in dashboard["units"]] == [
        ("MOE-TAVANIR-THR", 1),
        ("MOA-THR", 2),
        ("MOE-ABFA-THR", 2),
        ("MOE-WRM-THR", 2),
    ]
    assert units_of(dashboard)["MOE-TAVANIR-THR"]["totals"] == TAVANIR_THR
    assert dashboard["totals"] == TAVANIR_THR
    # One of those units: its subtree; a unit of the province's ministries outside it: missing.
    assert read(zahra, "MOE-TAVANIR-THR")["own"] == TAVANIR_THR
    assert codes(refused(zahra, "MOE-TAVANIR")) == ["NOT_FOUND"]
    assert codes(refused(zahra, "MOE-TAVANIR-ESF")) == ["NOT_FOUND"]


def test_who_may_not_see_a_dashboard(walked):
    anonymous = GraphQLClient()
    assert codes(refused(anonymous)) == ["UNAUTHENTICATED"]
    # Self-evaluators and evaluators: a coded refusal with the seed's reason, whatever they ask.
    for person in (FATEMEH, REZA):
        for organization in (None, "MOE-HQ"):
            errors = refused(client_for(person), organization)
            assert codes(errors) == ["FORBIDDEN"]
            assert "دسته دوم" in errors[0]["message"]
    # Another ministry's leader: out of scope is answered as missing.
    hasan = client_for(HASAN)
    outside = refused(hasan, "MOE")
    missing = hasan.execute(DASHBOARD, {"period": period_id(), "organization": encode_global_id("Organization", 9999)})
    assert codes(outside) == ["NOT_FOUND"]
    assert outside == missing["errors"]
    assert read(hasan)["organization"] == {"code": "MOA"}
    # Ids of the wrong type, a missing period.
    ali = walked["ali"]
    assert codes(refused(ali, period=org_id("MOE"))) == ["INVALID_ID"]
    assert codes(refused(ali, period=encode_global_id("EvaluationPeriod", 9999))) == ["NOT_FOUND"]
    wrong_type = ali.execute(DASHBOARD, {"period": period_id(), "organization": period_id()})
    assert codes(wrong_type["errors"]) == ["INVALID_ID"]


# --- the score in SQL ------------------------------------------------------------------------


def sql_score(value, target, weight, cap, nature, lower, upper) -> Decimal | None:
    """models.dashboard.score_sql over one row of the column types the statement reads."""
    numbers = [None if n is None else str(n) for n in (value, target, weight, cap, lower, upper)]
    row = (
        "SELECT CAST(%s AS NUMERIC) AS v, CAST(%s AS NUMERIC) AS t, CAST(%s AS NUMERIC) AS w,"
        " CAST(%s AS NUMERIC) AS cap, CAST(%s AS NUMERIC) AS lo, CAST(%s AS NUMERIC) AS hi, %s AS nature"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {domain.score_sql(connection.vendor)} FROM ({row}) s", [*numbers, nature])
        (result,) = cursor.fetchone()
    return None if result is None else Decimal(str(result)).quantize(Decimal("0.01"))


def score_cases():
    import random

    natures = (IndicatorNature.HIGHER_IS_BETTER.value, IndicatorNature.LOWER_IS_BETTER.value)
    # Every branch of models/scoring.py: no value, no or a negative target, a negative value, below
    # and above each bound, zero where lower is better, the cap, and half cents (50 × 1.0001).
    values = [None, "-1", "0", "0.5", "1.0001", "17", "36.5", "1500.1234", "99999999.9999"]
    targets = ["0", "-5", "1", "3", "36.5", "1000"]
    weights = [("85", "170"), ("50", "100"), ("72", "145"), ("0.01", "999999.99")]
    bounds = [(None, None), ("10", "40"), ("0", "100"), ("-5", "2")]
    for nature in natures:
        for value in values:
            for target in targets:
                for weight, cap in weights:
                    for lower, upper in bounds:
                        yield value, target, weight, cap, nature, lower, upper
    # And values as people register them, against targets whose ratios end (see score_sql).
    rng = random.Random(1402)
    for _ in range(300):
        value = f"{rng.randint(0, 10**6)}.{rng.randint(0, 9999):04}"
        target = rng.choice(["2", "4", "5", "8", "10", "12.5", "36.5", "40", "250", "3000"])
        weight = f"{rng.randint(1, 100)}.{rng.randint(0, 99):02}"
        lower, upper = rng.choice([(None, None), ("1", "500000"), (None, "2000"), ("100", None)])
        yield value, target, weight, str(Decimal(weight) * 2), rng.choice(natures), lower, upper


def test_the_score_in_sql_is_models_scoring():
    mismatches = []
    for value, target, weight, cap, nature, lower, upper in score_cases():
        expected = score(
            value=None if value is None else Decimal(value),
            target=Decimal(target),
            weight=Decimal(weight),
            cap=Decimal(cap),
            nature=nature,
            lower_bound=None if lower is None else Decimal(lower),
            upper_bound=None if upper is None else Decimal(upper),
        )
        got = sql_score(value, target, weight, cap, nature, lower, upper)
        if got != expected:
            mismatches.append(((value, target, weight, cap, nature, lower, upper), got, expected))
    assert not mismatches, mismatches[:10]


# --- a constant number of statements ------------------------------------------------------------

QUERY_COUNT = f"""query($period: ID!) {{ dashboard(period: $period) {{
  period {{ title }} organization {{ code name }} own {{ {FIGURES} }} totals {{ {FIGURES} }}
  units {{ rank organization {{ code name kind province {{ code }} parent {{ code }} }}
  own {{ {FIGURES} }} totals {{ {FIGURES} }} }} }} }}"""


def ministry_with_work(children: int) -> dict:
    """A ministry of ``children`` subsidiaries (tests/test_api_query_counts.py's builder), each
    assignment of every unit referred, half with a value, a third with a published evaluation."""
    from tests.test_api_query_counts import build_ministry

    built = build_ministry(children, 0, 0)
    leader = built["leader"]
    expert = User.objects.create_user("0010000100", "x", first_name="کارشناس", last_name="ارزیابی")
    evaluator = User.objects.create_user("0010000062", "x", first_name="ارزیاب", last_name="ارشد")
    assignments = list(Assignment.objects.select_related("organization").order_by("id"))
    referrals = Referral.objects.bulk_create(
        Referral(
            assignment=a,
            referrer=leader,
            assignee=expert,
            organization=a.organization,
            target=a.target,
            deadline=a.deadline,
            status="SUBMITTED" if a.pk % 2 else "IN_PROGRESS",
        )
        for a in assignments
    )
    Performance.objects.bulk_create(
        Performance(referral=r, value=Decimal("12.5")) for r in referrals if r.assignment_id % 2
    )
    Evaluation.objects.bulk_create(
        Evaluation(assignment=a, evaluator=evaluator, score=Decimal("7"), feedback="-", published_at=timezone.now())
        for a in assignments
        if a.pk % 3 == 0
    )
    return built


@pytest.mark.parametrize("children", [3, 300])
def test_the_same_statements_for_3_and_300_units(children, count_queries):
    from tests.test_api_query_counts import LEADER, PASSWORD

    built = ministry_with_work(children)
    client = GraphQLClient()
    client.login(LEADER, PASSWORD)
    period = encode_global_id("EvaluationPeriod", built["period"].pk)
    with count_queries() as counted:
        data = client.data(QUERY_COUNT, {"period": period})["dashboard"]
    assert len(data["units"]) == children
    assignments = 7 * (children + 1)
    assert data["totals"]["assignments"] == assignments
    assert data["totals"]["referred"] == assignments
    # The request's own (session, user, role), then the organization, the period, the figures of
    # every unit in one statement, and the listed units with their parents in two batched reads.
    assert counted.count == 8, counted.sql()
