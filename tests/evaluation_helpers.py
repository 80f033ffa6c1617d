"""Helpers for the evaluation and non-applicability tests: the demo chain driven through the API to
FINALIZED and SENT_FOR_EVALUATION, the people, the documents."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from models.evaluations import Evaluation, EvaluatorAssignment
from models.indicators import Assignment
from models.referrals import Referral, ReferralEvent
from models.requests import NonApplicabilityRequest
from schema.ids import decode_global_id
from tests.conftest import GraphQLClient
from tests.evidence_helpers import minimal_pdf, upload
from tests.workflow_helpers import FINISH, SAVE, SEND, build_chain, mutate, period_id

SENIOR = "0010000011"  # مریم رضایی, SENIOR_LEADER at ARO
REZA = "0010000062"  # رضا نوری, EVALUATOR at ARO
PDF = minimal_pdf()

ERRORS = "errors { field code message }"
ASSIGN = f"""mutation($input: AssignEvaluatorsInput!) {{ assignEvaluators(input: $input) {{ {ERRORS}
  assignments {{ id status evaluators {{ nationalCode }} }} }} }}"""
EVALUATE = f"""mutation($input: EvaluateAssignmentInput!) {{ evaluateAssignment(input: $input) {{ {ERRORS}
  evaluation {{ id score feedback publishedAt evaluator {{ nationalCode }} assignment {{ id }} }} }} }}"""
PUBLISH = f"""mutation($input: PublishEvaluationsInput!) {{ publishEvaluations(input: $input) {{ {ERRORS}
  assignments {{ id status evaluatedScore evaluation {{ score publishedAt }} }} }} }}"""
REQUEST_FIELDS = """id reason status createdAt reviewedAt reviewReason requester { nationalCode }
  reviewedBy { nationalCode } assignment { id isApplicable } evidence { fileName contentType size url }"""
REQUEST = f"""mutation($input: RequestNonApplicabilityInput!) {{ requestNonApplicability(input: $input) {{
  {ERRORS} request {{ {REQUEST_FIELDS} }} }} }}"""
REVIEW = f"""mutation($input: ReviewNonApplicabilityInput!) {{ reviewNonApplicability(input: $input) {{
  {ERRORS} request {{ {REQUEST_FIELDS} }} }} }}"""

# What the senior leader and an evaluator read of an assignment sent for evaluation.
SENT_ASSIGNMENT = """query($id: ID!) { node(id: $id) { ... on Assignment {
  id status score isApplicable evaluatedScore
  performance { value comments evidence { fileName url } }
  referrals { totalCount edges { node { id status performance { value } timeline { toStatus actor { nationalCode } }
    referrer { nationalCode } assignee { nationalCode } organization { code } } } }
  evaluation { score feedback publishedAt evaluator { nationalCode } }
  evaluations { score }
  evaluators { nationalCode }
} } }"""


def sent_chain() -> dict:
    """MOE-02 referred Ali → Fatemeh → Amir, registered (value 37, a PDF), approved up, finalized,
    then sent for evaluation. The clients and ids; ``finalized`` is called between the final
    registration and sending, to look at the chain while it is still the chain's."""
    chain = build_chain()
    ali, fatemeh, amir = chain["ali"], chain["fatemeh"], chain["amir"]
    child, top = chain["child"]["id"], chain["top"]["id"]
    assert mutate(amir, SAVE, {"referral": child, "version": 0, "value": "37", "comments": "گزارش"})["errors"] == []
    upload(amir, child, "report.pdf", PDF)
    assert mutate(amir, FINISH, {"referral": child, "version": version(child)})["errors"] == []
    assert mutate(fatemeh, FINISH, {"referral": child, "version": version(child)})["errors"] == []
    assert mutate(ali, FINISH, {"referral": top, "version": version(top)})["errors"] == []
    return {**chain, "top": top, "child": child}


def send(chain: dict) -> None:
    sent = mutate(chain["ali"], SEND, {"period": period_id()})
    assert sent["errors"] == [], sent


def version(referral: str) -> int:
    return Referral.objects.get(pk=decode_global_id(referral)[1]).version


def pk_of(global_id: str) -> int:
    return decode_global_id(global_id)[1]


def evaluation_state() -> tuple:
    """Everything a refused evaluation call must leave untouched."""
    return (
        list(Assignment.objects.order_by("id").values_list("id", "status", "is_applicable")),
        list(EvaluatorAssignment.objects.order_by("id").values_list("assignment_id", "evaluator_id")),
        list(Evaluation.objects.order_by("id").values_list("id", "score", "feedback", "published_at")),
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        ReferralEvent.objects.count(),
    )


def request_state(root) -> tuple:
    """Everything a refused non-applicability call must leave untouched (the stored files too)."""
    directory = root / "evidence"
    return (
        list(Assignment.objects.order_by("id").values_list("id", "is_applicable")),
        list(
            NonApplicabilityRequest.objects.order_by("id").values_list(
                "id", "status", "reviewed_by_id", "review_reason", "evidence_storage_name"
            )
        ),
        sorted(p.name for p in directory.iterdir()) if directory.exists() else [],
    )


def post_request(client: GraphQLClient, assignment: str, reason: str, name: str, content: bytes) -> dict:
    """requestNonApplicability as a GraphQL multipart request (apollo-upload-client's format); the body."""
    operations = {
        "query": REQUEST,
        "variables": {"input": {"assignment": assignment, "reason": reason, "evidence": None}},
    }
    response = client.http.post(
        "/graphql/",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.evidence"]}),
            "0": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def request_non_applicability(client: GraphQLClient, assignment: str, reason: str, name: str, content: bytes):
    body = post_request(client, assignment, reason, name, content)
    assert "errors" not in body, body
    return body["data"]["requestNonApplicability"]
