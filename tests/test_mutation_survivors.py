"""Tests written to kill the mutants of bench/mutation.sh that survived and mattered
(bench/results/mutation.md): each pins a rule of permissions/, models/workflow.py,
models/scoring.py or models/rollup.py that no other test told apart from a variant of it.

* a refusal names its code and its field, with a Persian message, and changes nothing;
* a slice target may be zero but not negative, a weight must be positive, and the weighted mean a
  refusal reports is the weighted one;
* splitting bumps the version of that referral only, by one;
* a value carried or rolled up is attributed to the person who approved it;
* sending for evaluation sends that period's finalized assignments only, and moves their top
  referrals along;
* a role's object permission goes with the role, unless another role on the unit still needs it.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import get_perms

from models.demo import DEMO_PASSWORD
from models.indicators import Assignment, Indicator, ReferralStatus, RollupRule
from models.object_permissions import OrganizationUserObjectPermission
from models.organization import Organization
from models.periods import EvaluationPeriod, PeriodStatus
from models.referrals import Performance, Referral
from models.roles import Role
from models.users import RoleAssignment, User
from schema.ids import encode_global_id
from tests.workflow_helpers import (
    ALI,
    AMIR,
    FATEMEH,
    FINISH,
    MOHAMMAD,
    NARGES,
    REFER,
    REFERRAL,
    RETURN,
    SARA,
    SAVE,
    SEND,
    SPLIT,
    assignment_id,
    build_chain,
    client_for,
    mutate,
    province_id,
    slice_specs,
    untouched_state,
    user_id,
)

pytestmark = pytest.mark.django_db

SENIOR = "0010000011"
EVALUATOR = "0010000062"
TEHRAN, ISFAHAN = "IR-23", "IR-10"
PERSIAN = re.compile(r"[\u0600-\u06FF]")
HISTORY = """query($id: ID!) { node(id: $id) { ... on Referral { version performance {
  value valueHistory { newValue actor { nationalCode } } } } } }"""


def _referred_with_slices(ali) -> dict:
    """MOE-03 referred by Ali to Fatemeh with Tehran's and Isfahan's slices set by him (to Fatemeh and Sara)."""
    return mutate(
        ali,
        REFER,
        {
            "source": assignment_id("MOE-03"),
            "assignee": user_id(FATEMEH),
            "deadline": "1402/11/15",
            "hasProvincialBreakdown": True,
            "breakdownBy": "REFERRER",
            "slices": slice_specs(
                (TEHRAN, "10", {"assignee": user_id(FATEMEH)}), (ISFAHAN, "10", {"assignee": user_id(SARA)})
            ),
        },
    )["referral"]


def _refused(payload: dict, code: str, field: str | None) -> None:
    """The payload carries exactly one error: ``code`` on ``field``, explained in Persian."""
    (error,) = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), payload
    assert PERSIAN.search(error["message"] or ""), error


def _period_id() -> str:
    return encode_global_id("EvaluationPeriod", EvaluationPeriod.objects.get(year=1402).pk)


def _gid(referral: Referral) -> str:
    return encode_global_id("Referral", referral.pk)


@pytest.fixture
def moe_01(demo) -> dict:
    """The demo's first referral: Ali → Fatemeh, MOE-01 (a count, SUM, target 3000), hers to split."""
    return {"fatemeh": client_for(FATEMEH), "referral": Referral.objects.get(assignment__indicator__code="MOE-01")}


# --- refusals: code, field, Persian message, nothing changed -------------------------------------


def test_split_refusals_name_their_code_and_field(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    ali = client_for(ALI)
    two = slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))
    # MOE-02 referred without a breakdown, MOE-03 with slices set by Ali himself.
    plain_referral = mutate(
        ali, REFER, {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"}
    )["referral"]
    by_referrer = _referred_with_slices(ali)
    cases = [
        (ali, {"referral": _gid(referral), "version": 1, "slices": two}, "NOT_ASSIGNEE", "referral"),
        (fatemeh, {"referral": plain_referral["id"], "version": 1, "slices": two}, "NO_BREAKDOWN", "referral"),
        (
            fatemeh,
            {"referral": by_referrer["id"], "version": by_referrer["version"], "slices": two},
            "NO_BREAKDOWN",
            "referral",
        ),
        (fatemeh, {"referral": _gid(referral), "version": 1, "slices": []}, "SLICES_REQUIRED", "slices"),
        (
            fatemeh,
            {
                "referral": _gid(referral),
                "version": 1,
                "slices": slice_specs((TEHRAN, "1500", {}), (TEHRAN, "1500", {})),
            },
            "SLICE_PROVINCE_DUPLICATE",
            "slices",
        ),
        (
            fatemeh,
            {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1", {}))},
            "SLICE_TARGETS_INCONSISTENT",
            "slices",
        ),
    ]
    for client, input, code, field in cases:
        before = untouched_state()
        _refused(mutate(client, SPLIT, input), code, field)
        assert untouched_state() == before, code

    assert mutate(fatemeh, SPLIT, {"referral": _gid(referral), "version": 1, "slices": two})["errors"] == []
    before = untouched_state()
    _refused(
        mutate(fatemeh, SPLIT, {"referral": _gid(referral), "version": 2, "slices": two}), "ALREADY_SPLIT", "referral"
    )
    assert untouched_state() == before


def test_a_referral_out_of_the_assignees_hands_cannot_be_split(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SUBMITTED)
    before = untouched_state()
    result = mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    _refused(result, "INVALID_STATE", "referral")
    assert untouched_state() == before


def test_return_refusals_name_their_code_and_field(demo):
    chain = build_chain()
    fatemeh, amir, ali, child = chain["fatemeh"], chain["amir"], chain["ali"], chain["child"]["id"]
    # Not submitted yet.
    before = untouched_state()
    _refused(mutate(fatemeh, RETURN, {"referral": child, "version": 1, "reason": "ناقص"}), "INVALID_STATE", "referral")
    assert untouched_state() == before
    assert mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"})["errors"] == []
    assert mutate(amir, FINISH, {"referral": child, "version": 1})["errors"] == []
    cases = [
        (amir, {"reason": "ناقص"}, "NOT_REFERRER", "referral"),  # his own submission
        (ali, {"reason": "ناقص"}, "NOT_REFERRER", "referral"),  # above in the chain, but not its referrer
        (fatemeh, {"reason": ""}, "REASON_REQUIRED", "reason"),
        (fatemeh, {"reason": " \n "}, "REASON_REQUIRED", "reason"),
    ]
    for client, extra, code, field in cases:
        before = untouched_state()
        _refused(mutate(client, RETURN, {"referral": child, "version": 2, **extra}), code, field)
        assert untouched_state() == before, (code, extra)


def test_nothing_to_send_names_the_period(demo):
    before = untouched_state()
    _refused(mutate(client_for(ALI), SEND, {"period": _period_id()}), "NOTHING_TO_SEND", "period")
    assert untouched_state() == before


# --- slice targets and weights -------------------------------------------------------------------


def test_a_slice_target_may_be_zero(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    split = mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "0", {}), (ISFAHAN, "3000", {}))},
    )
    assert split["errors"] == []
    assert [(s["province"]["code"], s["target"]) for s in split["referral"]["slices"]] == [
        (ISFAHAN, "3000"),
        (TEHRAN, "0"),
    ]


def test_a_negative_slice_target_is_refused_even_when_the_mean_agrees(demo):
    """MOE-02 is a percentage (not a count, whose negative values are refused earlier): −1 and 74
    average the parent's 36.5, so only the sign check refuses them."""
    ali = client_for(ALI)
    before = untouched_state()
    result = mutate(
        ali,
        REFER,
        {
            "source": assignment_id("MOE-02"),
            "assignee": user_id(FATEMEH),
            "deadline": "1402/11/15",
            "hasProvincialBreakdown": True,
            "breakdownBy": "REFERRER",
            "slices": slice_specs(
                (TEHRAN, "-1", {"assignee": user_id(FATEMEH)}), (ISFAHAN, "74", {"assignee": user_id(SARA)})
            ),
        },
    )
    _refused(result, "SLICE_TARGET_INVALID", "slices")
    assert untouched_state() == before


@pytest.fixture
def weighted(moe_01) -> dict:
    Indicator.objects.filter(code="MOE-01").update(rollup=RollupRule.WEIGHTED_AVERAGE)
    return moe_01


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_a_slice_weight_must_be_positive(weighted, weight):
    """A zero weight leaves the weighted mean of the others (3000) standing: only the weight check refuses."""
    fatemeh, referral = weighted["fatemeh"], weighted["referral"]
    before = untouched_state()
    result = mutate(
        fatemeh,
        SPLIT,
        {
            "referral": _gid(referral),
            "version": 1,
            "slices": slice_specs((TEHRAN, "3000", {"weight": "1"}), (ISFAHAN, "3000", {"weight": weight})),
        },
    )
    assert [e["code"] for e in result["errors"]] == ["SLICE_TARGET_INVALID"]
    assert result["errors"][0]["field"] == "slices"
    assert untouched_state() == before


def test_a_weighted_refusal_reports_the_weighted_mean(weighted):
    fatemeh, referral = weighted["fatemeh"], weighted["referral"]
    result = mutate(
        fatemeh,
        SPLIT,
        {
            "referral": _gid(referral),
            "version": 1,
            "slices": slice_specs((TEHRAN, "2000", {"weight": "3"}), (ISFAHAN, "7000", {"weight": "1"})),
        },
    )
    _refused(result, "SLICE_TARGETS_INCONSISTENT", "slices")
    # (3 × 2000 + 7000) / 4 = 3250; the plain mean would be 4500.
    assert result["errors"][0]["message"] == (
        "میانگین وزنی هدف برش‌ها باید با هدف بالادست (3000) برابر باشد؛ اکنون 3250 است."
    )


# --- versions --------------------------------------------------------------------------------------


def test_splitting_bumps_that_referrals_version_only_by_one(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    # Another referral at the same version, which the split must leave alone.
    other = mutate(
        client_for(ALI),
        REFER,
        {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"},
    )["referral"]
    assert (referral.version, other["version"]) == (1, 1)
    split = mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    assert split["referral"]["version"] == 2
    assert fatemeh.data(REFERRAL, {"id": _gid(referral)})["node"]["version"] == 2
    assert fatemeh.data(REFERRAL, {"id": other["id"]})["node"]["version"] == 1
    # The version the payload gave is the one the next action needs.
    tehran = mutate(
        fatemeh,
        REFER,
        {
            "source": _gid(referral),
            "province": province_id(TEHRAN),
            "assignee": user_id(MOHAMMAD),
            "deadline": "1402/11/10",
        },
    )
    assert tehran["errors"] == []


# --- attribution ----------------------------------------------------------------------------------


def test_a_carried_up_value_is_attributed_to_the_approver(demo):
    chain = build_chain()
    fatemeh, amir, child = chain["fatemeh"], chain["amir"], chain["child"]["id"]
    mutate(amir, SAVE, {"referral": child, "version": 0, "value": "37"})
    mutate(amir, FINISH, {"referral": child, "version": 1})
    assert mutate(fatemeh, FINISH, {"referral": child, "version": 2})["errors"] == []
    top = fatemeh.data(HISTORY, {"id": chain["top"]["id"]})["node"]
    assert top["performance"]["valueHistory"] == [{"newValue": "37", "actor": {"nationalCode": FATEMEH}}]


def test_a_rolled_up_value_is_attributed_to_the_approver(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    for province, person, value in ((TEHRAN, MOHAMMAD, "1300"), (ISFAHAN, NARGES, "1900")):
        child = mutate(
            fatemeh,
            REFER,
            {
                "source": _gid(referral),
                "province": province_id(province),
                "assignee": user_id(person),
                "deadline": "1402/11/10",
            },
        )["referral"]["id"]
        assignee = client_for(person)
        mutate(assignee, SAVE, {"referral": child, "version": 0, "value": value})
        mutate(assignee, FINISH, {"referral": child, "version": 1})
        assert mutate(fatemeh, FINISH, {"referral": child, "version": 2})["errors"] == []
    parent = fatemeh.data(HISTORY, {"id": _gid(referral)})["node"]
    assert parent["performance"]["valueHistory"] == [{"newValue": "3200", "actor": {"nationalCode": FATEMEH}}]


# --- send for evaluation ---------------------------------------------------------------------------


@pytest.fixture
def finalized_last_year(demo) -> dict:
    """A finalized assignment of MOE-HQ in the 1401 period, with its finalized top referral."""
    period = EvaluationPeriod.objects.create(
        title="دوره ارزیابی ۱۴۰۱",
        year=1401,
        start_date=datetime.date(2023, 1, 1),
        end_date=datetime.date(2023, 2, 18),
        status=PeriodStatus.OPEN,
    )
    this_year = Assignment.objects.get(indicator__code="MOE-02")
    assignment = Assignment.objects.create(
        indicator=this_year.indicator,
        organization=this_year.organization,
        period=period,
        target=Decimal(30),
        weight=Decimal(85),
        score_cap=Decimal(170),
        status=ReferralStatus.FINALIZED,
    )
    referral = Referral.objects.create(
        assignment=assignment,
        referrer=User.objects.get(national_code=ALI),
        assignee=User.objects.get(national_code=FATEMEH),
        organization=assignment.organization,
        target=assignment.target,
        deadline=datetime.date(2023, 2, 1),
        status=ReferralStatus.FINALIZED,
    )
    return {"assignment": assignment, "referral": referral}


def test_sending_moves_this_periods_finalized_assignments_and_their_top_referrals(finalized_last_year):
    ali, fatemeh = client_for(ALI), client_for(FATEMEH)
    moe_02 = encode_global_id("Assignment", Assignment.objects.get(indicator__code="MOE-02", period__year=1402).pk)
    top = mutate(ali, REFER, {"source": moe_02, "assignee": user_id(FATEMEH), "deadline": "1402/11/15"})
    top_id = top["referral"]["id"]
    mutate(fatemeh, SAVE, {"referral": top_id, "version": 0, "value": "37"})
    mutate(fatemeh, FINISH, {"referral": top_id, "version": 1})
    assert mutate(ali, FINISH, {"referral": top_id, "version": 2})["referral"]["status"] == "FINALIZED"

    sent = mutate(ali, SEND, {"period": _period_id()})
    assert sent["errors"] == []
    assert sent["assignments"] == [{"id": moe_02, "status": "SENT_FOR_EVALUATION"}]
    referral = ali.data(REFERRAL, {"id": top_id})["node"]
    assert (referral["status"], referral["version"]) == ("SENT_FOR_EVALUATION", 4)
    last = referral["timeline"][-1]
    assert (last["fromStatus"], last["toStatus"], last["actor"]) == (
        "FINALIZED",
        "SENT_FOR_EVALUATION",
        {"nationalCode": ALI},
    )
    # Last year's finalized work was not part of it.
    last_year = finalized_last_year
    last_year["assignment"].refresh_from_db()
    last_year["referral"].refresh_from_db()
    assert (last_year["assignment"].status, last_year["referral"].status) == ("FINALIZED", "FINALIZED")
    assert not last_year["referral"].events.exists()


# --- role grants -----------------------------------------------------------------------------------


@pytest.fixture
def console(demo) -> Client:
    from django.http import HttpRequest

    client = Client()
    assert client.login(request=HttpRequest(), national_code=SENIOR, password=DEMO_PASSWORD)
    return client


def _delete_in_console(console: Client, role: RoleAssignment) -> None:
    response = console.post(reverse("admin:mana_roleassignment_delete", args=[role.pk]), {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    assert not RoleAssignment.objects.filter(pk=role.pk).exists()


def test_a_roles_grant_goes_with_it_unless_another_role_on_the_unit_needs_it(console):
    reza = User.objects.get(national_code=EVALUATOR)
    aro = Organization.objects.get(code="ARO")
    evaluator = RoleAssignment.objects.get(user=reza, role=Role.EVALUATOR)
    second = RoleAssignment.objects.create(user=reza, role=Role.SELF_EVALUATOR, organization=aro)
    client = client_for(EVALUATOR)
    ORGS = "{ organizations { totalCount edges { node { code } } } }"

    _delete_in_console(console, evaluator)
    # His self-evaluator role on the same unit still needs view_organization.
    assert get_perms(reza, aro) == ["view_organization"]
    assert client.data(ORGS)["organizations"]["edges"] == [{"node": {"code": "ARO"}}]

    _delete_in_console(console, second)
    assert get_perms(reza, aro) == []


def test_a_leaders_grant_goes_with_his_role_and_leaves_the_view_grant_of_another(console):
    ali = User.objects.get(national_code=ALI)
    moe = Organization.objects.get(code="MOE")
    leader = RoleAssignment.objects.get(user=ali, role=Role.MAIN_LEADER)
    RoleAssignment.objects.create(user=ali, role=Role.SELF_EVALUATOR, organization=moe)
    assert sorted(get_perms(ali, moe)) == ["lead_organization", "view_organization"]
    _delete_in_console(console, leader)
    assert get_perms(ali, moe) == ["view_organization"]


def test_a_roles_grant_goes_with_it_though_a_colleague_holds_the_same_role_there(console):
    """فاطمه and امیر are both self-evaluators at ستاد: her role withdrawn, her grant goes, his stays."""
    fatemeh, amir = User.objects.get(national_code=FATEMEH), User.objects.get(national_code="0010000100")
    hq = Organization.objects.get(code="MOE-HQ")
    _delete_in_console(console, RoleAssignment.objects.get(user=fatemeh, organization=hq))
    # (The demo's referral to her keeps its chain grant on the unit: that one is not a role's.)
    assert "view_organization" not in get_perms(fatemeh, hq)
    assert get_perms(amir, hq) == ["view_organization"]


def test_a_roles_grant_goes_though_one_holds_the_same_role_at_another_unit(console):
    """سارا is a self-evaluator at ستاد and at توانیر: the ستاد role withdrawn, only the ستاد grant goes."""
    sara = User.objects.get(national_code=SARA)
    hq, tavanir = Organization.objects.get(code="MOE-HQ"), Organization.objects.get(code="MOE-TAVANIR")
    _delete_in_console(console, RoleAssignment.objects.get(user=sara, organization=hq))
    assert get_perms(sara, hq) == []
    assert get_perms(sara, tavanir) == ["view_organization"]


def test_a_leaders_grant_stays_while_another_leading_role_on_the_unit_needs_it(console):
    ali = User.objects.get(national_code=ALI)
    moe = Organization.objects.get(code="MOE")
    leader = RoleAssignment.objects.get(user=ali, role=Role.MAIN_LEADER)
    RoleAssignment.objects.create(user=ali, role=Role.SENIOR_LEADER, organization=moe)
    _delete_in_console(console, leader)
    assert get_perms(ali, moe) == ["lead_organization"]
    assert client_for(ALI).data("{ organizations(kind: HEADQUARTERS) { totalCount } }")["organizations"] == {
        "totalCount": 1
    }


# --- scope of role assignments ---------------------------------------------------------------------


def test_ones_own_roles_are_visible_whatever_unit_they_are_in(demo):
    """Sara acts at MOE-HQ; her role at MOE-TAVANIR is outside that scope, but it is hers."""
    sara = client_for(SARA)
    other = RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-TAVANIR")
    node = sara.data(
        "query($id: ID!) { node(id: $id) { ... on RoleAssignment { role } } }",
        {"id": encode_global_id("RoleAssignment", other.pk)},
    )["node"]
    assert node == {"role": "SELF_EVALUATOR"}
    # Another ministry's leader's role is neither hers nor in her unit.
    hasan_role = RoleAssignment.objects.get(user__national_code="0010000038")
    assert sara.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": encode_global_id("RoleAssignment", hasan_role.pk)}
    ) == {"node": None}


def test_finish_refusals_name_their_code_and_field(demo):
    chain = build_chain()
    ali, amir, child = chain["ali"], chain["amir"], chain["child"]["id"]
    before = untouched_state()
    _refused(mutate(amir, FINISH, {"referral": child, "version": 1}), "VALUE_REQUIRED", "value")
    # Ali sees Amir's referral (he is above it in the chain) but neither made nor received it.
    _refused(mutate(ali, FINISH, {"referral": child, "version": 1}), "NOT_ALLOWED", "referral")
    assert untouched_state() == before
    mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"})
    assert mutate(amir, FINISH, {"referral": child, "version": 1})["errors"] == []
    before = untouched_state()
    _refused(mutate(amir, FINISH, {"referral": child, "version": 2}), "INVALID_STATE", "referral")
    assert untouched_state() == before


# --- performance versions ---------------------------------------------------------------------------


def test_saving_bumps_that_performances_version_only(demo):
    chain = build_chain()
    ali, fatemeh, amir = chain["ali"], chain["fatemeh"], chain["amir"]
    # A second performance at version 1: Fatemeh's draft on MOE-03, referred to her directly.
    other = mutate(
        ali, REFER, {"source": assignment_id("MOE-03"), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"}
    )
    assert mutate(fatemeh, SAVE, {"referral": other["referral"]["id"], "version": 0, "value": "5"})["errors"] == []
    child = chain["child"]["id"]
    assert mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"})["performance"]["version"] == 1
    assert mutate(amir, SAVE, {"referral": child, "version": 1, "value": "31"})["performance"]["version"] == 2
    assert fatemeh.data(HISTORY, {"id": other["referral"]["id"]})["node"]["performance"]["value"] == "5"
    assert Performance.objects.get(referral__assignment__indicator__code="MOE-03").version == 1


def test_a_carried_up_value_is_a_new_version_of_the_parents_own_draft(demo):
    """Fatemeh saved a draft on her referral before referring it on: the result that comes up from
    Amir is its next version, with the history of both."""
    ali, fatemeh, amir = client_for(ALI), client_for(FATEMEH), client_for(AMIR)
    top = mutate(
        ali, REFER, {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/18"}
    )
    top_id = top["referral"]["id"]
    assert mutate(fatemeh, SAVE, {"referral": top_id, "version": 0, "value": "10"})["errors"] == []
    child = mutate(fatemeh, REFER, {"source": top_id, "assignee": user_id(AMIR), "deadline": "1402/11/10"})
    child_id = child["referral"]["id"]
    mutate(amir, SAVE, {"referral": child_id, "version": 0, "value": "37"})
    mutate(amir, FINISH, {"referral": child_id, "version": 1})
    assert mutate(fatemeh, FINISH, {"referral": child_id, "version": 2})["errors"] == []
    node = fatemeh.data(HISTORY, {"id": top_id})["node"]
    assert node["performance"]["value"] == "37"
    assert node["performance"]["valueHistory"] == [
        {"newValue": "10", "actor": {"nationalCode": FATEMEH}},
        {"newValue": "37", "actor": {"nationalCode": FATEMEH}},
    ]
    assert Performance.objects.get(referral__assignment__indicator__code="MOE-02", referral__parent=None).version == 2


def test_approvals_leave_their_reason_in_the_timeline(demo):
    chain = build_chain()
    ali, fatemeh, amir, child = chain["ali"], chain["fatemeh"], chain["amir"], chain["child"]["id"]
    mutate(amir, SAVE, {"referral": child, "version": 0, "value": "37"})
    mutate(amir, FINISH, {"referral": child, "version": 1})
    mutate(fatemeh, FINISH, {"referral": child, "version": 2})
    top = ali.data(REFERRAL, {"id": chain["top"]["id"]})["node"]
    final = mutate(ali, FINISH, {"referral": chain["top"]["id"], "version": top["version"]})["referral"]
    assert [(e["toStatus"], e["reason"]) for e in final["timeline"]] == [
        ("IN_PROGRESS", ""),
        ("DELEGATED", ""),
        ("SUBMITTED", "تأیید و ارسال به سطح بالاتر"),
        ("FINALIZED", "ثبت نهایی"),
    ]


# --- scores against the organization's bounds --------------------------------------------------------


def test_an_organizations_referral_is_held_to_both_bounds(demo):
    """MOE-02 (target 36.5) counted between 30 and 40; Amir's referral is not a provincial slice."""
    Assignment.objects.filter(indicator__code="MOE-02").update(lower_bound=Decimal(30), upper_bound=Decimal(40))
    chain = build_chain()
    amir, child = chain["amir"], chain["child"]["id"]
    below = mutate(amir, SAVE, {"referral": child, "version": 0, "value": "29"})
    assert below["performance"]["score"] == "0"
    above = mutate(amir, SAVE, {"referral": child, "version": 1, "value": "45"})
    assert above["performance"]["score"] == "93.15"  # counts as 40: 85 × 40 / 36.5


# --- the score formula's edges, through the endpoint -------------------------------------------------


SCORE_CASES = [
    # (indicator, assignment changes, nature, value, score)
    ("MOE-04", {}, "HIGHER_IS_BETTER", "0.001", "0.01"),  # 50 × 0.001 / 10 = 0.005: rounded half up
    ("MOE-04", {"target": Decimal(1)}, "HIGHER_IS_BETTER", "1", "50"),  # a target of 1 is a target
    ("MOE-02", {}, "HIGHER_IS_BETTER", "-5", "0"),  # a negative percentage scores nothing
    # On the lower bound counts; below it scores 0 (test_an_organizations_referral_is_held_to_both_bounds).
    ("MOE-02", {"lower_bound": Decimal(30), "upper_bound": Decimal(40)}, "HIGHER_IS_BETTER", "30", "69.86"),
    # Lower is better: on the upper bound counts (85 × 36.5 / 40); above it scores 0.
    ("MOE-02", {"lower_bound": Decimal(30), "upper_bound": Decimal(40)}, "LOWER_IS_BETTER", "40", "77.56"),
    ("MOE-02", {"lower_bound": Decimal(30), "upper_bound": Decimal(40)}, "LOWER_IS_BETTER", "40.0001", "0"),
]


@pytest.mark.parametrize(("indicator", "changes", "nature", "value", "score"), SCORE_CASES)
def test_score_edges(demo, indicator, changes, nature, value, score):
    Assignment.objects.filter(indicator__code=indicator).update(**changes)
    Indicator.objects.filter(code=indicator).update(nature=nature)
    ali, fatemeh = client_for(ALI), client_for(FATEMEH)
    referral = mutate(
        ali, REFER, {"source": assignment_id(indicator), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"}
    )["referral"]
    saved = mutate(fatemeh, SAVE, {"referral": referral["id"], "version": 0, "value": value})
    assert saved["errors"] == []
    assert saved["performance"]["score"] == score


# --- refer: code and field of each refusal -----------------------------------------------------------


def test_refer_refusals_name_their_code_and_field(moe_01):
    fatemeh, referral = moe_01["fatemeh"], moe_01["referral"]
    ali = client_for(ALI)
    by_referrer = _referred_with_slices(ali)

    def slice_of(source, province=None, person=MOHAMMAD):
        return {
            "source": source,
            "assignee": user_id(person),
            "deadline": "1402/11/10",
            **({"province": province_id(province)} if province else {}),
        }

    # Before the split.
    cases = [(fatemeh, slice_of(_gid(referral)), "NOT_SPLIT", "source")]
    # Slices set by Ali: the parent (delegated) is not Fatemeh's to refer, whole or by province.
    cases += [
        (fatemeh, slice_of(by_referrer["id"]), "INVALID_STATE", "source"),
        (fatemeh, slice_of(by_referrer["id"], TEHRAN), "INVALID_STATE", "source"),
    ]
    for client, input, code, field in cases:
        before = untouched_state()
        _refused(mutate(client, REFER, input), code, field)
        assert untouched_state() == before, code

    mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    assert mutate(fatemeh, REFER, slice_of(_gid(referral), TEHRAN))["errors"] == []
    cases = [
        (fatemeh, slice_of(_gid(referral)), "PROVINCE_REQUIRED", "province"),
        (fatemeh, slice_of(_gid(referral), "IR-07", NARGES), "UNKNOWN_PROVINCE", "province"),
        (fatemeh, slice_of(_gid(referral), TEHRAN, NARGES), "ALREADY_REFERRED", "province"),
        # A slice is not split again.
        (
            fatemeh,
            {**slice_of(_gid(referral), ISFAHAN, NARGES), "hasProvincialBreakdown": True, "breakdownBy": "ASSIGNEE"},
            "BREAKDOWN_INVALID",
            "hasProvincialBreakdown",
        ),
        # Ali sees Fatemeh's referral, but it is hers to refer.
        (ali, slice_of(_gid(referral), ISFAHAN, SARA), "NOT_ASSIGNEE", "source"),
    ]
    for client, input, code, field in cases:
        before = untouched_state()
        _refused(mutate(client, REFER, input), code, field)
        assert untouched_state() == before, code
    # A referral without a breakdown has no slice to refer by province.
    plain_referral = mutate(
        ali, REFER, {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"}
    )["referral"]
    before = untouched_state()
    _refused(mutate(fatemeh, REFER, slice_of(plain_referral["id"], TEHRAN)), "NO_BREAKDOWN", "province")
    assert untouched_state() == before


def test_refer_refusals_of_a_plain_referral_name_their_code_and_field(demo):
    chain = build_chain()
    fatemeh, amir = chain["fatemeh"], chain["amir"]
    cases = [
        # Fatemeh's referral is delegated already: referring it again is refused on its state…
        (fatemeh, chain["top"]["id"], "INVALID_STATE", "source"),
    ]
    # …and Amir's, once referred on, cannot be referred twice.
    amir_subordinate = User.objects.create(
        national_code="0010000135",
        first_name="رضا",
        last_name="آزمایشی",
        organization=Organization.objects.get(code="MOE-HQ"),
        approver=User.objects.get(national_code=AMIR),
    )
    RoleAssignment.objects.create(
        user=amir_subordinate, role=Role.SELF_EVALUATOR, organization_id=amir_subordinate.organization_id
    )
    refer_on = {"source": chain["child"]["id"], "assignee": user_id("0010000135"), "deadline": "1402/11/05"}
    assert mutate(amir, REFER, refer_on)["errors"] == []
    Referral.objects.filter(pk=_pk(chain["child"]["id"])).update(status=ReferralStatus.RETURNED)
    cases.append((amir, chain["child"]["id"], "ALREADY_REFERRED", "source"))
    for client, source, code, field in cases:
        before = untouched_state()
        result = mutate(client, REFER, {"source": source, "assignee": user_id("0010000135"), "deadline": "1402/11/05"})
        _refused(result, code, field)
        assert untouched_state() == before, code


def _pk(global_id: str) -> int:
    from schema.ids import decode_global_id

    return decode_global_id(global_id, "Referral")[1]


def test_an_assignee_whose_change_permission_was_withdrawn_cannot_register(demo):
    """The guardian permission is the final word: an administrator withdrew Amir's."""
    from guardian.shortcuts import remove_perm

    chain = build_chain()
    amir, child = chain["amir"], chain["child"]["id"]
    remove_perm("mana.change_referral", User.objects.get(national_code=AMIR), Referral.objects.get(pk=_pk(child)))
    before = untouched_state()
    _refused(mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"}), "NOT_ASSIGNEE", "referral")
    assert untouched_state() == before


# --- people: who may be named ------------------------------------------------------------------------

USER = "query($id: ID!) { node(id: $id) { ... on User { nationalCode } } }"
PEOPLE_OF = (
    "query($id: ID!) { node(id: $id) { ... on Referral { referrer { nationalCode } assignee { nationalCode } } } }"
)


def _user_gid(national_code: str) -> str:
    return encode_global_id("User", User.objects.get(national_code=national_code).pk)


def _named(client, national_code: str) -> bool:
    node = client.data(USER, {"id": _user_gid(national_code)})["node"]
    return node == {"nationalCode": national_code}


def test_ones_approver_subordinates_and_self_are_nameable_outside_ones_units(demo):
    # Sara (MOE-HQ) and her approver Ali (MOE), with no referral between them.
    assert _named(client_for(SARA), ALI)
    # Fatemeh (MOE-HQ) and her subordinate Narges (MOE-TAVANIR-ESF), nothing referred yet.
    assert _named(client_for(FATEMEH), NARGES)
    # A person whose own unit is not the unit of their role.
    person = User.objects.create(
        national_code="0010000143",
        first_name="مینا",
        last_name="آزمایشی",
        organization=Organization.objects.get(code="MOE-WRM-FRS"),
    )
    person.set_password(DEMO_PASSWORD)
    person.save()
    RoleAssignment.objects.create(
        user=person, role=Role.SELF_EVALUATOR, organization=Organization.objects.get(code="MOE-HQ")
    )
    assert _named(client_for("0010000143"), "0010000143")
    # Nobody else of another unit.
    assert not _named(client_for(SARA), "0010000038")


def test_the_people_of_ones_referrals_stay_nameable_after_a_reorganization(demo):
    """Mohammad (Tehran unit) was referred a slice by Fatemeh (MOE-HQ), then moved under Sara:
    neither is the other's approver any more, nor in the other's unit, but the referral links them."""
    fatemeh = client_for(FATEMEH)
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    mutate(
        fatemeh,
        SPLIT,
        {"referral": _gid(referral), "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    slice_ = mutate(
        fatemeh,
        REFER,
        {
            "source": _gid(referral),
            "province": province_id(TEHRAN),
            "assignee": user_id(MOHAMMAD),
            "deadline": "1402/11/10",
        },
    )["referral"]["id"]
    User.objects.filter(national_code=MOHAMMAD).update(approver=User.objects.get(national_code=SARA))
    mohammad = client_for(MOHAMMAD)
    people = {"referrer": {"nationalCode": FATEMEH}, "assignee": {"nationalCode": MOHAMMAD}}
    assert mohammad.data(PEOPLE_OF, {"id": slice_})["node"] == people
    assert fatemeh.data(PEOPLE_OF, {"id": slice_})["node"] == people
    assert _named(mohammad, FATEMEH)
    assert _named(fatemeh, MOHAMMAD)
    # Narges, Fatemeh's subordinate in Isfahan, has no referral with Mohammad.
    assert not _named(mohammad, NARGES)


def test_without_a_role_one_acts_in_nothing(demo):
    """Fatemeh's only role is withdrawn: her referral, its assignment and the people of its chain go
    with it; she remains nameable to herself."""
    fatemeh = client_for(FATEMEH)
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    RoleAssignment.objects.filter(user__national_code=FATEMEH).delete()
    assert fatemeh.data(REFERRAL, {"id": _gid(referral)}) == {"node": None}
    moe_01 = encode_global_id("Assignment", referral.assignment_id)
    assert fatemeh.data("query($id: ID!) { node(id: $id) { id } }", {"id": moe_01}) == {"node": None}
    assert _named(fatemeh, FATEMEH)
    assert not _named(fatemeh, "0010000038")
    ali_role = encode_global_id("RoleAssignment", RoleAssignment.objects.get(user__national_code=ALI).pk)
    assert fatemeh.execute("query($id: ID!) { node(id: $id) { id } }", {"id": ali_role}) == {"data": {"node": None}}


def test_a_leader_without_his_subtree_still_reads_the_assignments_he_referred(demo):
    from guardian.shortcuts import remove_perm

    ali = client_for(ALI)
    remove_perm("mana.lead_organization", User.objects.get(national_code=ALI), Organization.objects.get(code="MOE"))
    ids = {
        code: encode_global_id("Assignment", Assignment.objects.get(indicator__code=code).pk)
        for code in ("MOE-01", "MOE-02")
    }
    query = "query($id: ID!) { node(id: $id) { ... on Assignment { indicator { code } } } }"
    assert ali.data(query, {"id": ids["MOE-01"]}) == {"node": {"indicator": {"code": "MOE-01"}}}
    assert ali.data(query, {"id": ids["MOE-02"]}) == {"node": None}


# --- the assignee's change permission ---------------------------------------------------------------


def test_the_change_permission_follows_the_referral_in_and_out_of_the_assignees_hands(demo):
    chain = build_chain()
    fatemeh, amir, child = chain["fatemeh"], chain["amir"], chain["child"]["id"]
    amir_user, referral = User.objects.get(national_code=AMIR), Referral.objects.get(pk=_pk(child))

    def can_change() -> bool:
        return "change_referral" in get_perms(amir_user, referral)

    assert can_change()
    mutate(amir, SAVE, {"referral": child, "version": 0, "value": "30"})
    before = Referral.objects.get(pk=referral.pk).updated_at
    mutate(amir, FINISH, {"referral": child, "version": 1})
    assert not can_change()
    assert Referral.objects.get(pk=referral.pk).updated_at > before
    mutate(fatemeh, RETURN, {"referral": child, "version": 2, "reason": "ناقص"})
    assert can_change()
    mutate(amir, FINISH, {"referral": child, "version": 3})
    mutate(fatemeh, FINISH, {"referral": child, "version": 4})
    assert not can_change()


def test_refusals_of_referring_an_assignment_name_their_field(demo):
    ali, fatemeh = client_for(ALI), client_for(FATEMEH)
    base = {"source": assignment_id("MOE-03"), "assignee": user_id(FATEMEH), "deadline": "1402/11/10"}
    cases = [
        (ali, {"assignee": user_id(AMIR)}, "NOT_SUBORDINATE", "assignee"),
        (ali, {"deadline": "1402/11/25"}, "DEADLINE_AFTER_PARENT", "deadline"),
        (ali, {"deadline": "1402/12/05"}, "DEADLINE_OUTSIDE_PERIOD", "deadline"),
        (ali, {"source": assignment_id("MOE-01")}, "ALREADY_REFERRED", "source"),
        (fatemeh, {"assignee": user_id(AMIR)}, "NOT_ALLOWED", "source"),
        (ali, {"hasProvincialBreakdown": True}, "BREAKDOWN_BY_REQUIRED", "breakdownBy"),
        (ali, {"breakdownBy": "ASSIGNEE"}, "BREAKDOWN_INVALID", "breakdownBy"),
        (ali, {"province": province_id(TEHRAN)}, "NO_BREAKDOWN", "province"),
        (
            ali,
            {
                "source": assignment_id("MOE-02"),
                "hasProvincialBreakdown": True,
                "breakdownBy": "REFERRER",
                "slices": slice_specs((TEHRAN, "36", {"assignee": user_id(FATEMEH)}), (ISFAHAN, "37", {})),
            },
            "ASSIGNEE_REQUIRED",
            "slices.1.assignee",
        ),
        (
            ali,
            {
                "source": assignment_id("MOE-02"),
                "hasProvincialBreakdown": True,
                "breakdownBy": "REFERRER",
                "slices": slice_specs(
                    (TEHRAN, "36", {"assignee": user_id(FATEMEH), "deadline": "1402/11/11"}),
                    (ISFAHAN, "37", {"assignee": user_id(SARA)}),
                ),
            },
            "DEADLINE_AFTER_PARENT",
            "slices.0.deadline",
        ),
        # Slices are the assignee's to set when she splits.
        (
            ali,
            {
                "source": assignment_id("MOE-02"),
                "hasProvincialBreakdown": True,
                "breakdownBy": "ASSIGNEE",
                "slices": slice_specs((TEHRAN, "36.5", {})),
            },
            "BREAKDOWN_INVALID",
            "slices",
        ),
    ]
    for client, change, code, field in cases:
        before = untouched_state()
        _refused(mutate(client, REFER, {**base, **change}), code, field)
        assert untouched_state() == before, code


def test_everyone_above_in_the_chain_sees_a_referral_three_levels_down(demo):
    chain = build_chain()
    x = User.objects.create(
        national_code="0010000151",
        first_name="کاوه",
        last_name="آزمایشی",
        organization=Organization.objects.get(code="MOE-WRM-FRS"),
        approver=User.objects.get(national_code=AMIR),
    )
    RoleAssignment.objects.create(user=x, role=Role.SELF_EVALUATOR, organization_id=x.organization_id)
    grandchild = mutate(
        chain["amir"],
        REFER,
        {"source": chain["child"]["id"], "assignee": user_id(x.national_code), "deadline": "1402/11/05"},
    )["referral"]["id"]
    people = {"referrer": {"nationalCode": AMIR}, "assignee": {"nationalCode": x.national_code}}
    for client in (chain["ali"], chain["fatemeh"], chain["amir"]):
        assert client.data(PEOPLE_OF, {"id": grandchild})["node"] == people
    # Fatemeh's unit is MOE-HQ: Kaveh's unit (Fars regional water) is hers to name through the chain only.
    units = chain["fatemeh"].data("{ organizations(first: 50) { edges { node { code } } } }")["organizations"]["edges"]
    assert {"node": {"code": "MOE-WRM-FRS"}} in units


def test_chain_units_already_in_a_leaders_subtree_are_not_granted_again(demo):
    """permissions.referral_grants: a main leader's chains run through his own subtree, and
    granting each unit again would make every statement of his carry thousands of ids."""
    in_chain = OrganizationUserObjectPermission.objects.filter(permission__codename="view_organization_in_chain")
    mutate(
        client_for(ALI),
        REFER,
        {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/15"},
    )
    assert not in_chain.filter(user__national_code=ALI).exists()
    assert set(in_chain.filter(user__national_code=FATEMEH).values_list("content_object__code", flat=True)) == {
        "MOE-HQ"
    }


def test_a_self_evaluator_in_a_province_sees_his_unit_not_the_province(demo):
    """Mohammad's unit (Tehran's electricity distribution) has a province; only a provincial
    leader's role reaches the other units of it."""
    mohammad = client_for(MOHAMMAD)
    units = mohammad.data("{ organizations(first: 50) { edges { node { code } } } }")["organizations"]["edges"]
    assert units == [{"node": {"code": "MOE-TAVANIR-THR"}}]


def test_a_withdrawn_active_role_falls_back_to_the_next_one(demo):
    """Sara signed in acting at MOE-HQ (her first role); that role is withdrawn while her session
    lasts: she acts in her other one, at MOE-TAVANIR."""
    sara = client_for(SARA)
    me = "{ me { activeRole { role organization { code } } } }"
    assert sara.data(me)["me"]["activeRole"]["organization"] == {"code": "MOE-HQ"}
    RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-HQ").delete()
    assert sara.data(me)["me"]["activeRole"] == {"role": "SELF_EVALUATOR", "organization": {"code": "MOE-TAVANIR"}}
