"""Indicator proposals (issue 10 §1) through the real endpoint: the «done when» story, every bad
input with its code, Persian message and nothing changed, scope by role, filters and pages, the
query count of a long list, and two proposals racing for the last points of the cap (PostgreSQL).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from models.indicators import Assignment, Indicator, IndicatorNature
from models.jalali import parse_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod, PeriodStatus
from models.requests import Proposal, RequestStatus
from models.users import User
from schema.ids import decode_global_id, encode_global_id
from tests.conftest import GraphQLClient
from tests.test_workflow_concurrency import postgresql_only, race
from tests.workflow_helpers import ALI, FATEMEH, HASAN, MOHAMMAD, REFER, client_for, mutate, period_id, user_id

pytestmark = pytest.mark.django_db

ZAHRA = "0010000054"  # provincial leader, Tehran (MPO-THR)
MARYAM = "0010000011"  # senior leader
REZA = "0010000062"  # evaluator
PERSIAN = re.compile(r"[\u0600-\u06FF]")

PROPOSAL_FIELDS = """
  id title unit nature calculationMethod upperBound lowerBound target score createdAt status
  reviewedAt reviewReason organizationKind period { title } organization { code }
  proposer { nationalCode } reviewer { nationalCode }
  assignment { id status scoreCap weight target lowerBound upperBound deadline organization { code }
    indicator { code kind title unit nature calculationMethod } }
"""
PROPOSE = f"""mutation($input: ProposeIndicatorInput!) {{ proposeIndicator(input: $input) {{
  errors {{ field code message }} proposal {{ {PROPOSAL_FIELDS} }} }} }}"""
REVIEW = f"""mutation($input: ReviewProposalInput!) {{ reviewProposal(input: $input) {{
  errors {{ field code message }} proposal {{ {PROPOSAL_FIELDS} }} }} }}"""
PROPOSALS = f"""query($period: ID, $status: RequestStatus, $organization: ID, $kind: OrganizationKind,
  $search: String, $first: Int, $after: String) {{
  proposals(period: $period, status: $status, organization: $organization, kind: $kind, search: $search,
    first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {PROPOSAL_FIELDS} }} }} }} }}"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ __typename ... on Proposal {{ {PROPOSAL_FIELDS} }} }} }}"
UNIT_ASSIGNMENTS = """query($id: ID!, $period: ID!) { node(id: $id) { ... on Organization { code
  assignments(period: $period) { totalCount edges { node { id scoreCap indicator { code title kind } } } }
  referralProgress(period: $period) { specificPercent deadline daysLeft } } } }"""


def org_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


def form(organization: str = "MOE-TAVANIR-THR", **changes) -> dict:
    """The «پیشنهاد شاخص» form, as a provincial leader fills it for a Tehran unit."""
    return {
        "period": period_id(),
        "organization": org_id(organization),
        "title": "کاهش زمان قطعی برق مشترکان",
        "unit": "دقیقه",
        "nature": "LOWER_IS_BETTER",
        "calculationMethod": "میانگین دقایق خاموشی هر مشترک در سال",
        "target": "120",
        "lowerBound": "90",
        "upperBound": "150",
        "score": "100",
        **changes,
    }


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def refused(payload: dict, code: str, field: str | None = None) -> dict:
    """The payload refused with ``code`` (on ``field``), a Persian message, and no proposal."""
    assert codes(payload) == [code], payload
    (error,) = payload["errors"]
    assert PERSIAN.search(error["message"]), error
    if field is not None:
        assert error["field"] == field, error
    assert payload["proposal"] is None
    return error


def state() -> tuple:
    """Everything a refused proposal or review must leave untouched."""
    return (
        list(
            Proposal.objects.order_by("id").values_list(
                "id", "status", "score", "reviewed_by_id", "reviewed_at", "review_reason", "assignment_id"
            )
        ),
        list(Indicator.objects.order_by("id").values_list("id", "code")),
        list(Assignment.objects.order_by("id").values_list("id", "status", "organization_id")),
    )


def pk(global_id: str) -> int:
    return decode_global_id(global_id, "Proposal")[1]


def make(organization: str, proposer: str = ZAHRA, **columns) -> Proposal:
    """A proposal written directly (for lists and scope: the rules are tested through the API)."""
    values = {
        "period": columns.pop("period", None) or EvaluationPeriod.objects.get(),
        "title": "شاخص پیشنهادی",
        "unit": "درصد",
        "nature": IndicatorNature.HIGHER_IS_BETTER,
        "target": Decimal("10"),
        "score": Decimal("20"),
        **columns,
    }
    return Proposal.objects.create(
        organization=Organization.objects.get(code=organization),
        proposer=User.objects.get(national_code=proposer),
        **values,
    )


@pytest.fixture
def zahra(demo) -> GraphQLClient:
    return client_for(ZAHRA)


@pytest.fixture
def maryam(demo) -> GraphQLClient:
    return client_for(MARYAM)


# --- the issue's «done when» -----------------------------------------------------------------


def test_done_when_provincial_proposals_one_over_the_cap_one_approved_into_the_units_inbox(zahra, maryam):
    # زهرا proposes two indicators for Tehran's electricity distribution company: 100 points, then
    # 60 more, past the cap of 150 (nothing of the second is kept).
    first = mutate(zahra, PROPOSE, form())
    assert first["errors"] == []
    proposal = first["proposal"]
    assert proposal["status"] == "PENDING"
    assert proposal["organization"] == {"code": "MOE-TAVANIR-THR"}
    assert proposal["organizationKind"] == "PROVINCIAL"
    assert proposal["proposer"] == {"nationalCode": ZAHRA}
    # In the one canonical form of a Decimal, whatever places the column keeps (docs/scalars.md).
    assert (proposal["target"], proposal["lowerBound"], proposal["upperBound"], proposal["score"]) == (
        "120",
        "90",
        "150",
        "100",
    )
    assert proposal["reviewer"] is None and proposal["assignment"] is None and proposal["reviewedAt"] is None
    before = state()
    over = mutate(zahra, PROPOSE, form(title="رضایت مشترکان از خدمات برق", unit="درصد", score="60"))
    error = refused(over, "PROPOSAL_OVER_CAP", "score")
    assert "۱۵۰" in error["message"] and "۵۰" in error["message"], error
    assert state() == before

    # مریم, the senior leader, sees it waiting and approves it.
    waiting = maryam.data(PROPOSALS, {"status": "PENDING"})["proposals"]
    assert [edge["node"]["id"] for edge in waiting["edges"]] == [proposal["id"]]
    approved = mutate(maryam, REVIEW, {"proposal": proposal["id"], "decision": "APPROVE"})
    assert approved["errors"] == []
    approved = approved["proposal"]
    assert approved["status"] == "APPROVED"
    assert approved["reviewer"] == {"nationalCode": MARYAM} and approved["reviewedAt"]
    assignment = approved["assignment"]
    code = f"P-{pk(proposal['id'])}"
    assert assignment["indicator"] == {
        "code": code,
        "kind": "SPECIFIC",
        "title": "کاهش زمان قطعی برق مشترکان",
        "unit": "دقیقه",
        "nature": "LOWER_IS_BETTER",
        "calculationMethod": "میانگین دقایق خاموشی هر مشترک در سال",
    }
    assert (assignment["status"], assignment["scoreCap"], assignment["weight"]) == ("PENDING", "100", "50")
    bounds = (assignment["target"], assignment["lowerBound"], assignment["upperBound"])
    assert bounds == ("120", "90", "150")
    assert assignment["deadline"] == "1402/11/29"  # the period's end
    assert assignment["organization"] == {"code": "MOE-TAVANIR-THR"}

    # It is in that unit's assignments for whoever leads or works there: the ministry's main leader,
    # the unit's own expert (محمد), and زهرا, whose province it is.
    for reader in (client_for(ALI), client_for(MOHAMMAD), zahra):
        unit = reader.data(UNIT_ASSIGNMENTS, {"id": org_id("MOE-TAVANIR-THR"), "period": period_id()})["node"]
        assert [edge["node"]["id"] for edge in unit["assignments"]["edges"]] == [assignment["id"]]
        assert unit["assignments"]["edges"][0]["node"]["indicator"]["code"] == code
        assert unit["referralProgress"]["specificPercent"] == 0.0
        assert unit["referralProgress"]["deadline"] == "1402/11/29"
    # The main leader refers it on like any assignment of the ministry (his inbox's work).
    referred = mutate(
        client_for(ALI), REFER, {"source": assignment["id"], "assignee": user_id(FATEMEH), "deadline": "1402/11/20"}
    )
    assert referred["errors"] == [] and referred["referral"]["assignment"]["id"] == assignment["id"]
    # زهرا's list shows her proposal approved, with its assignment.
    mine = zahra.data(PROPOSALS)["proposals"]["edges"]
    assert [(e["node"]["status"], e["node"]["assignment"]["id"]) for e in mine] == [("APPROVED", assignment["id"])]


def test_an_approval_tells_the_dashboards_once_committed(zahra, maryam, django_capture_on_commit_callbacks):
    """The unit's figures changed (a new assignment): one message to the period's dashboard group,
    after the commit; a rejection changes no figure."""
    from models.events import DASHBOARD_MESSAGE, dashboard_group

    first, second = (mutate(zahra, PROPOSE, form(title=t, score="10"))["proposal"] for t in ("یک", "دو"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert mutate(maryam, REVIEW, {"proposal": first["id"], "decision": "APPROVE"})["errors"] == []
    period = EvaluationPeriod.objects.get()
    unit = Organization.objects.get(code="MOE-TAVANIR-THR")
    sent = [c.args for c in callbacks if getattr(c, "args", None) and c.args[0] == dashboard_group(period.pk)]
    assert [args[1] for args in sent] == [{"type": DASHBOARD_MESSAGE, "period": period.pk, "organization": unit.pk}]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert mutate(maryam, REVIEW, {"proposal": second["id"], "decision": "REJECT", "reason": "نه"})["errors"] == []
    assert not [c for c in callbacks if getattr(c, "args", None) and c.args[0] == dashboard_group(period.pk)]


def test_the_cap_counts_pending_and_approved_not_rejected(zahra, maryam):
    first = mutate(zahra, PROPOSE, form(score="100"))["proposal"]
    # Exactly up to the cap is allowed.
    second = mutate(zahra, PROPOSE, form(title="شاخص دوم", score="50"))
    assert second["errors"] == []
    refused(mutate(zahra, PROPOSE, form(title="شاخص سوم", score="0.01")), "PROPOSAL_OVER_CAP", "score")
    # A rejection frees its points; an approval keeps them.
    assert mutate(maryam, REVIEW, {"proposal": second["proposal"]["id"], "decision": "REJECT", "reason": "تکراری"})[
        "errors"
    ] == []
    assert mutate(maryam, REVIEW, {"proposal": first["id"], "decision": "APPROVE"})["errors"] == []
    assert mutate(zahra, PROPOSE, form(title="شاخص سوم", score="50"))["errors"] == []
    refused(mutate(zahra, PROPOSE, form(title="شاخص چهارم", score="1")), "PROPOSAL_OVER_CAP")
    # The cap is per unit: another Tehran unit has its own 150 points.
    assert mutate(zahra, PROPOSE, form("MOE-WRM-THR", score="150"))["errors"] == []


def test_the_cap_comes_from_the_period(zahra):
    EvaluationPeriod.objects.update(provincial_proposal_cap=40)
    error = refused(mutate(zahra, PROPOSE, form(score="41")), "PROPOSAL_OVER_CAP")
    assert "۴۰" in error["message"]
    assert mutate(zahra, PROPOSE, form(score="40"))["errors"] == []


def test_rejection_needs_a_reason_and_keeps_it(zahra, maryam):
    proposal = mutate(zahra, PROPOSE, form())["proposal"]
    before = state()
    for reason in (None, "", "   "):
        refused(
            mutate(maryam, REVIEW, {"proposal": proposal["id"], "decision": "REJECT", "reason": reason}),
            "REASON_REQUIRED",
            "reason",
        )
    assert state() == before
    rejected = mutate(maryam, REVIEW, {"proposal": proposal["id"], "decision": "REJECT", "reason": " هدف  نامشخص "})
    assert rejected["errors"] == []
    assert rejected["proposal"]["status"] == "REJECTED"
    assert rejected["proposal"]["reviewReason"] == "هدف نامشخص"
    assert rejected["proposal"]["assignment"] is None
    assert not Assignment.objects.filter(organization__code="MOE-TAVANIR-THR").exists()


def test_a_main_leader_proposes_for_the_subtree_once_proposals_are_open(demo):
    ali = client_for(ALI)
    before = state()
    error = refused(mutate(ali, PROPOSE, form()), "PROPOSALS_CLOSED", "period")
    assert state() == before
    EvaluationPeriod.objects.update(proposals_open=True)
    # Any unit of the ministry, provincial or not.
    assert mutate(ali, PROPOSE, form())["errors"] == []
    assert mutate(ali, PROPOSE, form("MOE-HQ", score="200"))["errors"] == []
    before = state()
    refused(mutate(ali, PROPOSE, form("MOA-THR")), "OUT_OF_SUBTREE", "organization")
    # The provincial cap binds provincial units whoever proposes.
    refused(mutate(ali, PROPOSE, form(score="60")), "PROPOSAL_OVER_CAP")
    assert state() == before
    assert "دستگاه‌های اجرایی" in error["message"]


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organization", "why"),
    [
        ("MOE-TAVANIR-ESF", "a provincial unit of another province"),
        ("MOE-WRM-FRS", "a regional unit of another province"),
        ("MOE-HQ", "a national unit"),
        ("MPO-THR", "the planning organization itself"),
        ("ARO", "the root"),
    ],
)
def test_outside_the_province_is_refused(zahra, organization, why):
    before = state()
    refused(mutate(zahra, PROPOSE, form(organization)), "OUT_OF_PROVINCE", "organization")
    assert state() == before, why


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"lowerBound": "151", "upperBound": "150"}, "BOUNDS_OUT_OF_ORDER", "lowerBound"),
        ({"score": "0"}, "SCORE_NOT_POSITIVE", "score"),
        ({"score": "-5"}, "SCORE_NOT_POSITIVE", "score"),
        ({"score": "1.255"}, "DECIMAL_TOO_PRECISE", "score"),
        ({"score": "1000000"}, "DECIMAL_OUT_OF_RANGE", "score"),
        ({"target": "123456789012345"}, "DECIMAL_OUT_OF_RANGE", "target"),
        ({"target": "1.23456"}, "DECIMAL_TOO_PRECISE", "target"),
        ({"lowerBound": "0.00001"}, "DECIMAL_TOO_PRECISE", "lowerBound"),
        ({"upperBound": "1" + "0" * 15}, "DECIMAL_OUT_OF_RANGE", "upperBound"),
        ({"unit": "تعداد", "target": "-3"}, "NEGATIVE_NOT_ALLOWED", "target"),
        ({"unit": "تعداد", "lowerBound": "-1"}, "NEGATIVE_NOT_ALLOWED", "lowerBound"),
        ({"title": "  "}, "TITLE_REQUIRED", "title"),
        ({"unit": ""}, "UNIT_REQUIRED", "unit"),
        ({"title": "ش" * 301}, "TEXT_TOO_LONG", "title"),
        ({"unit": "و" * 65}, "TEXT_TOO_LONG", "unit"),
    ],
)
def test_bad_form_is_refused_with_a_code(zahra, changes, code, field):
    before = state()
    refused(mutate(zahra, PROPOSE, form(**changes)), code, field)
    assert state() == before


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "سی", "", "12abc"])
@pytest.mark.parametrize("field", ["target", "lowerBound", "upperBound", "score"])
def test_non_numeric_decimals_are_invalid(zahra, field, value):
    before = state()
    result = zahra.execute(PROPOSE, {"input": form(**{field: value})})
    assert result.get("data") is None, result
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "INVALID_DECIMAL", error
    assert PERSIAN.search(error["message"]), error
    assert state() == before


def test_bounds_may_be_left_out_or_equal(zahra):
    assert mutate(zahra, PROPOSE, form(lowerBound=None, upperBound=None, score="10"))["errors"] == []
    assert mutate(zahra, PROPOSE, form(lowerBound="120", upperBound="120", score="10"))["errors"] == []
    only_lower = mutate(zahra, PROPOSE, form(lowerBound="500", upperBound=None, score="10"))
    assert only_lower["errors"] == [] and only_lower["proposal"]["upperBound"] is None


def test_a_closed_period_takes_no_proposal_and_no_approval(zahra, maryam):
    proposal = mutate(zahra, PROPOSE, form())["proposal"]
    EvaluationPeriod.objects.update(status=PeriodStatus.CLOSED)
    before = state()
    refused(mutate(zahra, PROPOSE, form(score="1")), "PERIOD_CLOSED", "period")
    refused(mutate(maryam, REVIEW, {"proposal": proposal["id"], "decision": "APPROVE"}), "PERIOD_CLOSED", "period")
    assert state() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [("APPROVE", "APPROVE"), ("APPROVE", "REJECT"), ("REJECT", "APPROVE"), ("REJECT", "REJECT")],
)
def test_reviewing_twice_is_refused_and_changes_nothing(zahra, maryam, first, second):
    proposal = mutate(zahra, PROPOSE, form())["proposal"]
    assert mutate(maryam, REVIEW, {"proposal": proposal["id"], "decision": first, "reason": "بررسی شد"})[
        "errors"
    ] == []
    before = state()
    again = mutate(client_for(MARYAM), REVIEW, {"proposal": proposal["id"], "decision": second, "reason": "دوباره"})
    error = refused(again, "ALREADY_REVIEWED", "proposal")
    assert ("تأییدشده" if first == "APPROVE" else "ردشده") in error["message"]
    assert state() == before
    assert Assignment.objects.filter(organization__code="MOE-TAVANIR-THR").count() == (first == "APPROVE")


@pytest.mark.parametrize(
    ("who", "code"),
    [
        (FATEMEH, "NOT_ALLOWED"),  # a self-evaluator
        (REZA, "NOT_ALLOWED"),  # an evaluator
        (MARYAM, "NOT_ALLOWED"),  # the senior leader reviews, she does not propose
        (HASAN, "PROPOSALS_CLOSED"),  # another ministry's main leader: closed before anything else
    ],
)
def test_only_provincial_and_main_leaders_propose(demo, who, code):
    before = state()
    refused(mutate(client_for(who), PROPOSE, form()), code)
    assert state() == before


@pytest.mark.parametrize("who", [ZAHRA, ALI, FATEMEH, REZA])
def test_only_the_senior_leader_reviews(zahra, who):
    proposal = mutate(zahra, PROPOSE, form())["proposal"]
    before = state()
    refused(mutate(client_for(who), REVIEW, {"proposal": proposal["id"], "decision": "APPROVE"}), "NOT_ALLOWED")
    assert state() == before


def test_unknown_ids_are_refused_in_the_payload(zahra, maryam):
    missing = encode_global_id("Proposal", 987654)
    refused(mutate(maryam, REVIEW, {"proposal": missing, "decision": "APPROVE"}), "NOT_FOUND", "proposal")
    refused(mutate(maryam, REVIEW, {"proposal": org_id("MOE"), "decision": "APPROVE"}), "INVALID_ID", "proposal")
    refused(mutate(zahra, PROPOSE, form(organization="MOE") | {"organization": missing}), "INVALID_ID")
    no_unit = encode_global_id("Organization", 987654)
    refused(mutate(zahra, PROPOSE, form() | {"organization": no_unit}), "NOT_FOUND", "organization")
    no_period = encode_global_id("EvaluationPeriod", 987654)
    refused(mutate(zahra, PROPOSE, form() | {"period": no_period}), "NOT_FOUND", "period")
    assert not Proposal.objects.exists()


def test_anonymous_is_unauthenticated_everywhere(demo):
    proposal = make("MOE-TAVANIR-THR")
    anonymous = GraphQLClient()
    for document, variables in (
        (PROPOSALS, {}),
        (NODE, {"id": encode_global_id("Proposal", proposal.pk)}),
        (PROPOSE, {"input": form()}),
        (REVIEW, {"input": {"proposal": encode_global_id("Proposal", proposal.pk), "decision": "APPROVE"}}),
    ):
        result = anonymous.execute(document, variables)
        assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"], result
    assert Proposal.objects.get().status == RequestStatus.PENDING


# --- scope ----------------------------------------------------------------------------------


@pytest.fixture
def spread(demo) -> dict[str, Proposal]:
    """Proposals across the demo's tree, by whoever made them (written directly)."""
    return {
        "tehran-electricity": make("MOE-TAVANIR-THR", title="اول"),
        "tehran-water": make("MOE-WRM-THR", title="دوم"),
        "isfahan-electricity": make("MOE-TAVANIR-ESF", proposer=ALI, title="سوم"),
        "tehran-agriculture": make("MOA-THR", proposer=HASAN, title="چهارم"),
        "moe-headquarters": make("MOE-HQ", proposer=ALI, title="پنجم"),
        # زهرا's own, for a unit that is not (or no longer) in her province: hers to see.
        "zahra-fars": make("MOE-WRM-FRS", title="ششم"),
    }


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        (MARYAM, {"tehran-electricity", "tehran-water", "isfahan-electricity", "tehran-agriculture",
                  "moe-headquarters", "zahra-fars"}),
        (ALI, {"tehran-electricity", "tehran-water", "isfahan-electricity", "moe-headquarters", "zahra-fars"}),
        (HASAN, {"tehran-agriculture"}),
        (ZAHRA, {"tehran-electricity", "tehran-water", "tehran-agriculture", "zahra-fars"}),
        (FATEMEH, set()),
        (MOHAMMAD, set()),
        (REZA, set()),
    ],
)  # fmt: skip
def test_each_role_sees_its_own_proposals_only(spread, who, visible):
    client = client_for(who)
    connection_ = client.data(PROPOSALS, {"first": 100})["proposals"]
    names = {pk: name for name, pk in ((n, p.pk) for n, p in spread.items())}
    seen = {names[pk(edge["node"]["id"])] for edge in connection_["edges"]}
    assert seen == visible
    assert connection_["totalCount"] == len(visible)
    ids = [encode_global_id("Proposal", proposal.pk) for proposal in spread.values()]
    for name, global_id in zip(spread, ids, strict=True):
        node = client.data(NODE, {"id": global_id})["node"]
        assert (node is not None) == (name in visible), (who, name)
    nodes = client.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})["nodes"]
    assert [n is not None for n in nodes] == [name in visible for name in spread]


def test_a_provincial_leader_sees_her_own_proposal_but_not_a_unit_outside_her_scope(spread):
    node = client_for(ZAHRA).data(NODE, {"id": encode_global_id("Proposal", spread["zahra-fars"].pk)})["node"]
    assert node["title"] == "ششم" and node["proposer"] == {"nationalCode": ZAHRA}
    # The Fars unit is not hers to read: named by nothing but the proposal's kind.
    assert node["organization"] is None and node["organizationKind"] is None


def test_a_reviewer_out_of_scope_is_null(spread, maryam):
    global_id = encode_global_id("Proposal", spread["tehran-electricity"].pk)
    assert mutate(maryam, REVIEW, {"proposal": global_id, "decision": "APPROVE"})["errors"] == []
    # The senior leader's person is outside a ministry's and a province's scope, as everywhere else.
    for who in (ALI, ZAHRA):
        node = client_for(who).data(NODE, {"id": global_id})["node"]
        assert node["status"] == "APPROVED" and node["reviewedAt"] and node["reviewer"] is None
        assert node["assignment"]["indicator"]["code"] == f"P-{spread['tehran-electricity'].pk}"


def test_a_main_leader_cannot_review_even_what_he_sees(spread):
    global_id = encode_global_id("Proposal", spread["moe-headquarters"].pk)
    before = state()
    refused(mutate(client_for(ALI), REVIEW, {"proposal": global_id, "decision": "APPROVE"}), "NOT_ALLOWED")
    assert state() == before


# --- filters and pages ------------------------------------------------------------------------


def _titles(client, **variables) -> list[str]:
    data = client.data(PROPOSALS, {"first": 100, **variables})["proposals"]
    assert data["totalCount"] == len(data["edges"])
    return [edge["node"]["title"] for edge in data["edges"]]


def test_filters(spread):
    maryam = client_for(MARYAM)
    Proposal.objects.filter(pk=spread["tehran-water"].pk).update(status=RequestStatus.APPROVED)
    Proposal.objects.filter(pk=spread["moe-headquarters"].pk).update(status=RequestStatus.REJECTED)
    demo_period = period_id()
    other = EvaluationPeriod.objects.create(
        title="دوره ۱۴۰۳", year=1403, start_date=parse_jalali("1403/01/01"), end_date=parse_jalali("1403/12/29")
    )
    make("MOE-TAVANIR-THR", title="هفتم (۱۴۰۳)", period=other)
    # Newest first.
    assert _titles(maryam) == ["هفتم (۱۴۰۳)", "ششم", "پنجم", "چهارم", "سوم", "دوم", "اول"]
    assert _titles(maryam, period=demo_period) == ["ششم", "پنجم", "چهارم", "سوم", "دوم", "اول"]
    assert _titles(maryam, period=encode_global_id("EvaluationPeriod", other.pk)) == ["هفتم (۱۴۰۳)"]
    assert _titles(maryam, status="APPROVED") == ["دوم"]
    assert _titles(maryam, status="REJECTED") == ["پنجم"]
    assert _titles(maryam, organization=org_id("MOE-TAVANIR-THR")) == ["هفتم (۱۴۰۳)", "اول"]
    assert _titles(maryam, kind="REGIONAL") == ["ششم", "دوم"]
    assert _titles(maryam, kind="HEADQUARTERS") == ["پنجم"]
    assert _titles(maryam, kind="PROVINCIAL", status="PENDING", period=demo_period) == ["چهارم", "سوم", "اول"]
    # Search: the indicator's title or the unit's name, ي/ك and digits folded in the unit's name.
    assert _titles(maryam, search="پنجم") == ["پنجم"]
    assert _titles(maryam, search="اصفهان") == ["سوم"]
    assert _titles(maryam, search="كشاورزي تهران") == ["چهارم"]
    assert _titles(maryam, search="۱۴۰۳") == ["هفتم (۱۴۰۳)"]
    assert _titles(maryam, search="هیچ‌چیز") == []
    # Filters never widen the scope.
    assert _titles(client_for(HASAN), organization=org_id("MOE-TAVANIR-THR")) == []
    assert _titles(client_for(ZAHRA), kind="HEADQUARTERS") == []


def test_bad_filter_ids_are_invalid(spread):
    result = client_for(MARYAM).execute(PROPOSALS, {"organization": period_id()})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_ID"]


def test_pages(spread):
    maryam = client_for(MARYAM)
    seen, after = [], None
    for _ in range(10):
        page = maryam.data(PROPOSALS, {"first": 4, "after": after})["proposals"]
        assert page["totalCount"] == len(spread)
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["ششم", "پنجم", "چهارم", "سوم", "دوم", "اول"]
    result = maryam.execute(PROPOSALS, {"first": 101})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["PAGE_SIZE_EXCEEDED"]


# --- query count ------------------------------------------------------------------------------

# session + user + active role (viewer_from_request), as in tests/test_api_query_counts.py
REQUEST_OVERHEAD = 3


def _many(count: int) -> None:
    """``count`` proposals for Tehran's units, every second one approved into an assignment."""
    period = EvaluationPeriod.objects.get()
    units = list(Organization.objects.filter(code__in=["MOE-TAVANIR-THR", "MOE-WRM-THR", "MOA-THR"]))
    zahra, maryam = User.objects.get(national_code=ZAHRA), User.objects.get(national_code=MARYAM)
    for index in range(count):
        unit = units[index % len(units)]
        assignment = None
        if index % 2:
            indicator = Indicator.objects.create(
                code=f"Q-{index}", title=f"شاخص {index}", kind="SPECIFIC", unit="درصد", nature="HIGHER_IS_BETTER"
            )
            assignment = Assignment.objects.create(
                indicator=indicator,
                organization=unit,
                period=period,
                target=Decimal(10),
                weight=Decimal(1),
                score_cap=Decimal(2),
            )
        Proposal.objects.create(
            period=period,
            organization=unit,
            proposer=zahra,
            title=f"شاخص {index}",
            unit="درصد",
            nature=IndicatorNature.HIGHER_IS_BETTER,
            target=Decimal(10),
            score=Decimal(2),
            status=RequestStatus.APPROVED if assignment else RequestStatus.PENDING,
            reviewed_by=maryam if assignment else None,
            assignment=assignment,
        )


@pytest.mark.parametrize("count", [6, 150])
@pytest.mark.parametrize("who", [MARYAM, ZAHRA])
def test_the_list_costs_a_constant_number_of_queries(demo, count_queries, who, count):
    _many(count)
    client = client_for(who)
    with count_queries() as counter:
        data = client.data(PROPOSALS, {"first": 100})["proposals"]
    assert data["totalCount"] == count
    assert len(data["edges"]) == min(count, 100)
    assert all(edge["node"]["organization"] and edge["node"]["proposer"] for edge in data["edges"])
    approved = [edge["node"] for edge in data["edges"] if edge["node"]["status"] == "APPROVED"]
    assert approved and all(node["assignment"]["indicator"]["code"].startswith("Q-") for node in approved)
    # REQUEST_OVERHEAD + the page with its total and periods (one query) + units + proposers +
    # reviewers + assignments + their units + their indicators.
    assert counter.count == REQUEST_OVERHEAD + 7, counter.sql()


# --- two proposals racing for the last points (PostgreSQL) ------------------------------------

@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_two_proposals_for_the_last_points_do_not_both_pass(demo, attempt):
    tab1, tab2 = client_for(ZAHRA), client_for(ZAHRA)
    assert mutate(tab1, PROPOSE, form(score="100"))["errors"] == []
    results = race(
        lambda: mutate(tab1, PROPOSE, form(title="الف", score="40")),
        lambda: mutate(tab2, PROPOSE, form(title="ب", score="40")),
    )
    assert sorted(codes(r) for r in results) == [[], ["PROPOSAL_OVER_CAP"]]
    unit = Organization.objects.get(code="MOE-TAVANIR-THR")
    assert sum(Proposal.objects.filter(organization=unit).values_list("score", flat=True)) == Decimal("140")


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_two_approvals_at_once_make_one_assignment(demo, attempt):
    proposal = mutate(client_for(ZAHRA), PROPOSE, form())["proposal"]
    tab1, tab2 = client_for(MARYAM), client_for(MARYAM)
    request = {"proposal": proposal["id"], "decision": "APPROVE"}
    results = race(lambda: mutate(tab1, REVIEW, request), lambda: mutate(tab2, REVIEW, request))
    assert sorted(codes(r) for r in results) == [[], ["ALREADY_REVIEWED"]]
    assert Assignment.objects.filter(organization__code="MOE-TAVANIR-THR").count() == 1
    assert Indicator.objects.filter(code=f"P-{pk(proposal['id'])}").count() == 1
