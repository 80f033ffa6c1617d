"""One test per rule that was broken on purpose while the suite stayed green (issue 7, «A suite
that catches broken rules»), through the real endpoint.

The demo data alone cannot tell these rules from their absence (no second planning organization in
a leader's province, every role holds its grant, no indicator rolls up by weighted average, no
assignment has bounds), so each test first builds, with the ORM, the data on which the rule makes a
difference. Each test was seen failing with its rule broken (bench/results/mutation.md).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from guardian.shortcuts import remove_perm

from models.geography import Province
from models.indicators import Assignment, Indicator, ReferralStatus, RollupRule
from models.organization import Organization, OrganizationKind
from models.referrals import Referral
from models.users import User
from schema.ids import encode_global_id
from tests.workflow_helpers import (
    ALI,
    FATEMEH,
    FINISH,
    MOHAMMAD,
    NARGES,
    REFER,
    REFERRAL,
    SAVE,
    SEND,
    SPLIT,
    client_for,
    mutate,
    period_id,
    province_id,
    slice_specs,
    untouched_state,
    user_id,
)

pytestmark = pytest.mark.django_db

SENIOR = "0010000011"  # senior leader, ARO
TEHRAN_LEADER = "0010000054"  # provincial leader, MPO-THR (a provincial planning organization in IR-23)
EVALUATOR = "0010000062"  # evaluator, ARO
TEHRAN, ISFAHAN = "IR-23", "IR-10"
# The provincial leader's units in the demo: her own, and the PROVINCIAL/REGIONAL units of IR-23.
TEHRAN_CODES = {"MPO-THR", "MOE-TAVANIR-THR", "MOE-WRM-THR", "MOE-ABFA-THR", "MOA-THR"}

ORGANIZATIONS = "{ organizations(first: 100) { totalCount edges { node { code } } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
SLICES = "query($id: ID!) { node(id: $id) { ... on Referral { slices { province { code } target weight } } } }"


def _codes(payload) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def _visible(client) -> tuple[int, set[str]]:
    connection = client.data(ORGANIZATIONS)["organizations"]
    return connection["totalCount"], {edge["node"]["code"] for edge in connection["edges"]}


def _node(client, model: str, pk: int):
    return client.data(NODE, {"id": encode_global_id(model, pk)})["node"]


def _organization(code: str) -> Organization:
    return Organization.objects.get(code=code)


def _user(national_code: str) -> User:
    return User.objects.get(national_code=national_code)


# --- scope: the provincial leader ----------------------------------------------------------------


def test_provincial_leader_without_her_grant_sees_nothing(demo):
    """Broken rule: the provincial leader's scope without its guardian grant check."""
    zahra = client_for(TEHRAN_LEADER)
    assert _visible(zahra) == (len(TEHRAN_CODES), TEHRAN_CODES)
    remove_perm("mana.view_organization", _user(TEHRAN_LEADER), _organization("MPO-THR"))
    # Her role assignment is still there; the withdrawn object permission is what counts.
    assert _visible(zahra) == (0, set())
    for code in ("MPO-THR", "MOE-TAVANIR-THR", "MOA-THR"):
        assert _node(zahra, "Organization", _organization(code).pk) is None


@pytest.fixture
def planning_organization_in_tehran(demo) -> dict[str, Organization]:
    """A second provincial planning organization of Tehran province: of the kinds that have a
    province, the one that is not a provincial or regional unit (the demo has no second one in a
    leader's province). As controls, one more provincial unit of Tehran and a regional unit of
    Isfahan."""
    tehran, isfahan = Province.objects.get(code=TEHRAN), Province.objects.get(code=ISFAHAN)
    K = OrganizationKind
    rows = [
        ("MPO-THR-2", K.PROVINCIAL_PLANNING_ORGANIZATION, "PBO", tehran),
        ("MOA-THR-2", K.PROVINCIAL, "MOA", tehran),
        ("MOE-WRM-ESF-2", K.REGIONAL, "MOE-WRM", isfahan),
    ]
    return {
        code: Organization.objects.create(
            code=code, name=f"واحد آزمایشی {code}", kind=kind, parent=_organization(parent), province=province
        )
        for code, kind, parent, province in rows
    }


def test_provincial_leader_sees_only_provincial_and_regional_units_of_her_province(planning_organization_in_tehran):
    """Broken rule: the provincial leader's scope without its provincial/regional kind filter."""
    units = planning_organization_in_tehran
    zahra = client_for(TEHRAN_LEADER)
    expected = TEHRAN_CODES | {"MOA-THR-2"}
    assert _visible(zahra) == (len(expected), expected)
    assert _node(zahra, "Organization", units["MPO-THR-2"].pk) is None
    assert _node(zahra, "Organization", units["MOE-WRM-ESF-2"].pk) is None
    assert _node(zahra, "Organization", units["MOA-THR-2"].pk) is not None


# --- scope: every other role's own unit ----------------------------------------------------------


def test_own_unit_roles_without_their_grant_see_nothing(demo):
    """Broken rule: the own-unit scope of the other roles without its grant check."""
    reza = client_for(EVALUATOR)
    assert _visible(reza) == (1, {"ARO"})
    remove_perm("mana.view_organization", _user(EVALUATOR), _organization("ARO"))
    assert _visible(reza) == (0, set())
    assert _node(reza, "Organization", _organization("ARO").pk) is None

    # Fatemeh's unit stays nameable through her referral chain (she was referred MOE-01), but
    # its other assignments are her role's business only, and go with the grant.
    fatemeh = client_for(FATEMEH)
    moe_02 = Assignment.objects.get(indicator__code="MOE-02")
    assert _node(fatemeh, "Assignment", moe_02.pk) is not None
    remove_perm("mana.view_organization", _user(FATEMEH), _organization("MOE-HQ"))
    assert _node(fatemeh, "Assignment", moe_02.pk) is None
    assert _visible(fatemeh) == (1, {"MOE-HQ"})


# --- slices: targets, weights, scores -------------------------------------------------------------


@pytest.fixture
def moe_01(demo) -> dict:
    """The demo's first referral: Ali → Fatemeh, MOE-01 (target 3000), to be split by her."""
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    return {"fatemeh": client_for(FATEMEH), "id": encode_global_id("Referral", referral.pk), "pk": referral.pk}


def _refer_slice(client, referral: str, province: str, person: str) -> dict:
    result = mutate(
        client,
        REFER,
        {"source": referral, "province": province_id(province), "assignee": user_id(person), "deadline": "1402/11/10"},
    )
    assert result["errors"] == [], result
    return result["referral"]


def _register_and_approve(referrer, referral: dict, person: str, value: str) -> dict:
    """The slice's assignee registers ``value`` and submits; the referrer approves. Returns the save payload."""
    assignee = client_for(person)
    saved = mutate(assignee, SAVE, {"referral": referral["id"], "version": 0, "value": value})
    assert saved["errors"] == [], saved
    assert mutate(assignee, FINISH, {"referral": referral["id"], "version": 1})["errors"] == []
    assert mutate(referrer, FINISH, {"referral": referral["id"], "version": 2})["errors"] == []
    return saved


def test_slice_targets_must_agree_to_within_a_ten_thousandth(moe_01):
    """Broken rule: the slice-target tolerance loosened from 0.0001 to 0.01 (MOE-01 rolls up by SUM)."""
    fatemeh, referral = moe_01["fatemeh"], moe_01["id"]
    before = untouched_state()
    off = mutate(
        fatemeh,
        SPLIT,
        {"referral": referral, "version": 1, "slices": slice_specs((TEHRAN, "1200.001", {}), (ISFAHAN, "1800", {}))},
    )
    assert _codes(off) == ["SLICE_TARGETS_INCONSISTENT"]
    assert off["errors"][0]["message"] == "مجموع هدف برش‌ها باید با هدف بالادست (3000) برابر باشد؛ اکنون 3000.001 است."
    assert untouched_state() == before
    # A ten-thousandth, the precision targets are stored with, is within the tolerance.
    within = mutate(
        fatemeh,
        SPLIT,
        {"referral": referral, "version": 1, "slices": slice_specs((TEHRAN, "1200.0001", {}), (ISFAHAN, "1800", {}))},
    )
    assert within["errors"] == []
    assert [(s["province"]["code"], s["target"]) for s in within["referral"]["slices"]] == [
        (ISFAHAN, "1800"),
        (TEHRAN, "1200.0001"),
    ]


@pytest.fixture
def weighted(moe_01) -> dict:
    """MOE-01 rolled up by weighted average instead (no demo indicator is)."""
    Indicator.objects.filter(code="MOE-01").update(rollup=RollupRule.WEIGHTED_AVERAGE)
    return moe_01


def test_weighted_average_weighs_slice_targets_and_values(weighted):
    """Broken rule: weights ignored in the weighted average."""
    fatemeh, referral = weighted["fatemeh"], weighted["id"]
    before = untouched_state()
    # Without weights, 2000 and 6000 average 4000, not the parent's 3000.
    unweighted = mutate(
        fatemeh,
        SPLIT,
        {"referral": referral, "version": 1, "slices": slice_specs((TEHRAN, "2000", {}), (ISFAHAN, "6000", {}))},
    )
    assert _codes(unweighted) == ["SLICE_TARGETS_INCONSISTENT"]
    assert unweighted["errors"][0]["message"] == (
        "میانگین وزنی هدف برش‌ها باید با هدف بالادست (3000) برابر باشد؛ اکنون 4000 است."
    )
    assert untouched_state() == before
    # Weighted 3 : 1, they do: (3 × 2000 + 1 × 6000) / 4 = 3000.
    split = mutate(
        fatemeh,
        SPLIT,
        {
            "referral": referral,
            "version": 1,
            "slices": slice_specs((TEHRAN, "2000", {"weight": "3"}), (ISFAHAN, "6000", {"weight": "1"})),
        },
    )
    assert split["errors"] == []
    slices = fatemeh.data(SLICES, {"id": referral})["node"]["slices"]
    assert slices == [
        {"province": {"code": ISFAHAN}, "target": "6000", "weight": "1"},
        {"province": {"code": TEHRAN}, "target": "2000", "weight": "3"},
    ]
    tehran = _refer_slice(fatemeh, referral, TEHRAN, MOHAMMAD)
    isfahan = _refer_slice(fatemeh, referral, ISFAHAN, NARGES)
    _register_and_approve(fatemeh, tehran, MOHAMMAD, "2600")
    _register_and_approve(fatemeh, isfahan, NARGES, "5000")
    rolled = fatemeh.data(REFERRAL, {"id": referral})["node"]
    # (3 × 2600 + 1 × 5000) / 4 = 3200; the plain mean would be 3800.
    assert (rolled["status"], rolled["performance"]["value"]) == ("SUBMITTED", "3200")


@pytest.fixture
def bounded(moe_01) -> dict:
    """MOE-01's organization target 3000, counted between 2500 and 3500 (no demo assignment has bounds)."""
    Assignment.objects.filter(indicator__code="MOE-01").update(lower_bound=Decimal(2500), upper_bound=Decimal(3500))
    return moe_01


def test_provincial_slices_are_scored_on_their_own_target_without_the_organizations_bounds(bounded):
    """Broken rule: provincial slices scored with the organization's bounds."""
    fatemeh, referral = bounded["fatemeh"], bounded["id"]
    split = mutate(
        fatemeh,
        SPLIT,
        {"referral": referral, "version": 1, "slices": slice_specs((TEHRAN, "1200", {}), (ISFAHAN, "1800", {}))},
    )
    assert split["errors"] == []
    tehran = _refer_slice(fatemeh, referral, TEHRAN, MOHAMMAD)
    isfahan = _refer_slice(fatemeh, referral, ISFAHAN, NARGES)
    # 1300 is below the organization's lower bound (2500) but a slice is not held to it:
    # 85 × 1300 / 1200.
    tehran_saved = _register_and_approve(fatemeh, tehran, MOHAMMAD, "1300")
    assert tehran_saved["performance"]["score"] == "92.08"
    # 3550 is above the organization's upper bound (3500) and counts in full: 85 × 3550 / 1800.
    isfahan_saved = _register_and_approve(fatemeh, isfahan, NARGES, "3550")
    assert isfahan_saved["performance"]["score"] == "167.64"
    # The same scores on the read path.
    assert fatemeh.data(REFERRAL, {"id": tehran["id"]})["node"]["performance"]["score"] == "92.08"
    assert fatemeh.data(REFERRAL, {"id": isfahan["id"]})["node"]["performance"]["score"] == "167.64"
    # The organization's result, 4850, is held to its bounds: it counts as 3500 (85 × 3500 / 3000).
    rolled = fatemeh.data(REFERRAL, {"id": referral})["node"]
    assert (rolled["performance"]["value"], rolled["performance"]["score"]) == ("4850", "99.17")


# --- send for evaluation -------------------------------------------------------------------------


@pytest.fixture
def finalized(demo) -> Assignment:
    """MOE-02 (of MOE-HQ) registered finally, as the main leader's approval leaves it."""
    Assignment.objects.filter(indicator__code="MOE-02").update(status=ReferralStatus.FINALIZED)
    return Assignment.objects.get(indicator__code="MOE-02")


@pytest.mark.parametrize(
    "national_code",
    [
        FATEMEH,  # self-evaluator of MOE-HQ, whose unit holds the assignment
        SENIOR,  # senior leader, whose subtree holds it
        TEHRAN_LEADER,
        EVALUATOR,
    ],
)
def test_only_the_main_leader_sends_for_evaluation(finalized, national_code):
    """Broken rule: ``sendForEvaluation`` without its main-leader check."""
    before = untouched_state()
    refused = mutate(client_for(national_code), SEND, {"period": period_id()})
    assert _codes(refused) == ["NOT_ALLOWED"]
    assert refused["errors"][0]["message"] == "تنها راهبر اصلی دستگاه می‌تواند شاخص‌ها را برای ارزیابی ارسال کند."
    assert not refused["assignments"]
    assert untouched_state() == before


def test_the_main_leader_sends_his_finalized_assignments(finalized):
    sent = mutate(client_for(ALI), SEND, {"period": period_id()})
    assert sent["errors"] == []
    assert sent["assignments"] == [
        {"id": encode_global_id("Assignment", finalized.pk), "status": "SENT_FOR_EVALUATION"}
    ]
