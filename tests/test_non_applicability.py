"""Non-applicability requests (issue 10 §2) through the real endpoint: the main leader asks, with a
reason and an evidence file (multipart, checked as performance evidence is); the senior leader
decides once; an approved request takes the assignment out of scoring and out of the
organization's totals, visibly. Every refusal changes nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models.indicators import Assignment
from models.requests import NonApplicabilityRequest
from models.users import User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.evaluation_helpers import (
    PDF,
    REQUEST,
    REVIEW,
    SENIOR,
    post_request,
    request_non_applicability,
    request_state,
)
from tests.evidence_helpers import download
from tests.workflow_helpers import ALI, FATEMEH, HASAN, assignment_id, client_for, mutate, period_id

pytestmark = pytest.mark.django_db

REASON = "این شاخص در حوزه مأموریت ستاد وزارت نیرو نیست."
ASSIGNMENT = """query($id: ID!, $period: ID!) { node(id: $id) { ... on Assignment {
  id isApplicable score status nonApplicabilityRequests { status reason }
  organization { referralProgress(period: $period) { generalPercent specificPercent } } } } }"""
REQUESTS = """query($status: RequestStatus, $assignment: ID, $first: Int) {
  nonApplicabilityRequests(status: $status, assignment: $assignment, first: $first) { totalCount edges { node {
    id reason status requester { nationalCode } reviewedBy { nationalCode }
    assignment { id isApplicable indicator { code } } evidence { fileName size url } } } } }"""


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def asked(demo, private_root) -> dict:
    """Ali (main leader of وزارت نیرو) asks that MOE-03 not apply to his ministry."""
    payload = request_non_applicability(client_for(ALI), assignment_id("MOE-03"), REASON, "نامه.pdf", PDF)
    assert payload["errors"] == [], payload
    return payload["request"]


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def assignment_view(client, indicator: str) -> dict:
    return client.data(ASSIGNMENT, {"id": assignment_id(indicator), "period": period_id()})["node"]


def review(client, request_id: str, decision: str, reason: str | None = None) -> dict:
    return mutate(client, REVIEW, {"request": request_id, "decision": decision, "reason": reason})


def test_done_when_an_approved_request_changes_the_totals(demo, private_root):
    ali, senior = client_for(ALI), client_for(SENIOR)
    # MOE-HQ: 4 specific assignments, the demo's MOE-01 referred: 25 %.
    before = assignment_view(ali, "MOE-03")
    assert before["isApplicable"] is True
    assert before["organization"]["referralProgress"] == {"generalPercent": 0.0, "specificPercent": 25.0}

    asked = request_non_applicability(ali, assignment_id("MOE-03"), f"  {REASON}  ", "نامه.pdf", PDF)
    assert asked["errors"] == []
    request = asked["request"]
    assert (request["status"], request["reason"], request["requester"]) == ("PENDING", REASON, {"nationalCode": ALI})
    assert request["evidence"]["fileName"] == "نامه.pdf"
    assert request["evidence"]["contentType"] == "application/pdf"
    assert request["evidence"]["size"] == len(PDF)
    assert (request["reviewedBy"], request["reviewedAt"], request["reviewReason"]) == (None, None, "")
    # Pending: nothing changes yet.
    assert assignment_view(ali, "MOE-03")["organization"]["referralProgress"]["specificPercent"] == 25.0

    approved = review(senior, request["id"], "APPROVE")
    assert approved["errors"] == []
    decided = approved["request"]
    assert (decided["status"], decided["reviewedBy"], decided["assignment"]["isApplicable"]) == (
        "APPROVED",
        {"nationalCode": SENIOR},
        False,
    )
    assert decided["reviewedAt"]
    # Out of the totals, visibly: 1 of 3 specific assignments referred now; the general ones unchanged.
    after = assignment_view(ali, "MOE-03")
    assert after["isApplicable"] is False
    assert after["score"] is None
    assert after["nonApplicabilityRequests"] == [{"status": "APPROVED", "reason": REASON}]
    assert after["organization"]["referralProgress"] == {"generalPercent": 0.0, "specificPercent": 33.33}
    # The main leader reads the decision (the senior leader is outside his scope: not named).
    listed = ali.data(REQUESTS, {})["nonApplicabilityRequests"]
    assert [(e["node"]["status"], e["node"]["reviewedBy"]) for e in listed["edges"]] == [("APPROVED", None)]
    # Reviewing twice is refused, and changes nothing.
    state = request_state(private_root)
    for decision in ("APPROVE", "REJECT"):
        assert codes(review(senior, request["id"], decision, "دوباره")) == [("request", "ALREADY_REVIEWED")]
    assert request_state(private_root) == state
    # Asking again for an assignment already out: refused.
    again = request_non_applicability(ali, assignment_id("MOE-03"), REASON, "نامه.pdf", PDF)
    assert codes(again) == [("assignment", "ALREADY_NOT_APPLICABLE")]
    assert request_state(private_root) == state


def test_a_rejection_needs_a_reason_and_leaves_the_assignment_applicable(asked, private_root):
    senior = client_for(SENIOR)
    state = request_state(private_root)
    assert codes(review(senior, asked["id"], "REJECT")) == [("reason", "REASON_REQUIRED")]
    assert codes(review(senior, asked["id"], "REJECT", "   ")) == [("reason", "REASON_REQUIRED")]
    # Only the senior leader decides: the main leader who asked, another ministry's, an evaluator.
    for person in (ALI, HASAN, "0010000062"):
        assert codes(review(client_for(person), asked["id"], "APPROVE")) == [("request", "NOT_ALLOWED")]
    assert request_state(private_root) == state

    rejected = review(senior, asked["id"], "REJECT", "مستندات کافی نیست.")
    assert rejected["errors"] == []
    assert (rejected["request"]["status"], rejected["request"]["reviewReason"]) == ("REJECTED", "مستندات کافی نیست.")
    assert Assignment.objects.get(indicator__code="MOE-03").is_applicable is True
    # A rejected request is not pending: the organization may ask again.
    again = request_non_applicability(client_for(ALI), assignment_id("MOE-03"), REASON, "نامه.pdf", PDF)
    assert again["errors"] == []
    assert NonApplicabilityRequest.objects.filter(status="PENDING").count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("نامه.txt", b"plain text", "FILE_TYPE_NOT_ALLOWED"),
        ("report.exe", b"MZ\x90\x00" + b"\x00" * 200, "FILE_TYPE_NOT_ALLOWED"),
        ("نامه.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "FILE_CONTENT_MISMATCH"),
        ("نامه.pdf", b"", "FILE_EMPTY"),
    ],
)
def test_evidence_that_is_not_allowed_is_refused_and_nothing_is_kept(demo, private_root, name, content, code):
    state = request_state(private_root)
    payload = request_non_applicability(client_for(ALI), assignment_id("MOE-03"), REASON, name, content)
    assert codes(payload) == [("evidence", code)]
    assert payload["errors"][0]["message"]
    assert request_state(private_root) == state


def test_who_may_ask_and_what_is_refused(asked, private_root):
    state = request_state(private_root)
    cases = [
        # Pending already: one at a time.
        (ALI, "MOE-03", REASON, [("assignment", "REQUEST_PENDING")]),
        (ALI, "MOE-05", "   ", [("reason", "REASON_REQUIRED")]),
        # Fatemeh sees her unit's assignment but does not speak for the organization.
        (FATEMEH, "MOE-05", REASON, [("assignment", "NOT_ALLOWED")]),
        # Another ministry's leader does not see it at all.
        (HASAN, "MOE-05", REASON, [("assignment", "NOT_FOUND")]),
        (SENIOR, "MOE-05", REASON, [("assignment", "NOT_ALLOWED")]),
    ]
    for person, indicator, reason, expected in cases:
        payload = request_non_applicability(client_for(person), assignment_id(indicator), reason, "نامه.pdf", PDF)
        assert codes(payload) == expected, (person, payload)
        assert payload["errors"][0]["message"]
        assert request_state(private_root) == state
    # Without a file at all (a plain JSON request): the request itself is malformed.
    missing = {"assignment": assignment_id("MOE-05"), "reason": REASON, "evidence": None}
    assert client_for(ALI).error_codes(REQUEST, {"input": missing}) == ["BAD_USER_INPUT"]
    body = post_request(GraphQLClient(), assignment_id("MOE-06"), REASON, "نامه.pdf", PDF)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert request_state(private_root) == state


def test_the_evidence_downloads_for_whoever_sees_the_request(asked, private_root):
    url = asked["evidence"]["url"]
    for person in (ALI, SENIOR):
        response, body = download(client_for(person), url)
        assert response.status_code == 200
        assert body == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
    for person in (HASAN, "0010000062"):
        assert download(client_for(person), url)[0].status_code == 404
    assert download(GraphQLClient(), url)[0].status_code == 401
    # Another request's id with this file's name: not found.
    pk = NonApplicabilityRequest.objects.get().pk
    assert download(client_for(ALI), url.replace(f"/{pk}/", "/999999/"))[0].status_code == 404


def test_the_requests_list_is_scoped(asked, gql):
    assert gql.error_codes(REQUESTS, {}) == ["UNAUTHENTICATED"]
    for person in (HASAN, "0010000062"):
        assert client_for(person).data(REQUESTS, {})["nonApplicabilityRequests"]["totalCount"] == 0
    for person in (ALI, SENIOR, FATEMEH):
        listed = client_for(person).data(REQUESTS, {})["nonApplicabilityRequests"]
        assert [e["node"]["id"] for e in listed["edges"]] == [asked["id"]], person
        assert listed["edges"][0]["node"]["assignment"]["indicator"]["code"] == "MOE-03"
    senior = client_for(SENIOR)
    assert senior.data(REQUESTS, {"status": "APPROVED"})["nonApplicabilityRequests"]["totalCount"] == 0
    assert senior.data(REQUESTS, {"status": "PENDING"})["nonApplicabilityRequests"]["totalCount"] == 1
    other = assignment_id("MOE-05")
    assert senior.data(REQUESTS, {"assignment": other})["nonApplicabilityRequests"]["totalCount"] == 0
    node = "query($id: ID!) { node(id: $id) { ... on NonApplicabilityRequest { id status } } }"
    assert senior.data(node, {"id": asked["id"]})["node"] == {"id": asked["id"], "status": "PENDING"}
    assert client_for(HASAN).data(node, {"id": asked["id"]})["node"] is None


def test_the_requests_list_costs_the_same_queries_for_3_and_30(asked):
    from models.indicators import Indicator

    template = Assignment.objects.get(indicator__code="MOE-03")
    ali = User.objects.get(national_code=ALI)

    def more(start: int, count: int) -> None:
        for n in range(start, start + count):
            indicator = Indicator.objects.create(
                code=f"NA-{n}", title=f"شاخص {n}", kind="GENERAL", unit="درصد", nature="HIGHER_IS_BETTER"
            )
            assignment = Assignment.objects.create(
                indicator=indicator,
                organization=template.organization,
                period=template.period,
                target=template.target,
                weight=template.weight,
                score_cap=template.score_cap,
            )
            NonApplicabilityRequest.objects.create(
                assignment=assignment,
                requester=ali,
                reason="دلیل",
                evidence_file_name="نامه.pdf",
                evidence_content_type="application/pdf",
                evidence_size=10,
            )

    client = client_for(SENIOR)
    more(0, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.data(REQUESTS, {"first": 100})["nonApplicabilityRequests"]["totalCount"] == 3
    more(2, 27)
    with CaptureQueriesContext(connection) as many:
        assert client.data(REQUESTS, {"first": 100})["nonApplicabilityRequests"]["totalCount"] == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_an_unknown_request_id_is_not_found(demo):
    payload = review(client_for(SENIOR), encode_global_id("NonApplicabilityRequest", 424242), "APPROVE")
    assert codes(payload) == [("request", "NOT_FOUND")]
    payload = review(client_for(SENIOR), assignment_id("MOE-03"), "APPROVE")
    assert codes(payload) == [("request", "INVALID_ID")]
