"""The published contract: the committed SDL is the code's, API.md's names exist, CSRF and the
session lifecycle behave as browsers need."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from graphql import build_schema

from models.users import User

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

SCHEMA_FILE = Path(settings.BASE_DIR) / "schema.graphql"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def sdl() -> str:
    out = StringIO()
    call_command("export_schema", stdout=out)
    return out.getvalue()


def test_committed_schema_is_the_exported_schema(sdl):
    assert SCHEMA_FILE.read_text(encoding="utf-8") == sdl, "run: python manage.py export_schema > schema.graphql"


# The names of API.md's «Minimum schema» that the code implements so far.
MINIMUM_FIELDS = {
    "Query": ["node", "nodes", "me", "periods", "organizations"],
    "Mutation": ["login", "logout"],
    "Node": ["id"],
    "Province": ["id", "code", "name"],
    "Organization": [
        "id",
        "code",
        "name",
        "kind",
        "level",
        "province",
        "parent",
        "children",
        "ancestors",
        "descendants",
        "assignments",
        "referralProgress",
    ],
    "ReferralProgress": ["generalPercent", "specificPercent", "deadline", "daysLeft"],
    "EvaluationPeriod": ["id", "title", "year", "startDate", "endDate", "isOpen"],
    "Indicator": [
        "id",
        "code",
        "title",
        "kind",
        "unit",
        "nature",
        "comparisonType",
        "legalBasis",
        "calculationMethod",
    ],
    "Assignment": [
        "id",
        "indicator",
        "organization",
        "period",
        "target",
        "lowerBound",
        "upperBound",
        "weight",
        "scoreCap",
        "deadline",
        "status",
    ],
    "User": ["id", "nationalCode", "firstName", "lastName", "post", "organization"],
    "RoleAssignment": ["id", "role", "organization"],
    "Me": ["user", "roles", "activeRole", "subordinates"],
    "UserError": ["field", "code", "message"],
    "LoginPayload": ["errors"],
    "LogoutPayload": ["errors"],
    "OrganizationConnection": ["edges", "pageInfo", "totalCount"],
    "OrganizationEdge": ["cursor", "node"],
    "AssignmentConnection": ["edges", "pageInfo", "totalCount"],
}
MINIMUM_ENUMS = {
    "Role": {"SENIOR_LEADER", "MAIN_LEADER", "PROVINCIAL_LEADER", "SELF_EVALUATOR", "EVALUATOR", "HONORARY_EVALUATOR"},
    "OrganizationKind": {
        "ARO",
        "MINISTRY",
        "PRESIDENTIAL_ORGANIZATION",
        "INDEPENDENT_ORGANIZATION",
        "HEADQUARTERS",
        "SUBSIDIARY",
        "PROVINCIAL",
        "REGIONAL",
        "PROVINCIAL_PLANNING_ORGANIZATION",
    },
    "IndicatorKind": {"GENERAL", "SPECIFIC"},
    "IndicatorNature": {"HIGHER_IS_BETTER", "LOWER_IS_BETTER"},
    "ComparisonType": {"AGAINST_TARGET", "AGAINST_PREVIOUS_YEAR"},
    "ReferralStatus": {
        "PENDING",
        "DELEGATED",
        "IN_PROGRESS",
        "SUBMITTED",
        "RETURNED",
        "APPROVED",
        "FINALIZED",
        "SENT_FOR_EVALUATION",
        "EVALUATED",
    },
}
NODE_TYPES = ["Province", "Organization", "EvaluationPeriod", "Indicator", "Assignment", "User", "RoleAssignment"]


def test_minimum_schema_names_exist(sdl):
    schema = build_schema(sdl)
    for type_name, fields in MINIMUM_FIELDS.items():
        graphql_type = schema.get_type(type_name)
        assert graphql_type is not None, type_name
        missing = set(fields) - set(graphql_type.fields)
        assert not missing, (type_name, missing)
    for enum_name, values in MINIMUM_ENUMS.items():
        assert values <= set(schema.get_type(enum_name).values), enum_name
    for scalar in ("JalaliDate", "Decimal", "ID"):
        assert schema.get_type(scalar) is not None, scalar
    for type_name in NODE_TYPES:
        assert [i.name for i in schema.get_type(type_name).interfaces] == ["Node"], type_name


def test_argument_types_follow_the_contract(sdl):
    schema = build_schema(sdl)
    query = schema.query_type.fields
    assert str(query["node"].type) == "Node"
    assert str(query["node"].args["id"].type) == "ID!"
    assert str(query["nodes"].type) == "[Node]!"
    assert str(query["nodes"].args["ids"].type) == "[ID!]!"
    assert str(query["me"].type) == "Me"
    assert str(query["periods"].type) == "[EvaluationPeriod!]!"
    organizations = query["organizations"]
    assert str(organizations.type) == "OrganizationConnection!"
    assert {name: str(arg.type) for name, arg in organizations.args.items()}.items() >= {
        "first": "Int",
        "after": "String",
        "search": "String",
        "kind": "OrganizationKind",
        "parent": "ID",
        "province": "ID",
    }.items()
    organization = schema.get_type("Organization").fields
    assert str(organization["children"].type) == "[Organization!]!"
    assert str(organization["ancestors"].type) == "[Organization!]!"
    assert str(organization["descendants"].type) == "OrganizationConnection!"
    assert str(organization["assignments"].args["period"].type) == "ID!"
    assert str(organization["referralProgress"].type) == "ReferralProgress!"
    assert str(organization["referralProgress"].args["period"].type) == "ID!"
    period = schema.get_type("EvaluationPeriod").fields
    assert str(period["startDate"].type) == "JalaliDate!"
    assert str(schema.get_type("Assignment").fields["target"].type) == "Decimal!"
    assert str(schema.mutation_type.fields["login"].args["input"].type) == "LoginInput!"
    assert str(schema.mutation_type.fields["login"].type) == "LoginPayload!"
    assert str(schema.get_type("UserError").fields["code"].type) == "ErrorCode!"


# --- CSRF and the session ------------------------------------------------------------------------

LOGIN = {
    "query": "mutation($i: LoginInput!) { login(input: $i) { errors { code } me { user { nationalCode } } } }",
    "variables": {"i": {"nationalCode": "0010000021", "password": "mana-demo-1402", "captcha": PASSED}},
}


def post(client: Client, body: dict, **headers):
    return client.post("/graphql/", data=json.dumps(body), content_type="application/json", headers=headers)


def post_form(client: Client, body: dict, **headers):
    """The same operation as a multipart form: what a cross-site <form> can send (a JSON body
    without a session cookie needs no CSRF token: tests/test_csrf.py)."""
    return client.post("/graphql/", data={"operations": json.dumps(body), "map": "{}"}, headers=headers)


@pytest.mark.django_db
def test_post_without_csrf_token_is_refused_and_changes_nothing(demo):
    client = Client(enforce_csrf_checks=True)
    response = post_form(client, LOGIN)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["reason"] == "CSRF"
    assert "CSRF" in body["errors"][0]["message"]
    assert "_auth_user_id" not in client.session
    assert User.objects.get(national_code="0010000021").last_login is None
    # A wrong token is refused the same way.
    client.get("/graphql/")
    response = post_form(client, LOGIN, X_CSRFToken="x" * 32)
    assert response.status_code == 403
    assert User.objects.get(national_code="0010000021").last_login is None


@pytest.mark.django_db
def test_post_with_the_csrf_cookie_token_succeeds(demo):
    client = Client(enforce_csrf_checks=True)
    response = client.get("/graphql/", {"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    token = client.cookies["csrftoken"].value
    assert token
    response = post(client, LOGIN, X_CSRFToken=token)
    assert response.status_code == 200
    assert response.json() == {"data": {"login": {"errors": [], "me": {"user": {"nationalCode": "0010000021"}}}}}
    assert User.objects.get(national_code="0010000021").last_login is not None
    # Login rotates the CSRF token; the client keeps using the cookie's current value.
    token = client.cookies["csrftoken"].value
    response = post(client, {"query": "{ me { user { nationalCode } } }"}, X_CSRFToken=token)
    assert response.json() == {"data": {"me": {"user": {"nationalCode": "0010000021"}}}}


@pytest.mark.django_db
def test_login_logout_then_me_is_unauthenticated(gql, demo):
    gql.login("0010000021")
    assert gql.data("{ me { user { nationalCode } } }") == {"me": {"user": {"nationalCode": "0010000021"}}}
    assert gql.data("mutation { logout { errors { code } } }") == {"logout": {"errors": []}}
    result = gql.execute("{ me { user { nationalCode } } }")
    assert result["data"] == {"me": None}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    assert gql.error_codes("{ organizations { totalCount } }") == ["UNAUTHENTICATED"]
