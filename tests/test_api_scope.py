"""Scope through the real endpoint: anonymous callers are refused, out-of-scope rows are invisible
(exactly like rows that do not exist), in-scope rows are visible, for every role and every edge."""

from __future__ import annotations

import pytest
from guardian.shortcuts import remove_perm

from models.geography import Province
from models.indicators import Assignment, Indicator
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.users import RoleAssignment, User
from schema.ids import encode_global_id

pytestmark = pytest.mark.django_db

SENIOR = "0010000011"
MOE_LEADER = "0010000021"
FATEMEH = "0032054009"  # self-evaluator at MOE-HQ
MOA_LEADER = "0010000038"
TEHRAN_LEADER = "0010000054"
EVALUATOR = "0010000062"

ALL_CODES = {
    "ARO",
    "MOE",
    "MOE-HQ",
    "MOE-TAVANIR",
    "MOE-TAVANIR-THR",
    "MOE-TAVANIR-ESF",
    "MOE-WRM",
    "MOE-WRM-THR",
    "MOE-WRM-ESF",
    "MOE-WRM-FRS",
    "MOE-ABFA-THR",
    "MOE-ABFA-KHZ",
    "MOA",
    "MOA-HQ",
    "MOA-THR",
    "MOA-ESF",
    "PBO",
    "MPO-THR",
    "MPO-ESF",
}
MOE_CODES = {c for c in ALL_CODES if c == "MOE" or c.startswith("MOE-")}
MOA_CODES = {"MOA", "MOA-HQ", "MOA-THR", "MOA-ESF"}
# Own planning organization + PROVINCIAL/REGIONAL units of IR-23, of any ministry.
TEHRAN_CODES = {"MPO-THR", "MOE-TAVANIR-THR", "MOE-WRM-THR", "MOE-ABFA-THR", "MOA-THR"}

ORGS_QUERY = "{ organizations(first: 100) { totalCount edges { node { code } } } }"
NODE_QUERY = "query($id: ID!) { node(id: $id) { id ... on Organization { code } } }"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo people's passwords are hashed at load; the production hasher costs ~1 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def org_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


def period_id() -> str:
    return encode_global_id("EvaluationPeriod", EvaluationPeriod.objects.get().pk)


def visible_codes(gql) -> tuple[int, list[str]]:
    connection = gql.data(ORGS_QUERY)["organizations"]
    return connection["totalCount"], [edge["node"]["code"] for edge in connection["edges"]]


def node_of(gql, global_id: str):
    return gql.execute(NODE_QUERY, {"id": global_id})


# --- anonymous -------------------------------------------------------------------------------------

ANONYMOUS_QUERIES = [
    ('{ node(id: "T3JnYW5pemF0aW9uOjE=") { id } }', {"node": None}),
    ('{ nodes(ids: ["T3JnYW5pemF0aW9uOjE="]) { id } }', None),
    ("{ me { user { nationalCode } } }", {"me": None}),
    ("{ periods { title } }", None),
    ("{ organizations { totalCount } }", None),
    (
        "{ organizations { edges { node { children { code } ancestors { code } parent { code } "
        "descendants { totalCount } } } } }",
        None,
    ),
]


@pytest.mark.parametrize(("query", "data"), ANONYMOUS_QUERIES)
def test_anonymous_gets_unauthenticated_on_every_root_field(gql, demo, query, data):
    result = gql.execute(query)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    assert result["errors"][0]["message"] == "ابتدا وارد سامانه شوید."
    assert result["data"] == data


def test_anonymous_node_of_every_type_is_refused(gql, demo):
    ids = [
        org_id("MOE"),
        encode_global_id("Province", Province.objects.get(code="IR-23").pk),
        period_id(),
        encode_global_id("Indicator", Indicator.objects.get(code="MOE-01").pk),
        encode_global_id("Assignment", Assignment.objects.first().pk),
        encode_global_id("User", User.objects.get(national_code=FATEMEH).pk),
        encode_global_id("RoleAssignment", RoleAssignment.objects.first().pk),
    ]
    for global_id in ids:
        result = node_of(gql, global_id)
        assert result["data"] == {"node": None}
        assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


# --- organizations, per role ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("national_code", "expected"),
    [
        (SENIOR, ALL_CODES),
        (MOE_LEADER, MOE_CODES),
        (MOA_LEADER, MOA_CODES),
        (TEHRAN_LEADER, TEHRAN_CODES),
        (FATEMEH, {"MOE-HQ"}),
        (EVALUATOR, {"ARO"}),
    ],
)
def test_organizations_are_the_role_scope(gql, demo, national_code, expected):
    gql.login(national_code)
    total, codes = visible_codes(gql)
    assert set(codes) == expected
    assert total == len(expected) == len(codes)


def test_senior_leader_sees_every_node_and_the_whole_tree(gql, demo):
    gql.login(SENIOR)
    for code in ("ARO", "MOA-ESF", "MPO-ESF", "MOE-WRM-FRS"):
        assert node_of(gql, org_id(code))["data"]["node"]["code"] == code
    data = gql.data(
        "query($id: ID!) { node(id: $id) { ... on Organization { children { code } descendants { totalCount } } } }",
        {"id": org_id("ARO")},
    )
    assert [c["code"] for c in data["node"]["children"]] == ["MOA", "MOE", "PBO"]
    assert data["node"]["descendants"]["totalCount"] == 18


def test_main_leader_of_moa_sees_nothing_of_moe(gql, demo):
    gql.login(MOA_LEADER)
    # `node` of an out-of-scope id is null exactly like a non-existent id: no error either way.
    out_of_scope = node_of(gql, org_id("MOE-HQ"))
    missing = node_of(gql, encode_global_id("Organization", 999_999))
    assert out_of_scope == missing == {"data": {"node": None}}
    for code in MOE_CODES | {"ARO", "PBO", "MPO-THR"}:
        assert node_of(gql, org_id(code)) == {"data": {"node": None}}, code
    # nodes: same order, null where not visible.
    data = gql.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Organization { code } } }",
        {"ids": [org_id("MOE"), org_id("MOA-HQ"), org_id("ARO"), org_id("MOA")]},
    )
    assert data["nodes"] == [None, {"code": "MOA-HQ"}, None, {"code": "MOA"}]
    # search, filters and totalCount do not reveal MOE either.
    data = gql.data('{ organizations(search: "نیرو") { totalCount edges { node { code } } } }')
    assert data["organizations"] == {"totalCount": 0, "edges": []}
    data = gql.data(
        "query($p: ID!) { organizations(parent: $p) { totalCount edges { node { code } } } }", {"p": org_id("MOE")}
    )
    assert data["organizations"] == {"totalCount": 0, "edges": []}
    data = gql.data(
        "query($id: ID!) { node(id: $id) { ... on Organization { parent { code } ancestors { code } "
        "children { code } descendants { totalCount edges { node { code } } } } } }",
        {"id": org_id("MOA")},
    )
    assert data["node"] == {
        "parent": None,
        "ancestors": [],
        "children": [{"code": "MOA-ESF"}, {"code": "MOA-HQ"}, {"code": "MOA-THR"}],
        "descendants": {
            "totalCount": 3,
            "edges": [{"node": {"code": "MOA-ESF"}}, {"node": {"code": "MOA-HQ"}}, {"node": {"code": "MOA-THR"}}],
        },
    }


def test_main_leader_nested_edges_stay_in_the_ministry(gql, demo):
    gql.login(MOE_LEADER)
    data = gql.data(
        "query($id: ID!) { node(id: $id) { ... on Organization { code parent { code } "
        "ancestors { code parent { code } } "
        "descendants(kind: PROVINCIAL) { totalCount edges { node { code parent { code } } } } } } }",
        {"id": org_id("MOE-TAVANIR-THR")},
    )
    assert data["node"] == {
        "code": "MOE-TAVANIR-THR",
        "parent": {"code": "MOE-TAVANIR"},
        # MOE's parent is ARO: out of scope, so null even when reached through a loader's list.
        "ancestors": [{"code": "MOE", "parent": None}, {"code": "MOE-TAVANIR", "parent": {"code": "MOE"}}],
        "descendants": {"totalCount": 0, "edges": []},
    }
    data = gql.data(
        "query($id: ID!) { node(id: $id) { ... on Organization { parent { code } "
        "descendants(kind: PROVINCIAL) { totalCount edges { node { code parent { code parent { code } } } } } } } }",
        {"id": org_id("MOE")},
    )
    assert data["node"]["parent"] is None
    assert data["node"]["descendants"] == {
        "totalCount": 4,
        "edges": [
            {"node": {"code": "MOE-ABFA-KHZ", "parent": {"code": "MOE", "parent": None}}},
            {"node": {"code": "MOE-ABFA-THR", "parent": {"code": "MOE", "parent": None}}},
            {"node": {"code": "MOE-TAVANIR-ESF", "parent": {"code": "MOE-TAVANIR", "parent": {"code": "MOE"}}}},
            {"node": {"code": "MOE-TAVANIR-THR", "parent": {"code": "MOE-TAVANIR", "parent": {"code": "MOE"}}}},
        ],
    }
    for code in ("ARO", "MOA", "MOA-THR", "PBO", "MPO-THR"):
        assert node_of(gql, org_id(code)) == {"data": {"node": None}}, code


def test_provincial_leader_sees_own_unit_and_tehran_units_only(gql, demo):
    gql.login(TEHRAN_LEADER)
    for code in TEHRAN_CODES:
        assert node_of(gql, org_id(code))["data"]["node"]["code"] == code
    for code in ALL_CODES - TEHRAN_CODES:
        assert node_of(gql, org_id(code)) == {"data": {"node": None}}, code
    data = gql.data(
        "query($id: ID!) { node(id: $id) { ... on Organization { parent { code } ancestors { code } "
        "children { code } descendants { totalCount } province { code name } } } }",
        {"id": org_id("MOE-TAVANIR-THR")},
    )
    assert data["node"] == {
        "parent": None,
        "ancestors": [],
        "children": [],
        "descendants": {"totalCount": 0},
        "province": {"code": "IR-23", "name": "تهران"},
    }
    data = gql.data("{ organizations(kind: PROVINCIAL) { totalCount edges { node { code province { code } } } } }")
    assert data["organizations"]["totalCount"] == 3
    assert {e["node"]["province"]["code"] for e in data["organizations"]["edges"]} == {"IR-23"}


def test_self_evaluator_sees_only_own_unit(gql, demo):
    gql.login(FATEMEH)
    assert visible_codes(gql) == (1, ["MOE-HQ"])
    assert node_of(gql, org_id("MOE")) == {"data": {"node": None}}
    assert node_of(gql, org_id("MOE-TAVANIR")) == {"data": {"node": None}}
    data = gql.data(
        "query($p: ID!) { me { user { organization { code parent { code } } } } "
        "organizations { edges { node { parent { code } ancestors { code } "
        "assignments(period: $p, first: 2) { totalCount edges { node { indicator { code } "
        "organization { code parent { code } } } } } } } } }",
        {"p": period_id()},
    )
    assert data["me"]["user"]["organization"] == {"code": "MOE-HQ", "parent": None}
    (edge,) = data["organizations"]["edges"]
    assert edge["node"]["parent"] is None
    assert edge["node"]["ancestors"] == []
    assert edge["node"]["assignments"] == {
        "totalCount": 7,
        "edges": [
            {"node": {"indicator": {"code": "MOE-01"}, "organization": {"code": "MOE-HQ", "parent": None}}},
            {"node": {"indicator": {"code": "MOE-02"}, "organization": {"code": "MOE-HQ", "parent": None}}},
        ],
    }


# --- the other node types ------------------------------------------------------------------------


def test_node_of_each_type_in_and_out_of_scope(gql, demo):
    moe_assignment = Assignment.objects.get(indicator__code="MOE-01")
    moa_assignment = Assignment.objects.get(indicator__code="MOA-01")
    fatemeh = User.objects.get(national_code=FATEMEH)
    fatemeh_role = RoleAssignment.objects.get(user=fatemeh)
    ids = {
        "assignment": encode_global_id("Assignment", moe_assignment.pk),
        "indicator": encode_global_id("Indicator", moe_assignment.indicator_id),
        "user": encode_global_id("User", fatemeh.pk),
        "role": encode_global_id("RoleAssignment", fatemeh_role.pk),
        "province": encode_global_id("Province", Province.objects.get(code="IR-23").pk),
        "period": period_id(),
        "moa_assignment": encode_global_id("Assignment", moa_assignment.pk),
    }
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id "
        "... on Assignment { target indicator { code title } organization { code } period { year } } "
        "... on Indicator { code } ... on User { nationalCode } ... on RoleAssignment { role organization { code } } "
        "... on Province { code } ... on EvaluationPeriod { year startDate } } }"
    )
    gql.login(MOE_LEADER)
    nodes = gql.data(query, {"ids": list(ids.values())})["nodes"]
    assert nodes == [
        {
            "id": ids["assignment"],
            "target": "3000",
            "indicator": {"code": "MOE-01", "title": "تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی"},
            "organization": {"code": "MOE-HQ"},
            "period": {"year": 1402},
        },
        {"id": ids["indicator"], "code": "MOE-01"},
        {"id": ids["user"], "nationalCode": FATEMEH},
        {"id": ids["role"], "role": "SELF_EVALUATOR", "organization": {"code": "MOE-HQ"}},
        {"id": ids["province"], "code": "IR-23"},
        {"id": ids["period"], "year": 1402, "startDate": "1402/10/10"},
        None,
    ]
    gql.login(MOA_LEADER)
    nodes = gql.data(query, {"ids": list(ids.values())})["nodes"]
    # Reference data (province, period) is public to signed-in users; the rest is MOE's.
    assert nodes[:4] == [None, None, None, None]
    assert nodes[4] == {"id": ids["province"], "code": "IR-23"}
    assert nodes[5]["year"] == 1402
    assert nodes[6]["indicator"]["code"] == "MOA-01"


def test_periods_and_me_for_a_signed_in_user(gql, demo):
    gql.login(TEHRAN_LEADER)
    data = gql.data(
        "{ periods { title year startDate endDate isOpen } "
        "me { user { nationalCode } roles { role organization { code } } activeRole { role } subordinates { id } } }"
    )
    assert data["periods"] == [
        {
            "title": "دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲",
            "year": 1402,
            "startDate": "1402/10/10",
            "endDate": "1402/11/29",
            "isOpen": True,
        }
    ]
    assert data["me"] == {
        "user": {"nationalCode": TEHRAN_LEADER},
        "roles": [{"role": "PROVINCIAL_LEADER", "organization": {"code": "MPO-THR"}}],
        "activeRole": {"role": "PROVINCIAL_LEADER"},
        "subordinates": [],
    }


def test_assignments_and_referral_progress_in_scope(gql, demo):
    gql.login(MOE_LEADER)
    data = gql.data(
        "query($id: ID!, $p: ID!) { node(id: $id) { ... on Organization { "
        "assignments(period: $p, kind: GENERAL) { totalCount edges { node { indicator { code } } } } "
        "referralProgress(period: $p) { generalPercent specificPercent deadline daysLeft } } } }",
        {"id": org_id("MOE-HQ"), "p": period_id()},
    )
    node = data["node"]
    assert node["assignments"]["totalCount"] == 3
    assert [e["node"]["indicator"]["code"] for e in node["assignments"]["edges"]] == ["MOE-04", "MOE-05", "MOE-07"]
    assert node["referralProgress"]["generalPercent"] == 0.0
    # The demo's main leader has referred one of the four specific indicators (MOE-01).
    assert node["referralProgress"]["specificPercent"] == 25.0
    assert node["referralProgress"]["deadline"] == "1402/11/20"
    assert isinstance(node["referralProgress"]["daysLeft"], int)
    # The MOA leader cannot reach MOE-HQ, hence neither its assignments nor its progress.
    gql.login(MOA_LEADER)
    assert gql.execute(
        "query($id: ID!, $p: ID!) { node(id: $id) { ... on Organization { assignments(period: $p) { totalCount } } } }",
        {"id": org_id("MOE-HQ"), "p": period_id()},
    ) == {"data": {"node": None}}


# --- revocation ----------------------------------------------------------------------------------


def test_removing_the_object_permission_revokes_access_at_once(gql, demo):
    gql.login(MOE_LEADER)
    assert visible_codes(gql)[0] == 11
    moe_hq = org_id("MOE-HQ")
    assert node_of(gql, moe_hq)["data"]["node"]["code"] == "MOE-HQ"
    remove_perm(
        "mana.lead_organization", User.objects.get(national_code=MOE_LEADER), Organization.objects.get(code="MOE")
    )
    # Same session, next request: the subtree is gone. What is left is what his referral
    # permissions give: the unit he referred the demo's first indicator to.
    assert visible_codes(gql) == (1, ["MOE-HQ"])
    assert gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [moe_hq, org_id("MOE")]}) == {
        "nodes": [{"id": moe_hq}, None]
    }
    # Withdrawing those as well leaves nothing.
    from models.object_permissions import ReferralUserObjectPermission

    ReferralUserObjectPermission.objects.filter(user__national_code=MOE_LEADER).delete()
    assert visible_codes(gql) == (0, [])
    assert node_of(gql, moe_hq) == {"data": {"node": None}}


def test_deleting_the_role_assignment_revokes_access_at_once(gql, demo):
    gql.login(FATEMEH)
    assert visible_codes(gql) == (1, ["MOE-HQ"])
    RoleAssignment.objects.get(user__national_code=FATEMEH).delete()
    assert visible_codes(gql) == (0, [])
    assert node_of(gql, org_id("MOE-HQ")) == {"data": {"node": None}}
    assert gql.error_codes("{ me { user { nationalCode } } }") == ["FORBIDDEN"]


# --- «Done when» ---------------------------------------------------------------------------------


def test_done_when_main_leader_gets_the_nested_tree_of_the_ministry(gql, demo):
    gql.login(MOE_LEADER)
    data = gql.data(
        "{ organizations(kind: MINISTRY) { totalCount edges { node { code name "
        "children { code children { code children { code } } } } } } }"
    )
    assert data["organizations"]["totalCount"] == 1
    (edge,) = data["organizations"]["edges"]
    assert edge["node"] == {
        "code": "MOE",
        "name": "وزارت نیرو",
        "children": [
            {"code": "MOE-ABFA-KHZ", "children": []},
            {"code": "MOE-ABFA-THR", "children": []},
            {"code": "MOE-HQ", "children": []},
            {
                "code": "MOE-TAVANIR",
                "children": [{"code": "MOE-TAVANIR-ESF", "children": []}, {"code": "MOE-TAVANIR-THR", "children": []}],
            },
            {
                "code": "MOE-WRM",
                "children": [
                    {"code": "MOE-WRM-ESF", "children": []},
                    {"code": "MOE-WRM-FRS", "children": []},
                    {"code": "MOE-WRM-THR", "children": []},
                ],
            },
        ],
    }
    total, codes = visible_codes(gql)
    assert total == 11
    assert not set(codes) & (ALL_CODES - MOE_CODES)
