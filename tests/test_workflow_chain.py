"""The referral chain end to end, as its people would go through it (docs/workflow.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.indicators import Assignment
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.referrals import Performance, Referral, ReferralEvent
from tests.workflow_helpers import (
    ALI,
    AMIR,
    FATEMEH,
    FINISH,
    HASAN,
    INBOX,
    REFER,
    REFERRAL,
    RETURN,
    SAVE,
    SEND,
    assignment_id,
    build_chain,
    client_for,
    mutate,
    period_id,
    user_id,
)

pytestmark = pytest.mark.django_db


def _state() -> tuple:
    """Everything a refused call must leave untouched."""
    return (
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        ReferralEvent.objects.count(),
        list(Performance.objects.order_by("id").values_list("id", "version", "value")),
        list(Assignment.objects.order_by("id").values_list("id", "status")),
        Performance.history.count(),
        # Who may see and change what: the guardian grants the chain moves.
        sorted(ReferralUserObjectPermission.objects.values_list("user_id", "permission_id", "content_object_id")),
        OrganizationUserObjectPermission.objects.count(),
    )


@pytest.fixture
def chain(demo):
    """Ali (main leader) refers MOE-02 to Fatemeh, who refers it to Amir."""
    return build_chain()


def _referral(client, referral_id):
    return client.data(REFERRAL, {"id": referral_id})["node"]


def test_refer_creates_the_chain_with_history_and_inboxes(chain):
    top, child = chain["top"], chain["child"]
    assert top["status"] == "IN_PROGRESS"
    assert child["status"] == "IN_PROGRESS"
    assert child["target"] == "36.5"
    assert child["deadline"] == "1402/11/10"
    assert child["referrer"] == {"nationalCode": FATEMEH}
    assert child["assignee"] == {"nationalCode": AMIR}
    assert child["assignment"]["indicator"] == {
        "title": "راندمان شبکه برق کشور",
        "unit": "درصد",
        "nature": "HIGHER_IS_BETTER",
        "kind": "SPECIFIC",
    }
    # Fatemeh's own referral is now delegated, with its history.
    top_now = _referral(chain["fatemeh"], top["id"])
    assert top_now["status"] == "DELEGATED"
    assert [(e["fromStatus"], e["toStatus"], e["actor"]["nationalCode"]) for e in top_now["timeline"]] == [
        (None, "IN_PROGRESS", ALI),
        ("IN_PROGRESS", "DELEGATED", FATEMEH),
    ]
    assert Assignment.objects.get(indicator__code="MOE-02").status == "DELEGATED"
    # Amir's inbox holds his item, with what the seed's inbox shows.
    inbox = chain["amir"].data(INBOX, {"period": period_id()})["inbox"]
    assert inbox["totalCount"] == 1
    item = inbox["edges"][0]["node"]
    assert item["id"] == child["id"]
    assert item["inboxAction"] == "REGISTER_OR_REFER"
    assert item["assignment"]["scoreCap"] == "170"
    assert isinstance(item["daysLeft"], int) and item["daysLeft"] < 0  # 1402 is long past
    assert item["isOverdue"] is True


def test_register_finish_return_approve_and_finalize(chain):
    ali, fatemeh, amir = chain["ali"], chain["fatemeh"], chain["amir"]
    child_id, top_id = chain["child"]["id"], chain["top"]["id"]

    # Finishing without a value is refused and changes nothing.
    before = _state()
    refused = mutate(amir, FINISH, {"referral": child_id, "version": 1})
    assert [e["code"] for e in refused["errors"]] == ["VALUE_REQUIRED"]
    assert _state() == before

    saved = mutate(
        amir,
        SAVE,
        {
            "referral": child_id,
            "version": 0,
            "value": "30",
            "comments": "پیش‌نویس",
            "hasStrategicPlan": True,
            "isRegistryBased": True,
            "registryComments": "ثبت",
        },
    )
    assert saved["errors"] == []
    assert saved["performance"]["version"] == 1
    assert saved["performance"]["score"] == "69.86"  # 85 × 30 / 36.5
    # A stale version is a conflict and overwrites nothing.
    before = _state()
    stale = mutate(amir, SAVE, {"referral": child_id, "version": 0, "value": "99"})
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert _state() == before
    saved = mutate(amir, SAVE, {"referral": child_id, "version": 1, "value": "36.5", "obstacles": "کمبود اعتبار"})
    assert saved["performance"]["version"] == 2
    assert saved["performance"]["comments"] == "پیش‌نویس"  # omitted fields keep their value
    assert [(c["oldValue"], c["newValue"]) for c in saved["performance"]["valueHistory"]] == [
        (None, "30"),
        ("30", "36.5"),
    ]

    submitted = mutate(amir, FINISH, {"referral": child_id, "version": 1})
    assert submitted["errors"] == []
    assert submitted["referral"]["status"] == "SUBMITTED"
    # Submitted: Amir can no longer edit; finishing twice is refused. Neither changes anything.
    before = _state()
    assert [e["code"] for e in mutate(amir, SAVE, {"referral": child_id, "version": 2, "value": "1"})["errors"]] == [
        "INVALID_STATE"
    ]
    assert [e["code"] for e in mutate(amir, FINISH, {"referral": child_id, "version": 2})["errors"]] == [
        "INVALID_STATE"
    ]
    assert _state() == before
    # Fatemeh sees it waiting for her review.
    review = fatemeh.data(INBOX, {"period": period_id(), "status": "SUBMITTED"})["inbox"]
    assert [(e["node"]["id"], e["node"]["inboxAction"]) for e in review["edges"]] == [(child_id, "REVIEW")]

    # Returning needs a reason; with one, it goes back to Amir.
    before = _state()
    no_reason = mutate(fatemeh, RETURN, {"referral": child_id, "version": 2, "reason": "  "})
    assert [e["code"] for e in no_reason["errors"]] == ["REASON_REQUIRED"]
    assert _state() == before
    returned = mutate(fatemeh, RETURN, {"referral": child_id, "version": 2, "reason": "مستندات ناقص است"})
    assert returned["referral"]["status"] == "RETURNED"
    assert returned["referral"]["timeline"][-1]["reason"] == "مستندات ناقص است"
    assert amir.data(INBOX, {"period": period_id()})["inbox"]["edges"][0]["node"]["inboxAction"] == "CORRECT"

    mutate(amir, SAVE, {"referral": child_id, "version": 2, "value": "37"})
    assert mutate(amir, FINISH, {"referral": child_id, "version": 3})["errors"] == []

    # Fatemeh approves: Amir's item is approved, and its result goes up as her submission to Ali.
    approved = mutate(fatemeh, FINISH, {"referral": child_id, "version": 4})
    assert approved["errors"] == []
    assert approved["referral"]["status"] == "APPROVED"
    # Returning an approved item is refused, and changes nothing.
    before = _state()
    assert [
        e["code"] for e in mutate(fatemeh, RETURN, {"referral": child_id, "version": 5, "reason": "x"})["errors"]
    ] == ["INVALID_STATE"]
    assert _state() == before
    top = _referral(ali, top_id)
    assert top["status"] == "SUBMITTED"
    assert top["performance"]["value"] == "37"
    assert top["performance"]["comments"] == "پیش‌نویس"

    # Ali's approval is the final registration.
    final = mutate(ali, FINISH, {"referral": top_id, "version": top["version"]})
    assert final["errors"] == []
    assert final["referral"]["status"] == "FINALIZED"
    assert final["referral"]["assignment"]["status"] == "FINALIZED"
    assignment = ali.data(
        "query($id: ID!) { node(id: $id) { ... on Assignment { status score performance { value } } } }",
        {"id": assignment_id("MOE-02")},
    )["node"]
    # 85 × 37 / 36.5, under the cap of 170.
    assert assignment == {"status": "FINALIZED", "score": "86.16", "performance": {"value": "37"}}
    # After the final registration nothing below can change it.
    before = _state()
    locked = mutate(amir, SAVE, {"referral": child_id, "version": 3, "value": "1"})
    assert [e["code"] for e in locked["errors"]] == ["ASSIGNMENT_FINALIZED"]
    assert _state() == before

    # The main leader sends the finalized assignments for evaluation.
    sent = mutate(ali, SEND, {"period": period_id()})
    assert sent["errors"] == []
    assert sent["assignments"] == [{"id": assignment_id("MOE-02"), "status": "SENT_FOR_EVALUATION"}]
    before = _state()
    assert [e["code"] for e in mutate(ali, SEND, {"period": period_id()})["errors"]] == ["NOTHING_TO_SEND"]
    assert _state() == before


def test_refusals_of_refer_change_nothing(chain, demo):
    ali, fatemeh = chain["ali"], chain["fatemeh"]
    cases = [
        # Already referred.
        (
            ali,
            {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/10"},
            "ALREADY_REFERRED",
        ),
        # Amir is Fatemeh's subordinate, not Ali's.
        (
            ali,
            {"source": assignment_id("MOE-03"), "assignee": user_id(AMIR), "deadline": "1402/11/10"},
            "NOT_SUBORDINATE",
        ),
        # Later than the assignment's deadline (1402/11/20).
        (
            ali,
            {"source": assignment_id("MOE-03"), "assignee": user_id(FATEMEH), "deadline": "1402/11/25"},
            "DEADLINE_AFTER_PARENT",
        ),
        (
            ali,
            {"source": assignment_id("MOE-03"), "assignee": user_id(FATEMEH), "deadline": "1402/12/05"},
            "DEADLINE_OUTSIDE_PERIOD",
        ),
        # Fatemeh's referral is delegated already; and she cannot refer Ali's assignment.
        (fatemeh, {"source": chain["top"]["id"], "assignee": user_id(AMIR), "deadline": "1402/11/01"}, "INVALID_STATE"),
        (
            fatemeh,
            {"source": assignment_id("MOE-03"), "assignee": user_id(AMIR), "deadline": "1402/11/01"},
            "NOT_ALLOWED",
        ),
        # Amir's referral to someone else's subordinate.
        (
            chain["amir"],
            {"source": chain["child"]["id"], "assignee": user_id(FATEMEH), "deadline": "1402/11/01"},
            "NOT_SUBORDINATE",
        ),
    ]
    for client, input, code in cases:
        before = _state()
        result = mutate(client, REFER, input)
        assert [e["code"] for e in result["errors"]] == [code], (input, result)
        assert result["referral"] is None
        assert all(e["message"] for e in result["errors"])
        assert _state() == before


def test_out_of_scope_actors_see_nothing_and_change_nothing(chain):
    hasan = client_for(HASAN)
    child_id = chain["child"]["id"]
    # Another ministry's leader: the referral does not exist for him.
    assert hasan.data(REFERRAL, {"id": child_id}) == {"node": None}
    before = _state()
    result = mutate(hasan, FINISH, {"referral": child_id, "version": 1})
    assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"]
    assert _state() == before
    # Amir sees his referral but not the one above it.
    mine = _referral(chain["amir"], child_id)
    assert mine["id"] == child_id
    assert chain["amir"].data(REFERRAL, {"id": chain["top"]["id"]}) == {"node": None}
    # Ali, at the top of the chain, reads all of it.
    assert _referral(chain["ali"], child_id)["assignee"] == {"nationalCode": AMIR}
    # Ali may read but not register on Amir's referral.
    result = mutate(chain["ali"], SAVE, {"referral": child_id, "version": 0, "value": "1"})
    assert [e["code"] for e in result["errors"]] == ["NOT_ASSIGNEE"]
    assert _state() == before


def test_anonymous_gets_unauthenticated(db, gql, demo):
    assert gql.error_codes(INBOX, {"period": period_id()}) == ["UNAUTHENTICATED"]
    assert gql.error_codes(FINISH, {"input": {"referral": "UmVmZXJyYWw6MQ==", "version": 1}}) == ["UNAUTHENTICATED"]


def test_score_formula_edges():
    from models.scoring import score

    common = {"target": Decimal("100"), "weight": Decimal("50"), "cap": Decimal("100")}
    assert score(value=None, nature="HIGHER_IS_BETTER", **common) is None
    assert score(value=Decimal("0"), nature="HIGHER_IS_BETTER", **common) == Decimal("0.00")
    assert score(value=Decimal("100"), nature="HIGHER_IS_BETTER", **common) == Decimal("50.00")
    assert score(value=Decimal("500"), nature="HIGHER_IS_BETTER", **common) == Decimal("100.00")  # capped
    assert score(value=Decimal("50"), nature="LOWER_IS_BETTER", **common) == Decimal("100.00")
    assert score(value=Decimal("200"), nature="LOWER_IS_BETTER", **common) == Decimal("25.00")
    assert score(value=Decimal("0"), nature="LOWER_IS_BETTER", **common) == Decimal("100.00")
    bounded = {**common, "lower_bound": Decimal("60"), "upper_bound": Decimal("150")}
    assert score(value=Decimal("59"), nature="HIGHER_IS_BETTER", **bounded) == Decimal("0.00")
    assert score(value=Decimal("180"), nature="HIGHER_IS_BETTER", **bounded) == Decimal("75.00")
    assert score(value=Decimal("160"), nature="LOWER_IS_BETTER", **bounded) == Decimal("0.00")
    assert score(value=Decimal("40"), nature="LOWER_IS_BETTER", **bounded) == Decimal("83.33")
    assert (
        score(value=Decimal("10"), target=Decimal("0"), weight=Decimal(1), cap=Decimal(2), nature="HIGHER_IS_BETTER")
        is None
    )


def test_forward_links_stay_in_scope(chain):
    """Whatever path an object comes by (payload, inbox, node), links out of scope are null."""
    amir, child_id = chain["amir"], chain["child"]["id"]
    saved = amir.data(
        """mutation($input: SavePerformanceInput!) { savePerformance(input: $input) { errors { code } } }""",
        {"input": {"referral": child_id, "version": 0, "value": "30"}},
    )
    assert saved == {"savePerformance": {"errors": []}}
    finished = amir.data(
        """mutation($input: FinishReferralInput!) { finishReferral(input: $input) { referral {
             parent { id } referrer { organization { code } }
             timeline { actor { nationalCode organization { code } } } } } }""",
        {"input": {"referral": child_id, "version": 1}},
    )["finishReferral"]["referral"]
    # The referral above Amir's is Fatemeh's and Ali's business.
    assert finished["parent"] is None
    assert finished["referrer"] == {"organization": {"code": "MOE-HQ"}}
    # Amir's history names Fatemeh (who referred) and himself, with their units.
    assert {
        (e["actor"]["nationalCode"], (e["actor"]["organization"] or {}).get("code")) for e in finished["timeline"]
    } == {
        (FATEMEH, "MOE-HQ"),
        (AMIR, "MOE-HQ"),
    }
    # Fatemeh, one level up, sees the parent link to her own referral.
    assert _referral(chain["fatemeh"], child_id)["id"] == child_id
    parent = chain["fatemeh"].data(
        "query($id: ID!) { node(id: $id) { ... on Referral { parent { id } } } }", {"id": child_id}
    )
    assert parent == {"node": {"parent": {"id": chain["top"]["id"]}}}
    # Ali's unit (the ministry) stays out of Fatemeh's headquarters scope.
    ali_org = chain["fatemeh"].data(
        "query($id: ID!) { node(id: $id) { ... on Referral { referrer { nationalCode organization { code } } } } }",
        {"id": chain["top"]["id"]},
    )
    assert ali_org == {"node": {"referrer": {"nationalCode": ALI, "organization": None}}}


def test_assignees_outside_the_unit_see_what_was_referred_to_them(seeded_slice):
    mohammad, referral_id = seeded_slice
    item = mohammad.data(INBOX, {"period": period_id()})["inbox"]["edges"][0]["node"]
    assert item["id"] == referral_id
    assert item["assignment"]["indicator"]["title"] == "تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی"
    # The assignment (at ستاد, outside his Tehran unit) is readable by id too, and its unit.
    assignment = mohammad.data(
        "query($id: ID!) { node(id: $id) { ... on Assignment { organization { code } target } } }",
        {"id": assignment_id("MOE-01")},
    )
    assert assignment == {"node": {"organization": {"code": "MOE-HQ"}, "target": "3000"}}
    # But not the other assignments of that unit.
    assert mohammad.data("query($id: ID!) { node(id: $id) { id } }", {"id": assignment_id("MOE-02")}) == {"node": None}


@pytest.fixture
def seeded_slice(demo):
    from tests.workflow_helpers import MOHAMMAD, SPLIT, province_id

    fatemeh = client_for(FATEMEH)
    referral = Referral.objects.get(assignment__indicator__code="MOE-01")
    from schema.ids import encode_global_id

    gid = encode_global_id("Referral", referral.pk)
    slices = [
        {"province": province_id("IR-23"), "target": "1000"},
        {"province": province_id("IR-10"), "target": "2000"},
    ]
    assert mutate(fatemeh, SPLIT, {"referral": gid, "version": 1, "slices": slices})["errors"] == []
    tehran = mutate(
        fatemeh,
        REFER,
        {"source": gid, "province": province_id("IR-23"), "assignee": user_id(MOHAMMAD), "deadline": "1402/11/10"},
    )
    assert tehran["errors"] == []
    return client_for(MOHAMMAD), tehran["referral"]["id"]


def test_inbox_pages_in_a_stable_order_for_previous_and_next(chain):
    """«شاخص قبلی / شاخص بعدی»: one item a page, by deadline then id, the same on every request."""
    fatemeh, period = chain["fatemeh"], period_id()
    whole = fatemeh.data(INBOX, {"period": period})["inbox"]
    order = [(e["node"]["deadline"], e["node"]["id"]) for e in whole["edges"]]
    assert order == sorted(order, key=lambda item: (item[0], Referral.objects.get(pk=_pk(item[1])).pk))
    assert [d for d, _ in order] == ["1402/11/15", "1402/11/18"]  # the demo's MOE-01, then MOE-02
    seen, after = [], None
    while True:
        page = fatemeh.data(INBOX, {"period": period, "first": 1, "after": after})["inbox"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [item_id for _, item_id in order]
    assert fatemeh.data(INBOX, {"period": period})["inbox"] == whole


def _pk(global_id: str) -> int:
    from schema.ids import decode_global_id

    return decode_global_id(global_id, "Referral")[1]
