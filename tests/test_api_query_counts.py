"""Exact SQL query counts through the real endpoint: the same for a 15-unit and a 511-unit ministry.

A nested field costs one query per kind of field (and nesting level), never one per row.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.geography import Province
from models.indicators import Assignment, ComparisonType, Indicator, IndicatorKind, IndicatorNature
from models.jalali import parse_jalali
from models.organization import Organization, OrganizationKind
from models.periods import EvaluationPeriod, PeriodStatus
from models.roles import Role
from models.text import normalize_for_search
from models.users import RoleAssignment, User
from schema.ids import encode_global_id

pytestmark = pytest.mark.django_db

LEADER = "0499370899"
PASSWORD = "counting-1402"

K = OrganizationKind


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _org(code: str, kind: str, parent: Organization | None, province: Province | None = None) -> Organization:
    name = f"واحد {code}"
    return Organization(
        code=code,
        name=name,
        search_name=normalize_for_search(f"{name} {code}"),
        kind=kind,
        parent=parent,
        province=province,
        lft=0,
        rght=0,
        tree_id=0,
        level=0,
    )


def build_ministry(subsidiaries: int, provincials: int, regionals: int) -> dict:
    """ARO → ministry → subsidiaries → provincial units → regional units (4 levels under the ministry)."""
    provinces = list(Province.objects.order_by("code"))
    with Organization.objects.disable_mptt_updates():
        (aro,) = Organization.objects.bulk_create([_org("ARO", K.ARO, None)])
        (ministry,) = Organization.objects.bulk_create([_org("MIN", K.MINISTRY, aro)])
        level2 = Organization.objects.bulk_create(
            [_org(f"MIN-S{s:02}", K.SUBSIDIARY, ministry) for s in range(subsidiaries)]
        )
        level3 = Organization.objects.bulk_create(
            [
                _org(f"{sub.code}-P{p:02}", K.PROVINCIAL, sub, provinces[p % len(provinces)])
                for sub in level2
                for p in range(provincials)
            ]
        )
        level4 = Organization.objects.bulk_create(
            [_org(f"{unit.code}-R{r}", K.REGIONAL, unit, unit.province) for unit in level3 for r in range(regionals)]
        )
    Organization.objects.rebuild()
    ministry.refresh_from_db()
    leader = User.objects.create_user(LEADER, PASSWORD, first_name="راهبر", last_name="اصلی")
    RoleAssignment.objects.create(user=leader, role=Role.MAIN_LEADER, organization=ministry)
    period = EvaluationPeriod.objects.create(
        title="دوره ۱۴۰۲",
        year=1402,
        start_date=parse_jalali("1402/10/10"),
        end_date=parse_jalali("1402/11/29"),
        status=PeriodStatus.OPEN,
    )
    indicators = [
        Indicator.objects.create(
            code=f"I{i}",
            title=f"شاخص {i}",
            kind=IndicatorKind.GENERAL if i % 2 else IndicatorKind.SPECIFIC,
            unit="درصد",
            nature=IndicatorNature.HIGHER_IS_BETTER,
            comparison_type=ComparisonType.AGAINST_TARGET,
        )
        for i in range(7)
    ]
    Assignment.objects.bulk_create(
        Assignment(
            indicator=indicator,
            organization=unit,
            period=period,
            target=Decimal("10"),
            weight=Decimal("5"),
            score_cap=Decimal("10"),
            deadline=parse_jalali("1402/11/20"),
        )
        for unit in [ministry, *level2, *level3]
        for indicator in indicators
    )
    total = 1 + len(level2) + len(level3) + len(level4)
    assert (ministry.level, ministry.get_descendant_count() + 1) == (1, total)
    assert Organization.objects.filter(level=4).count() == len(level4)
    return {"ministry": ministry, "period": period, "total": total, "level4": level4, "leader": leader}


SMALL = (2, 2, 2)  # 1 + 2 + 4 + 8 = 15 units
LARGE = (10, 10, 4)  # 1 + 10 + 100 + 400 = 511 units

TREE_QUERY = """
query($p: ID!) {
  organizations(first: 100) {
    totalCount
    edges { node {
      code
      children { code children { code children { code } } }
      ancestors { code }
      province { code }
      parent { code }
      referralProgress(period: $p) { generalPercent specificPercent deadline }
      assignments(period: $p, first: 5) { totalCount edges { node { indicator { title } } } }
      descendants(first: 5) { totalCount edges { node { code } } }
    } }
  }
}
"""

# Query counts of one request, after the session is established:
#   session + user + active role (viewer_from_request)
REQUEST_OVERHEAD = 3


def run_counted(gql, count_queries, query: str, variables: dict | None = None) -> tuple[dict, int, str]:
    with count_queries() as counter:
        data = gql.data(query, variables)
    return data, counter.count, counter.sql()


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["15-units", "511-units"])
def test_nested_tree_costs_a_constant_number_of_queries(gql, count_queries, shape):
    tree = build_ministry(*shape)
    gql.login(LEADER, PASSWORD)
    period = encode_global_id("EvaluationPeriod", tree["period"].pk)
    data, count, sql = run_counted(gql, count_queries, TREE_QUERY, {"p": period})
    connection = data["organizations"]
    assert connection["totalCount"] == tree["total"]
    assert len(connection["edges"]) == min(100, tree["total"])
    first = connection["edges"][0]["node"]
    assert first["code"] == "MIN"
    assert first["parent"] is None and first["ancestors"] == []
    assert first["descendants"]["totalCount"] == tree["total"] - 1
    assert len(first["descendants"]["edges"]) == 5
    assert first["assignments"]["totalCount"] == 7
    assert len(first["assignments"]["edges"]) == 5
    assert first["referralProgress"] == {"generalPercent": 0.0, "specificPercent": 0.0, "deadline": "1402/11/20"}
    subsidiaries, provincials, regionals = shape
    assert len(first["children"]) == subsidiaries
    assert len(first["children"][0]["children"]) == provincials
    assert len(first["children"][0]["children"][0]["children"]) == regionals
    second = connection["edges"][1]["node"]
    assert second["parent"] == {"code": "MIN"}
    assert second["ancestors"] == [{"code": "MIN"}]
    # REQUEST_OVERHEAD + the page with its total (one query, COUNT(*) OVER ()) + children ×3 levels
    # + ancestors + parent + referralProgress + assignments + descendants; the province is joined.
    assert count == REQUEST_OVERHEAD + 9, sql


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["15-units", "511-units"])
@pytest.mark.parametrize(
    ("selection", "extra"),
    [
        ("code", 0),
        ("children { code children { code children { code } } }", 3),
        ("ancestors { code }", 1),
        ("province { code }", 0),  # reference data: joined, not prefetched
        # The grandparents were all loaded with the parents: the loader's cache answers them.
        ("parent { code parent { code } }", 1),
        ("referralProgress(period: $p) { generalPercent }", 1),
        ("assignments(period: $p, first: 5) { totalCount edges { node { indicator { title } } } }", 1),
        ("descendants(first: 5) { totalCount }", 1),
        ("descendants(first: 5, kind: REGIONAL) { totalCount edges { node { code province { code } } } }", 1),
    ],
)
def test_each_nested_field_costs_constant_queries(gql, count_queries, shape, selection, extra):
    tree = build_ministry(*shape)
    gql.login(LEADER, PASSWORD)
    period = encode_global_id("EvaluationPeriod", tree["period"].pk)
    query = "query($p: ID!) { organizations(first: 100) { totalCount edges { node { " + selection + " } } } }"
    if "$p" not in selection:
        query = query.replace("query($p: ID!)", "query")
    data, count, sql = run_counted(gql, count_queries, query, {"p": period} if "$p" in selection else None)
    assert data["organizations"]["totalCount"] == tree["total"]
    # REQUEST_OVERHEAD + the page with its total + the field's own queries.
    assert count == REQUEST_OVERHEAD + 1 + extra, sql


@pytest.mark.parametrize("shape", [SMALL, LARGE], ids=["15-units", "511-units"])
def test_me_node_and_nodes_query_counts(gql, count_queries, shape):
    tree = build_ministry(*shape)
    gql.login(LEADER, PASSWORD)
    data, count, sql = run_counted(
        gql,
        count_queries,
        "{ me { user { nationalCode organization { code } } roles { role organization { code } } "
        "activeRole { role } subordinates { nationalCode } } }",
    )
    assert data["me"]["roles"] == [{"role": "MAIN_LEADER", "organization": {"code": "MIN"}}]
    # overhead + user + roles + subordinates
    assert count == REQUEST_OVERHEAD + 3, sql

    ministry_id = encode_global_id("Organization", tree["ministry"].pk)
    data, count, sql = run_counted(
        gql,
        count_queries,
        "query($id: ID!) { node(id: $id) { ... on Organization { code descendants(first: 5) { totalCount } } } }",
        {"id": ministry_id},
    )
    assert data["node"] == {"code": "MIN", "descendants": {"totalCount": tree["total"] - 1}}
    # overhead + the node + descendants
    assert count == REQUEST_OVERHEAD + 2, sql

    ids = [encode_global_id("Organization", unit.pk) for unit in tree["level4"][:50]]
    ids += [ministry_id, encode_global_id("EvaluationPeriod", tree["period"].pk), encode_global_id("User", 999_999)]
    data, count, sql = run_counted(
        gql,
        count_queries,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Organization { code parent { code } } } }",
        {"ids": ids},
    )
    assert len(data["nodes"]) == len(ids)
    assert data["nodes"][-1] is None
    assert data["nodes"][-3]["code"] == "MIN"
    # overhead + organizations + their parents + periods + users: one query per type, not per id.
    assert count == REQUEST_OVERHEAD + 4, sql
