"""Provincial breakdown (برش استانی): by the assignee (split, then refer each slice) and by the
referrer (slices in the same call), with roll-up by the indicator's rule."""

from __future__ import annotations

import pytest

from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.referrals import Performance, ProvincialSlice, Referral, ReferralEvent
from schema.ids import encode_global_id
from tests.workflow_helpers import (
    ALI,
    AMIR,
    FATEMEH,
    FINISH,
    INBOX,
    MOHAMMAD,
    NARGES,
    REFER,
    REFERRAL,
    SARA,
    SAVE,
    SPLIT,
    assignment_id,
    client_for,
    mutate,
    period_id,
    province_id,
    user_id,
)

pytestmark = pytest.mark.django_db
TEHRAN, ISFAHAN, FARS = "IR-23", "IR-10", "IR-07"


def _state() -> tuple:
    return (
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        list(ProvincialSlice.objects.order_by("id").values_list("id", "province_id", "target")),
        ReferralEvent.objects.count(),
        list(Performance.objects.order_by("id").values_list("id", "version", "value")),
        Performance.history.count(),
        ReferralUserObjectPermission.objects.count(),
        OrganizationUserObjectPermission.objects.count(),
    )


def _codes(payload) -> list[str]:
    return [error["code"] for error in payload["errors"]]


@pytest.fixture
def seeded(demo):
    """The demo's first referral: Ali → Fatemeh, MOE-01 (villages, a count: SUM), to be split by her."""
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    return {"fatemeh": client_for(FATEMEH), "id": encode_global_id("Referral", referral.pk)}


def _slices(*pairs):
    return [{"province": province_id(code), "target": target} for code, target in pairs]


def test_split_by_the_assignee_then_refer_each_slice_and_roll_up(seeded):
    fatemeh, referral = seeded["fatemeh"], seeded["id"]
    item = fatemeh.data(REFERRAL, {"id": referral})["node"]
    assert (item["hasProvincialBreakdown"], item["breakdownBy"], item["status"]) == (True, "ASSIGNEE", "IN_PROGRESS")

    # Referring before splitting is refused.
    before = _state()
    early = mutate(fatemeh, REFER, {"source": referral, "assignee": user_id(MOHAMMAD), "deadline": "1402/11/10"})
    assert _codes(early) == ["NOT_SPLIT"]
    assert _state() == before

    refusals = [
        ({"version": 1, "slices": _slices((TEHRAN, "1000"), (ISFAHAN, "1500"))}, "SLICE_TARGETS_INCONSISTENT"),
        ({"version": 1, "slices": _slices((TEHRAN, "1500"), (TEHRAN, "1500"))}, "SLICE_PROVINCE_DUPLICATE"),
        (
            {"version": 1, "slices": [{"province": encode_global_id("Province", 99999), "target": "3000"}]},
            "UNKNOWN_PROVINCE",
        ),
        ({"version": 1, "slices": []}, "SLICES_REQUIRED"),
        ({"version": 7, "slices": _slices((TEHRAN, "1200"), (ISFAHAN, "1800"))}, "CONFLICT"),
    ]
    for input, code in refusals:
        result = mutate(fatemeh, SPLIT, {"referral": referral, **input})
        assert _codes(result) == [code], (input, result)
        assert result["errors"][0]["message"]
        assert _state() == before
    inconsistent = mutate(fatemeh, SPLIT, {"referral": referral, "version": 1, **{"slices": _slices((TEHRAN, "1"))}})
    assert "مجموع هدف برش‌ها" in inconsistent["errors"][0]["message"]

    split = mutate(
        fatemeh, SPLIT, {"referral": referral, "version": 1, "slices": _slices((TEHRAN, "1200"), (ISFAHAN, "1800"))}
    )
    assert split["errors"] == []
    assert [(s["province"]["code"], s["target"]) for s in split["referral"]["slices"]] == [
        (ISFAHAN, "1800"),
        (TEHRAN, "1200"),
    ]
    before = _state()
    again = mutate(fatemeh, SPLIT, {"referral": referral, "version": 2, "slices": _slices((TEHRAN, "3000"))})
    assert _codes(again) == ["ALREADY_SPLIT"]
    assert _state() == before

    def refer_slice(code, person, deadline="1402/11/10"):
        return mutate(
            fatemeh,
            REFER,
            {"source": referral, "province": province_id(code), "assignee": user_id(person), "deadline": deadline},
        )

    tehran = refer_slice(TEHRAN, MOHAMMAD)
    assert tehran["errors"] == []
    assert (tehran["referral"]["province"], tehran["referral"]["target"]) == ({"code": TEHRAN}, "1200")
    before = _state()
    assert _codes(refer_slice(TEHRAN, NARGES)) == ["ALREADY_REFERRED"]
    assert _codes(refer_slice(FARS, NARGES)) == ["UNKNOWN_PROVINCE"]
    assert _codes(refer_slice(ISFAHAN, NARGES, "1402/11/16")) == ["DEADLINE_AFTER_PARENT"]  # parent: 1402/11/15
    assert _state() == before
    isfahan = refer_slice(ISFAHAN, NARGES)
    assert isfahan["errors"] == []
    assert fatemeh.data(REFERRAL, {"id": referral})["node"]["status"] == "DELEGATED"

    mohammad, narges = client_for(MOHAMMAD), client_for(NARGES)
    saved = mutate(mohammad, SAVE, {"referral": tehran["referral"]["id"], "version": 0, "value": "1300"})
    assert saved["performance"]["score"] == "92.08"  # a slice is scored on its own target: 85 × 1300 / 1200
    assert mutate(mohammad, FINISH, {"referral": tehran["referral"]["id"], "version": 1})["errors"] == []
    mutate(narges, SAVE, {"referral": isfahan["referral"]["id"], "version": 0, "value": "1900"})
    assert mutate(narges, FINISH, {"referral": isfahan["referral"]["id"], "version": 1})["errors"] == []

    # One approved slice is not enough to roll up.
    assert mutate(fatemeh, FINISH, {"referral": tehran["referral"]["id"], "version": 2})["errors"] == []
    assert fatemeh.data(REFERRAL, {"id": referral})["node"]["status"] == "DELEGATED"
    assert mutate(fatemeh, FINISH, {"referral": isfahan["referral"]["id"], "version": 2})["errors"] == []
    rolled = fatemeh.data(REFERRAL, {"id": referral})["node"]
    assert rolled["status"] == "SUBMITTED"
    assert rolled["performance"]["value"] == "3200"  # SUM of 1300 and 1900
    assert "تهران: 1300" in rolled["performance"]["comments"]
    assert rolled["timeline"][-1]["reason"] == "تجمیع برش‌های استانی"

    ali = client_for(ALI)
    review = ali.data(INBOX, {"period": period_id()})["inbox"]
    assert [(e["node"]["id"], e["node"]["inboxAction"]) for e in review["edges"]] == [(referral, "REVIEW")]
    final = mutate(ali, FINISH, {"referral": referral, "version": rolled["version"]})
    assert final["referral"]["status"] == "FINALIZED"
    assert final["referral"]["performance"]["score"] == "90.67"  # 85 × 3200 / 3000


def test_breakdown_by_the_referrer_in_the_same_call(demo):
    ali = client_for(ALI)
    base = {
        "source": assignment_id("MOE-02"),  # راندمان شبکه برق: a percentage, rolled up by AVERAGE (36.5)
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
        ({"slices": slices((TEHRAN, "36", FATEMEH, {}), (ISFAHAN, "38", SARA, {}))}, "SLICE_TARGETS_INCONSISTENT"),
        ({"slices": slices((TEHRAN, "36", FATEMEH, {}), (ISFAHAN, "37", AMIR, {}))}, "NOT_SUBORDINATE"),
        (
            {"slices": slices((TEHRAN, "36", FATEMEH, {"deadline": "1402/11/16"}), (ISFAHAN, "37", SARA, {}))},
            "DEADLINE_AFTER_PARENT",
        ),
        ({"slices": None, "breakdownBy": None}, "BREAKDOWN_BY_REQUIRED"),
        ({"slices": []}, "SLICES_REQUIRED"),
        (
            {"hasProvincialBreakdown": False, "breakdownBy": None, "slices": slices((TEHRAN, "36.5", SARA, {}))},
            "BREAKDOWN_INVALID",
        ),
    ]
    before = _state()
    for change, code in refusals:
        result = mutate(ali, REFER, {**base, **change})
        assert _codes(result) == [code], (change, result)
        assert _state() == before
    not_subordinate = mutate(ali, REFER, {**base, **refusals[1][0]})
    assert not_subordinate["errors"][0]["field"] == "slices.1.assignee"

    made = mutate(ali, REFER, {**base, "slices": slices((TEHRAN, "36", FATEMEH, {}), (ISFAHAN, "37", SARA, {}))})
    assert made["errors"] == []
    parent = made["referral"]
    assert parent["status"] == "DELEGATED"
    assert [(s["province"]["code"], s["target"]) for s in parent["slices"]] == [
        (ISFAHAN, "37"),
        (TEHRAN, "36"),
    ]
    children = Referral.objects.filter(parent__pk=int(ReferralId(parent["id"]))).order_by("province__code")
    assert [(c.province.code, str(c.target), c.assignee.national_code) for c in children] == [
        (ISFAHAN, "37.0000", SARA),
        (TEHRAN, "36.0000", FATEMEH),
    ]
    fatemeh, sara = client_for(FATEMEH), client_for(SARA)
    for client, child, value in ((fatemeh, children[1], "40"), (sara, children[0], "35")):
        gid = encode_global_id("Referral", child.pk)
        assert mutate(client, SAVE, {"referral": gid, "version": 0, "value": value})["errors"] == []
        assert mutate(client, FINISH, {"referral": gid, "version": 1})["errors"] == []
        # The slices were referred by Ali: he approves them.
        assert mutate(ali, FINISH, {"referral": gid, "version": 2})["errors"] == []
    rolled = ali.data(REFERRAL, {"id": parent["id"]})["node"]
    assert (rolled["status"], rolled["performance"]["value"]) == ("SUBMITTED", "37.5")  # AVERAGE of 40 and 35


def ReferralId(global_id: str) -> str:
    from schema.ids import decode_global_id

    return str(decode_global_id(global_id, "Referral")[1])
