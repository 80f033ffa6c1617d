"""Helpers for the referral workflow tests: one signed-in client per person, and the documents."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from models.indicators import Assignment
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.referrals import Performance, ProvincialSlice, Referral, ReferralEvent
from models.users import User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient

ALI = "0010000021"  # main leader, وزارت نیرو
FATEMEH = "0032054009"  # self-evaluator, ستاد وزارت نیرو; Ali's subordinate
SARA = "0010000070"  # Ali's subordinate too
AMIR = "0010000100"  # Fatemeh's subordinate at headquarters
MOHAMMAD = "0010000119"  # Fatemeh's subordinate, Tehran
NARGES = "0010000127"  # Fatemeh's subordinate, Isfahan
HASAN = "0010000038"  # main leader of another ministry

REFERRAL_FIELDS = """
  id status version target deadline daysLeft isOverdue inboxAction hasProvincialBreakdown breakdownBy
  province { code } referrer { nationalCode } assignee { nationalCode }
  assignment { id status scoreCap weight indicator { title unit nature kind } }
  performance { value version score comments evidence { fileName url } }
  slices { province { code } target }
  timeline { fromStatus toStatus reason actor { nationalCode } }
"""

REFER = f"""mutation($input: ReferInput!) {{ refer(input: $input) {{
  errors {{ field code message }} referral {{ {REFERRAL_FIELDS} }} }} }}"""
SPLIT = f"""mutation($input: SplitByProvinceInput!) {{ splitByProvince(input: $input) {{
  errors {{ field code message }} referral {{ {REFERRAL_FIELDS} }} }} }}"""
SAVE = """mutation($input: SavePerformanceInput!) { savePerformance(input: $input) {
  errors { field code message } performance { value version score comments obstacles hasStrategicPlan
  isRegistryBased registryComments valueHistory { oldValue newValue actor { nationalCode } } } } }"""
FINISH = f"""mutation($input: FinishReferralInput!) {{ finishReferral(input: $input) {{
  errors {{ field code message }} referral {{ {REFERRAL_FIELDS} }} }} }}"""
RETURN = f"""mutation($input: ReturnReferralInput!) {{ returnReferral(input: $input) {{
  errors {{ field code message }} referral {{ {REFERRAL_FIELDS} }} }} }}"""
SEND = """mutation($input: SendForEvaluationInput!) { sendForEvaluation(input: $input) {
  errors { field code message } assignments { id status } } }"""
INBOX = f"""query($period: ID!, $status: ReferralStatus, $first: Int, $after: String) {{
  inbox(period: $period, status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {REFERRAL_FIELDS} }} }} }} }}"""
REFERRAL = f"query($id: ID!) {{ node(id: $id) {{ ... on Referral {{ {REFERRAL_FIELDS} }} }} }}"
UPLOAD = """mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) {
  errors { field code message } evidence { id fileName contentType size url } } }"""


def client_for(national_code: str) -> GraphQLClient:
    client = GraphQLClient()
    client.login(national_code)
    return client


def user_id(national_code: str) -> str:
    return encode_global_id("User", User.objects.get(national_code=national_code).pk)


def assignment_id(indicator_code: str) -> str:
    return encode_global_id("Assignment", Assignment.objects.get(indicator__code=indicator_code).pk)


def province_id(code: str) -> str:
    from models.geography import Province

    return encode_global_id("Province", Province.objects.get(code=code).pk)


def period_id() -> str:
    from models.periods import EvaluationPeriod

    return encode_global_id("EvaluationPeriod", EvaluationPeriod.objects.get().pk)


def mutate(client: GraphQLClient, document: str, input: dict) -> dict:
    data = client.data(document, {"input": input})
    (payload,) = data.values()
    return payload


def upload(client: GraphQLClient, referral: str, name: str, content: bytes, content_type="application/octet-stream"):
    """A multipart request as the GraphQL multipart request spec (apollo-upload-client) sends it."""
    operations = {"query": UPLOAD, "variables": {"input": {"referral": referral, "file": None}}}
    response = client.http.post(
        "/graphql/",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
            "0": SimpleUploadedFile(name, content, content_type=content_type),
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadEvidence"]


def build_chain() -> dict:
    """Ali (main leader) refers MOE-02 to Fatemeh, who refers it to Amir (IN_PROGRESS).

    Returns the three signed-in clients and the two referrals as the refer payloads gave them.
    """
    ali, fatemeh, amir = client_for(ALI), client_for(FATEMEH), client_for(AMIR)
    top = mutate(
        ali, REFER, {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/18"}
    )
    assert top["errors"] == []
    child = mutate(
        fatemeh, REFER, {"source": top["referral"]["id"], "assignee": user_id(AMIR), "deadline": "1402/11/10"}
    )
    assert child["errors"] == []
    assert child["referral"]["status"] == "IN_PROGRESS"
    return {"ali": ali, "fatemeh": fatemeh, "amir": amir, "top": top["referral"], "child": child["referral"]}


def untouched_state() -> tuple:
    """Everything a refused workflow call must leave untouched: statuses, versions, events, values,
    slices, grants."""
    return (
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        list(Assignment.objects.order_by("id").values_list("id", "status")),
        ReferralEvent.objects.count(),
        list(Performance.objects.order_by("id").values_list("id", "version", "value")),
        Performance.history.count(),
        list(ProvincialSlice.objects.order_by("id").values_list("id", "province_id", "target", "weight")),
        ReferralUserObjectPermission.objects.count(),
        OrganizationUserObjectPermission.objects.count(),
    )


def slice_specs(*rows) -> list[dict]:
    """Provincial slices as ReferInput/SplitByProvinceInput take them: (province code, target, extra fields)."""
    return [{"province": province_id(code), "target": target, **extra} for code, target, extra in rows]
