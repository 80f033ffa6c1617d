"""Evaluation and feedback (issue 10 §3) through the real endpoint: the senior leader and the
evaluators given an assignment read everything that was sent for evaluation (and nothing before);
the senior leader gives assignments to evaluators and publishes; an evaluator scores within the cap
and writes feedback; the organization reads it once published. Every refusal changes nothing."""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import remove_perm

from models.demo import DEMO_PASSWORD
from models.evaluations import Evaluation, EvaluatorAssignment
from models.indicators import Assignment, ReferralStatus
from models.organization import Organization
from models.users import User
from schema.ids import encode_global_id
from tests.evaluation_helpers import (
    ASSIGN,
    EVALUATE,
    PUBLISH,
    REVIEW,
    REZA,
    SENIOR,
    SENT_ASSIGNMENT,
    evaluation_state,
    send,
    sent_chain,
)
from tests.evidence_helpers import download
from tests.workflow_helpers import ALI, AMIR, FATEMEH, HASAN, assignment_id, client_for, mutate, period_id, user_id

pytestmark = pytest.mark.django_db

MOE_02 = "MOE-02"
HONORARY = "0010000143"  # an honorary evaluator, made by the test
SENT_LIST = """query($period: ID!, $status: ReferralStatus, $first: Int) {
  sentForEvaluation(period: $period, status: $status, first: $first) { totalCount edges { node {
    id status score evaluatedScore isApplicable indicator { code } organization { code }
    performance { value evidence { url } } evaluation { score evaluator { nationalCode } }
    evaluations { score } evaluators { nationalCode } nonApplicabilityRequests { status }
    referrals(first: 5) { edges { node { id timeline { toStatus } } } } } } } }"""
EVALUATION_NODE = """query($id: ID!) { node(id: $id) { ... on Evaluation {
  id score feedback publishedAt updatedAt evaluator { nationalCode } assignment { id } } } }"""


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def chain(demo, private_root):
    """MOE-02 finalized (not yet sent) by the demo's people through the API."""
    return sent_chain()


def read(client, global_id: str) -> dict | None:
    return client.data(SENT_ASSIGNMENT, {"id": global_id})["node"]


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def give(assignments: list[str], evaluator: str = REZA) -> dict:
    payload = mutate(client_for(SENIOR), ASSIGN, {"assignments": assignments, "evaluator": user_id(evaluator)})
    assert payload["errors"] == [], payload
    return payload


# --- reading what was sent -----------------------------------------------------------------------


def test_the_senior_leader_and_the_given_evaluator_read_everything_sent_and_nothing_before(chain):
    senior, reza, hasan = client_for(SENIOR), client_for(REZA), client_for(HASAN)
    moe02 = assignment_id(MOE_02)
    # Finalized but not sent: the chain is still its people's — the senior leader sees the
    # assignment (his subtree) but no result, no referral, no evidence.
    before = read(senior, moe02)
    assert before["status"] == "FINALIZED"
    assert (before["performance"], before["score"], before["referrals"]["totalCount"]) == (None, None, 0)
    assert senior.data("query($id: ID!) { node(id: $id) { id } }", {"id": chain["top"]})["node"] is None

    send(chain)
    seen = read(senior, moe02)
    assert seen["status"] == "SENT_FOR_EVALUATION"
    # 85 × 37 / 36.5, the self-registered score; value, narrative and evidence as registered.
    assert seen["score"] == "86.16"
    assert seen["performance"]["value"] == "37"
    assert seen["performance"]["comments"] == "گزارش"
    assert [e["fileName"] for e in seen["performance"]["evidence"]] == ["report.pdf"]
    chain_seen = [edge["node"] for edge in seen["referrals"]["edges"]]
    assert seen["referrals"]["totalCount"] == 2
    top = next(r for r in chain_seen if r["id"] == chain["top"])
    # The timeline, to the sending, with its people named.
    assert [e["toStatus"] for e in top["timeline"]][-2:] == ["FINALIZED", "SENT_FOR_EVALUATION"]
    assert {(r["referrer"]["nationalCode"], r["assignee"]["nationalCode"]) for r in chain_seen} == {
        (ALI, FATEMEH),
        (FATEMEH, AMIR),
    }
    assert senior.data("query($id: ID!) { node(id: $id) { id } }", {"id": chain["top"]})["node"] == {
        "id": chain["top"]
    }
    response, body = download(senior, seen["performance"]["evidence"][0]["url"])
    assert response.status_code == 200 and body.startswith(b"%PDF")

    # ARO's evaluator reads nothing of it until it is given to him; then all of it.
    assert read(reza, moe02) is None
    assert download(reza, seen["performance"]["evidence"][0]["url"])[0].status_code == 404
    give([moe02])
    given = read(reza, moe02)
    assert given["performance"] == seen["performance"]
    assert given["score"] == "86.16"
    assert given["referrals"]["totalCount"] == 2
    assert given["evaluators"] == [{"nationalCode": REZA}]
    assert download(reza, seen["performance"]["evidence"][0]["url"])[0].status_code == 200
    # The other ministry's leader still sees none of it.
    assert read(hasan, moe02) is None
    assert download(hasan, seen["performance"]["evidence"][0]["url"])[0].status_code == 404


def test_an_evaluator_sees_only_what_was_given_and_loses_it_with_the_role_grant(chain, demo):
    send(chain)
    moe02 = assignment_id(MOE_02)
    # A second assignment sent (as the scale data does): not given to Reza, so not his to read.
    Assignment.objects.filter(indicator__code="MOE-04").update(status=ReferralStatus.SENT_FOR_EVALUATION)
    give([moe02])
    reza = client_for(REZA)
    listed = reza.data(SENT_LIST, {"period": period_id()})["sentForEvaluation"]
    assert [e["node"]["indicator"]["code"] for e in listed["edges"]] == [MOE_02]
    assert listed["edges"][0]["node"]["organization"]["code"] == "MOE-HQ"
    assert read(reza, assignment_id("MOE-04")) is None
    # The senior leader's list is every assignment sent, with its evaluators.
    senior_list = client_for(SENIOR).data(SENT_LIST, {"period": period_id()})["sentForEvaluation"]
    assert [(e["node"]["indicator"]["code"], e["node"]["evaluators"]) for e in senior_list["edges"]] == [
        (MOE_02, [{"nationalCode": REZA}]),
        ("MOE-04", []),
    ]
    # Withdrawing the evaluator's role grant (admin console) withdraws what was given, at once.
    reza_user = User.objects.get(national_code=REZA)
    remove_perm("mana.view_organization", reza_user, Organization.objects.get(code="ARO"))
    assert read(reza, moe02) is None
    assert reza.data(SENT_LIST, {"period": period_id()})["sentForEvaluation"]["totalCount"] == 0


def test_sent_for_evaluation_scope(chain, gql):
    send(chain)
    query = "query($period: ID!) { sentForEvaluation(period: $period) { totalCount edges { node { id } } } }"
    assert gql.error_codes(query, {"period": period_id()}) == ["UNAUTHENTICATED"]
    assert client_for(HASAN).data(query, {"period": period_id()})["sentForEvaluation"]["totalCount"] == 0
    assert client_for(REZA).data(query, {"period": period_id()})["sentForEvaluation"]["totalCount"] == 0
    for person in (SENIOR, ALI):
        listed = client_for(person).data(query, {"period": period_id()})["sentForEvaluation"]
        assert [e["node"]["id"] for e in listed["edges"]] == [assignment_id(MOE_02)]
    evaluated_only = """query($period: ID!) { sentForEvaluation(period: $period, status: EVALUATED) { totalCount } }"""
    assert client_for(SENIOR).data(evaluated_only, {"period": period_id()})["sentForEvaluation"]["totalCount"] == 0


# --- giving to evaluators ------------------------------------------------------------------------


def test_assign_evaluators_refusals_change_nothing_and_giving_again_is_a_no_op(chain):
    send(chain)
    senior = client_for(SENIOR)
    moe02, moe03 = assignment_id(MOE_02), assignment_id("MOE-03")
    before = evaluation_state()
    refusals = [
        (client_for(ALI), {"assignments": [moe02], "evaluator": user_id(REZA)}, [(None, "NOT_ALLOWED")]),
        (client_for(REZA), {"assignments": [moe02], "evaluator": user_id(REZA)}, [(None, "NOT_ALLOWED")]),
        (senior, {"assignments": [moe02], "evaluator": user_id(FATEMEH)}, [("evaluator", "NOT_EVALUATOR")]),
        (
            senior,
            {"assignments": [moe02, moe03], "evaluator": user_id(REZA)},
            [("assignments.1", "NOT_SENT_FOR_EVALUATION")],
        ),
        (senior, {"assignments": [], "evaluator": user_id(REZA)}, [("assignments", "ASSIGNMENTS_REQUIRED")]),
        (senior, {"assignments": [user_id(REZA)], "evaluator": user_id(REZA)}, [("assignments.0", "INVALID_ID")]),
    ]
    for client, payload_input, expected in refusals:
        payload = mutate(client, ASSIGN, payload_input)
        assert codes(payload) == expected, payload
        assert all(e["message"] for e in payload["errors"])
        assert evaluation_state() == before

    given = give([moe02, moe02])
    expected = {"id": moe02, "status": "SENT_FOR_EVALUATION", "evaluators": [{"nationalCode": REZA}]}
    assert given["assignments"] == [expected]
    again = give([moe02])
    assert again["assignments"][0]["evaluators"] == [{"nationalCode": REZA}]
    assert EvaluatorAssignment.objects.count() == 1


def test_not_applicable_assignments_are_not_given(chain):
    send(chain)
    Assignment.objects.filter(indicator__code=MOE_02).update(is_applicable=False)
    before = evaluation_state()
    payload = mutate(
        client_for(SENIOR), ASSIGN, {"assignments": [assignment_id(MOE_02)], "evaluator": user_id(REZA)}
    )
    assert codes(payload) == [("assignments.0", "NOT_APPLICABLE")]
    assert evaluation_state() == before


# --- evaluating and publishing -------------------------------------------------------------------


def test_done_when_an_evaluator_scores_a_finalized_assignment_and_the_organization_reads_the_feedback(chain):
    send(chain)
    moe02 = assignment_id(MOE_02)
    reza, senior, ali, fatemeh, hasan = (client_for(p) for p in (REZA, SENIOR, ALI, FATEMEH, HASAN))
    good = {"assignment": moe02, "score": "120.5", "feedback": "مستندات کامل و قابل اتکا است."}

    # Not given to him yet: indistinguishable from an assignment that does not exist.
    before = evaluation_state()
    assert codes(mutate(reza, EVALUATE, good)) == [("assignment", "NOT_FOUND")]
    assert evaluation_state() == before
    give([moe02])

    refusals = [
        ({**good, "score": "170.01"}, [("score", "SCORE_ABOVE_CAP")]),
        ({**good, "score": "-1"}, [("score", "NEGATIVE_NOT_ALLOWED")]),
        ({**good, "score": "80.123"}, [("score", "DECIMAL_TOO_PRECISE")]),
        ({**good, "score": "1234567"}, [("score", "DECIMAL_OUT_OF_RANGE")]),
        ({**good, "feedback": "   "}, [("feedback", "FEEDBACK_REQUIRED")]),
    ]
    before = evaluation_state()
    for refused_input, expected in refusals:
        payload = mutate(reza, EVALUATE, refused_input)
        assert codes(payload) == expected, payload
        assert payload["errors"][0]["message"]
        assert evaluation_state() == before
    # Only the evaluator it was given to: the organization's own leader cannot score it.
    assert codes(mutate(ali, EVALUATE, good)) == [("assignment", "NOT_FOUND")]

    recorded = mutate(reza, EVALUATE, good)
    assert recorded["errors"] == []
    evaluation = recorded["evaluation"]
    assert (evaluation["score"], evaluation["publishedAt"], evaluation["evaluator"]) == (
        "120.5",
        None,
        {"nationalCode": REZA},
    )
    # At the cap exactly is within it; before publication the evaluator may correct it.
    corrected = mutate(reza, EVALUATE, {**good, "score": "170", "feedback": "  بازبینی شد  "})["evaluation"]
    assert (corrected["id"], corrected["score"], corrected["feedback"]) == (evaluation["id"], "170", "بازبینی شد")
    corrected = mutate(reza, EVALUATE, {**good, "score": "125"})["evaluation"]
    assert Evaluation.objects.count() == 1

    # Unpublished: the organization reads nothing of it, through any path; the senior leader does.
    for person in (ali, fatemeh):
        seen = read(person, moe02)
        assert (seen["evaluation"], seen["evaluations"], seen["evaluatedScore"]) == (None, [], None)
        assert person.data(EVALUATION_NODE, {"id": evaluation["id"]})["node"] is None
    assert read(senior, moe02)["evaluation"]["score"] == "125"
    assert read(reza, moe02)["evaluation"]["feedback"] == good["feedback"]

    # Publishing is the senior leader's: refusals first, nothing changed.
    before = evaluation_state()
    assert codes(mutate(ali, PUBLISH, {"assignments": [moe02]})) == [(None, "NOT_ALLOWED")]
    assert codes(mutate(senior, PUBLISH, {"assignments": [moe02, assignment_id("MOE-03")]})) == [
        ("assignments.1", "NOT_SENT_FOR_EVALUATION")
    ]
    assert evaluation_state() == before

    published = mutate(senior, PUBLISH, {"assignments": [moe02]})
    assert published["errors"] == []
    assert published["assignments"][0]["status"] == "EVALUATED"
    assert published["assignments"][0]["evaluatedScore"] == "125"

    # The organization reads its feedback now: its leader and the chain's people; not another ministry.
    for person in (ali, fatemeh):
        seen = read(person, moe02)
        assert seen["status"] == "EVALUATED"
        assert seen["evaluatedScore"] == "125"
        assert seen["evaluation"]["feedback"] == good["feedback"]
        assert seen["evaluation"]["evaluator"] == {"nationalCode": REZA}
        assert seen["evaluation"]["publishedAt"]
        node = person.data(EVALUATION_NODE, {"id": evaluation["id"]})["node"]
        assert (node["score"], node["assignment"]) == ("125", {"id": moe02})
    assert read(hasan, moe02) is None
    assert hasan.data(EVALUATION_NODE, {"id": evaluation["id"]})["node"] is None
    # The chain's own history ends where the organization's work did.
    top = client_for(ALI).data(
        "query($id: ID!) { node(id: $id) { ... on Referral { status timeline { toStatus } } } }", {"id": chain["top"]}
    )["node"]
    assert (top["status"], top["timeline"][-1]["toStatus"]) == ("SENT_FOR_EVALUATION", "SENT_FOR_EVALUATION")

    # Published is final: neither the evaluator nor the senior leader can change it again.
    before = evaluation_state()
    assert codes(mutate(reza, EVALUATE, good)) == [("assignment", "ALREADY_PUBLISHED")]
    assert codes(mutate(senior, PUBLISH, {"assignments": [moe02]})) == [("assignments.0", "ALREADY_PUBLISHED")]
    assert codes(mutate(senior, ASSIGN, {"assignments": [moe02], "evaluator": user_id(REZA)})) == [
        ("assignments.0", "NOT_SENT_FOR_EVALUATION")
    ]
    assert evaluation_state() == before


def test_evaluating_what_was_not_sent_or_without_any_evaluation_is_refused(chain):
    # The admin console can give an assignment before it is sent: still not evaluable.
    reza = User.objects.get(national_code=REZA)
    moe02 = Assignment.objects.get(indicator__code=MOE_02)
    EvaluatorAssignment.objects.create(assignment=moe02, evaluator=reza, assigned_by=reza)
    before = evaluation_state()
    refused = mutate(client_for(REZA), EVALUATE, {"assignment": assignment_id(MOE_02), "score": "10", "feedback": "x"})
    assert codes(refused) == [("assignment", "NOT_SENT_FOR_EVALUATION")]
    # Nor does reading it show the chain before it is sent.
    assert read(client_for(REZA), assignment_id(MOE_02))["performance"] is None
    send(chain)
    assert codes(mutate(client_for(SENIOR), PUBLISH, {"assignments": [assignment_id(MOE_02)]})) == [
        ("assignments.0", "NO_EVALUATION")
    ]
    assert codes(mutate(client_for(SENIOR), PUBLISH, {"assignments": []})) == [
        ("assignments", "ASSIGNMENTS_REQUIRED")
    ]
    assert evaluation_state()[2] == before[2]


def test_the_evaluated_score_is_the_average_of_published_scores(chain):
    send(chain)
    moe02 = assignment_id(MOE_02)
    honorary = User.objects.create_user(
        national_code=HONORARY,
        password=DEMO_PASSWORD,
        first_name="بهرام",
        last_name="فرهمند",
        mobile="09120000143",
        organization=Organization.objects.get(code="ARO"),
    )
    honorary.role_assignments.create(role="HONORARY_EVALUATOR", organization=Organization.objects.get(code="ARO"))
    give([moe02], REZA)
    give([moe02], HONORARY)
    mutate(client_for(REZA), EVALUATE, {"assignment": moe02, "score": "100", "feedback": "خوب"})
    mutate(client_for(HONORARY), EVALUATE, {"assignment": moe02, "score": "151", "feedback": "عالی"})
    senior_view = read(client_for(SENIOR), moe02)
    assert [e["score"] for e in senior_view["evaluations"]] == ["100", "151"]
    assert senior_view["evaluatedScore"] is None  # nothing published yet
    # Each evaluator reads only their own.
    assert [e["score"] for e in read(client_for(HONORARY), moe02)["evaluations"]] == ["151"]
    assert mutate(client_for(SENIOR), PUBLISH, {"assignments": [moe02]})["errors"] == []
    ali_view = read(client_for(ALI), moe02)
    assert ali_view["evaluatedScore"] == "125.5"
    assert [e["score"] for e in ali_view["evaluations"]] == ["100", "151"]
    # The second evaluator is nameable to the organization, as the writer of what it reads.
    assert {e["evaluator"]["nationalCode"] for e in [ali_view["evaluation"]]} == {REZA}


def test_publication_announces_figures_and_an_inbox_event(chain, monkeypatch):
    from models import events

    announced, figures = [], []
    monkeypatch.setattr(events, "announce", announced.append)
    monkeypatch.setattr(events, "figures_changed", lambda period, unit: figures.append((period, unit)))
    send(chain)
    moe02 = assignment_id(MOE_02)
    give([moe02])
    mutate(client_for(REZA), EVALUATE, {"assignment": moe02, "score": "100", "feedback": "خوب"})
    unit = Assignment.objects.get(indicator__code=MOE_02)
    assert figures == [(unit.period_id, unit.organization_id)]
    announced.clear()
    mutate(client_for(SENIOR), PUBLISH, {"assignments": [moe02]})
    assert figures[-1] == (unit.period_id, unit.organization_id)
    (event,) = announced
    ali, fatemeh = (User.objects.get(national_code=code).pk for code in (ALI, FATEMEH))
    assert (event.kind, event.in_inbox, event.user_ids) == ("EVALUATED", True, tuple(sorted((ali, fatemeh))))


# --- lists: constant query counts ----------------------------------------------------------------


def _sent_assignments(count: int, start: int = 0) -> None:
    """``count`` more assignments of the demo's units sent for evaluation, each given to Reza, with a
    published evaluation and a pending non-applicability request (as the scale data would have)."""
    from models.indicators import Indicator
    from models.requests import NonApplicabilityRequest

    reza, ali = User.objects.get(national_code=REZA), User.objects.get(national_code=ALI)
    template = Assignment.objects.get(indicator__code=MOE_02)
    units = list(Organization.objects.filter(code__startswith="MOE-").order_by("code"))
    for n in range(start, start + count):
        indicator = Indicator.objects.create(
            code=f"EV-{n}", title=f"شاخص {n}", kind="SPECIFIC", unit="درصد", nature="HIGHER_IS_BETTER"
        )
        assignment = Assignment.objects.create(
            indicator=indicator,
            organization=units[n % len(units)],
            period=template.period,
            target=template.target,
            weight=template.weight,
            score_cap=template.score_cap,
            status=ReferralStatus.SENT_FOR_EVALUATION,
        )
        EvaluatorAssignment.objects.create(assignment=assignment, evaluator=reza, assigned_by=reza)
        Evaluation.objects.create(assignment=assignment, evaluator=reza, score=n, feedback="بازخورد")
        NonApplicabilityRequest.objects.create(assignment=assignment, requester=ali, reason="دلیل")


@pytest.mark.parametrize("person", [SENIOR, REZA, ALI])
def test_the_sent_list_costs_the_same_queries_for_3_and_30_items(chain, person):
    from django.db import connection

    send(chain)
    give([assignment_id(MOE_02)])
    client = client_for(person)
    variables = {"period": period_id(), "first": 100}
    _sent_assignments(2)
    Evaluation.objects.update(published_at=timezone.now())
    with CaptureQueriesContext(connection) as few:
        small = client.data(SENT_LIST, variables)["sentForEvaluation"]
    _sent_assignments(27, start=2)
    Evaluation.objects.update(published_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        large = client.data(SENT_LIST, variables)["sentForEvaluation"]
    assert large["totalCount"] == small["totalCount"] + 27
    assert len(many.captured_queries) == len(few.captured_queries), "\n".join(
        q["sql"] for q in many.captured_queries
    )


def test_node_of_an_evaluation_in_and_out_of_scope(chain, gql):
    send(chain)
    give([assignment_id(MOE_02)])
    recorded = mutate(
        client_for(REZA), EVALUATE, {"assignment": assignment_id(MOE_02), "score": "1", "feedback": "کوتاه"}
    )["evaluation"]
    assert gql.error_codes(EVALUATION_NODE, {"id": recorded["id"]}) == ["UNAUTHENTICATED"]
    assert client_for(SENIOR).data(EVALUATION_NODE, {"id": recorded["id"]})["node"]["score"] == "1"
    assert client_for(REZA).data(EVALUATION_NODE, {"id": recorded["id"]})["node"]["feedback"] == "کوتاه"
    for person in (ALI, HASAN, AMIR):
        assert client_for(person).data(EVALUATION_NODE, {"id": recorded["id"]})["node"] is None
    # A missing one answers as one out of scope does.
    assert client_for(SENIOR).data(EVALUATION_NODE, {"id": encode_global_id("Evaluation", 10**6)})["node"] is None


# --- live: the organization hears of the publication ---------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_organization_hears_of_the_publication_in_its_inbox(demo, private_root):
    from asgiref.sync import sync_to_async

    from tests.test_subscriptions import close_all, inbox_socket, nothing_more, received, until_listening

    chain = await sync_to_async(sent_chain)()
    await sync_to_async(send)(chain)
    moe02 = await sync_to_async(assignment_id)(MOE_02)
    await sync_to_async(give)([moe02])
    recorded = await sync_to_async(mutate)(
        await sync_to_async(client_for)(REZA), EVALUATE, {"assignment": moe02, "score": "99", "feedback": "خوب"}
    )
    assert recorded["errors"] == []
    ali, fatemeh, hasan = [await inbox_socket(await sync_to_async(client_for)(p)) for p in (ALI, FATEMEH, HASAN)]
    await until_listening(3)

    senior = await sync_to_async(client_for)(SENIOR)
    published = await sync_to_async(mutate)(senior, PUBLISH, {"assignments": [moe02]})
    assert published["errors"] == []
    for socket in (ali, fatemeh):
        event = (await received(socket))["inboxUpdated"]
        assert event["kind"] == "EVALUATED"
        assert event["referral"]["id"] == chain["top"]
    await nothing_more(hasan)
    await close_all(ali, fatemeh, hasan)


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (ASSIGN, {"input": {"assignments": [], "evaluator": "VXNlcjox"}}),
        (EVALUATE, {"input": {"assignment": "QXNzaWdubWVudDox", "score": "1", "feedback": "x"}}),
        (PUBLISH, {"input": {"assignments": ["QXNzaWdubWVudDox"]}}),
        (REVIEW, {"input": {"request": "Tm9uQXBwbGljYWJpbGl0eVJlcXVlc3Q6MQ==", "decision": "APPROVE"}}),
    ],
)
def test_anonymous_mutations_are_unauthenticated_and_change_nothing(demo, gql, document, variables):
    before = evaluation_state()
    assert gql.error_codes(document, variables) == ["UNAUTHENTICATED"]
    assert evaluation_state() == before
