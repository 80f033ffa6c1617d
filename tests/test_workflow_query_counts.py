"""Exact SQL query counts of the workflow's read side: the same for 3 and for 150 referrals.

The data is built through the domain functions (models.workflow), so referrals carry what the
real chain gives them: events, guardian grants, performance with history, slices, evidence.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from models import workflow
from models.geography import Province
from models.indicators import Assignment, ComparisonType, Indicator, IndicatorKind, IndicatorNature, RollupRule
from models.jalali import parse_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Evidence, Referral
from models.roles import Role
from models.users import RoleAssignment, User
from schema.ids import encode_global_id
from tests.workflow_helpers import ALI, AMIR, FATEMEH, INBOX, REFERRAL_FIELDS, client_for, period_id

pytestmark = pytest.mark.django_db

# session + user + active role (viewer_from_request), as in tests/test_api_query_counts.py
REQUEST_OVERHEAD = 3
_codes = itertools.count(1)


def _people():
    return {code: User.objects.get(national_code=code) for code in (ALI, FATEMEH, AMIR)}


def _new_assignments(count: int) -> list[Assignment]:
    """Extra indicators assigned to ستاد وزارت نیرو in the demo period."""
    period = EvaluationPeriod.objects.get()
    headquarters = Organization.objects.get(code="MOE-HQ")
    indicators = Indicator.objects.bulk_create(
        Indicator(
            code=f"QC-{n:03}",
            title=f"شاخص شمارش {n}",
            kind=IndicatorKind.GENERAL if n % 2 else IndicatorKind.SPECIFIC,
            unit="درصد",
            nature=IndicatorNature.HIGHER_IS_BETTER if n % 3 else IndicatorNature.LOWER_IS_BETTER,
            comparison_type=ComparisonType.AGAINST_TARGET,
            rollup=RollupRule.SUM,
        )
        for n in (next(_codes) for _ in range(count))
    )
    Assignment.objects.bulk_create(
        Assignment(
            indicator=indicator,
            organization=headquarters,
            period=period,
            target=Decimal("100"),
            weight=Decimal("50"),
            score_cap=Decimal("100"),
            deadline=parse_jalali("1402/11/20"),
        )
        for indicator in indicators
    )
    return list(Assignment.objects.filter(indicator__in=indicators).order_by("id"))


def _evidence(performance, actor, name: str) -> None:
    Evidence.objects.create(
        performance=performance,
        file_name=name,
        content_type="application/pdf",
        size=4,
        storage_name=f"qc-{performance.pk}-{name}",
        sha256="0" * 64,
        uploaded_by=actor,
    )


def build_work(count: int) -> list[Referral]:
    """``count`` referrals from Ali to Fatemeh, each in a different shape: with performance and
    evidence, split by province, referred onward to Amir (delegated), submitted back to Ali."""
    people = _people()
    ali, fatemeh, amir = people[ALI], people[FATEMEH], people[AMIR]
    role = RoleAssignment.objects.get(user=ali, role=Role.MAIN_LEADER)
    provinces = list(Province.objects.order_by("code")[:2])
    referrals = []
    for index, assignment in enumerate(_new_assignments(count)):
        shape = index % 4
        referral = workflow.refer(
            actor=ali,
            role=role,
            source=assignment,
            assignee=fatemeh,
            deadline=parse_jalali("1402/11/15"),
            has_provincial_breakdown=shape == 1,
            breakdown_by="ASSIGNEE" if shape == 1 else None,
        )
        if shape == 1:
            workflow.split_by_province(
                actor=fatemeh,
                referral_id=referral.pk,
                version=referral.version,
                slices=[workflow.SliceSpec(province=p, target=Decimal("50")) for p in provinces],
            )
        elif shape == 2:
            workflow.refer(
                actor=fatemeh, role=None, source=referral, assignee=amir, deadline=parse_jalali("1402/11/10")
            )
        else:
            performance = workflow.save_performance(
                actor=fatemeh, referral_id=referral.pk, version=0, changes={"value": Decimal(40 + index)}
            )
            _evidence(performance, fatemeh, "a.pdf")
            _evidence(performance, fatemeh, "b.pdf")
            if shape == 3:
                referral.refresh_from_db()
                workflow.finish_referral(actor=fatemeh, referral_id=referral.pk, version=referral.version)
        referrals.append(referral)
    return referrals


def counted(client, count_queries, query: str, variables: dict) -> tuple[dict, int, str]:
    with count_queries() as counter:
        data = client.data(query, variables)
    return data, counter.count, counter.sql()


# --- (a) the inbox ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 150])
def test_inbox_costs_constant_queries(demo, count_queries, size):
    # The demo already holds one referral to Fatemeh (MOE-01); the others are built here.
    build_work(size - 1)
    fatemeh = client_for(FATEMEH)
    data, count, sql = counted(fatemeh, count_queries, INBOX, {"period": period_id(), "first": 100})
    inbox = data["inbox"]
    # Submitted items leave Fatemeh's inbox (they wait on Ali); the rest are hers.
    expected = 1 + sum(1 for i in range(size - 1) if i % 4 != 3)
    assert inbox["totalCount"] == expected
    nodes = [edge["node"] for edge in inbox["edges"]]
    assert len(nodes) == min(100, expected)
    assert {n["inboxAction"] for n in nodes} == ({"REGISTER_OR_REFER", "WAIT"} if size > 3 else {"REGISTER_OR_REFER"})
    with_evidence = [n for n in nodes if n["performance"] and n["performance"]["evidence"]]
    assert with_evidence and all(len(n["performance"]["evidence"]) == 2 for n in with_evidence)
    assert all(n["performance"]["score"] is not None for n in with_evidence)
    assert any(len(n["slices"]) == 2 for n in nodes)
    assert all(n["timeline"][0]["actor"] == {"nationalCode": ALI} for n in nodes)
    # The page with its total (COUNT(*) OVER ()), referrer, assignee, assignment, its indicator,
    # performance (score inputs annotated on it), evidence, slices (their provinces joined),
    # timeline, actors.
    assert count == REQUEST_OVERHEAD + 10, sql


# --- (b) an organization's assignments with their referrals ----------------------------------

ASSIGNMENTS = """
query($org: ID!, $p: ID!) { node(id: $org) { ... on Organization {
  assignments(period: $p, first: 100) { totalCount edges { node {
    status score performance { value }
    referrals { totalCount edges { node { status assignee { nationalCode } } } }
  } } }
} } }
"""


@pytest.mark.parametrize("size", [3, 150])
def test_assignments_with_referrals_cost_constant_queries(demo, count_queries, size):
    build_work(size)
    ali = client_for(ALI)
    org = encode_global_id("Organization", Organization.objects.get(code="MOE-HQ").pk)
    data, count, sql = counted(ali, count_queries, ASSIGNMENTS, {"org": org, "p": period_id()})
    connection = data["node"]["assignments"]
    assert connection["totalCount"] == Assignment.objects.filter(organization__code="MOE-HQ").count()
    nodes = [edge["node"] for edge in connection["edges"]]
    assert any(n["referrals"]["totalCount"] == 2 for n in nodes)  # referred onward to Amir
    assert any(n["performance"] and n["score"] is not None for n in nodes)
    # The organization (node), its assignments (loader), their top performance (performance and
    # score share one loader), their referrals (loader) with referrer and assignee.
    assert count == REQUEST_OVERHEAD + 6, sql


# --- (c) a referral's children and timeline, nested -------------------------------------------

CHILDREN = f"""
query($period: ID!) {{ inbox(period: $period, first: 100) {{ edges {{ node {{
  id timeline {{ toStatus actor {{ nationalCode }} }}
  children {{ {REFERRAL_FIELDS} children {{ id timeline {{ toStatus actor {{ nationalCode }} }} }} }}
}} }} }} }}
"""


@pytest.mark.parametrize("size", [3, 150])
def test_children_and_timeline_cost_constant_queries(demo, count_queries, size):
    build_work(size)
    fatemeh = client_for(FATEMEH)
    data, count, sql = counted(fatemeh, count_queries, CHILDREN, {"period": period_id()})
    nodes = [edge["node"] for edge in data["inbox"]["edges"]]
    delegated = [n for n in nodes if n["children"]]
    assert delegated and all(c["assignee"] == {"nationalCode": AMIR} for n in delegated for c in n["children"])
    # The page, timeline + actors; children with REFERRAL_FIELDS (referrer, assignee, assignment,
    # indicator, performance, slices, timeline + actors); grandchildren.
    assert count == REQUEST_OVERHEAD + 13, sql
