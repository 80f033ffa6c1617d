"""The read cases of bench/country.py: each a Mana document and the PostGraphile document that returns
the same data, with a summary of each answer so the report can show that both sides agree.

PostGraphile applies no permissions, so its documents name the viewer's scope themselves (the subtree
by ``tree_id``/``lft``/``rght``, the inbox as "assigned to me or waiting for my review"). What Mana
computes on the server (``referralProgress``, ``score``, ``daysLeft``, ``inboxAction``) PostGraphile
returns as the raw rows a client would compute it from; the summaries compute the progress from them
and compare it with Mana's.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

# --- Mana ----------------------------------------------------------------------------------------

ORG = "id code name kind level"
PROGRESS = "referralProgress(period: $period) { generalPercent specificPercent deadline daysLeft }"


def _mana_tree(progress: bool) -> str:
    fields = f"{ORG} {PROGRESS}" if progress else ORG
    args = "$parent: ID!, $period: ID!" if progress else "$parent: ID!"
    return f"""query({args}) {{ organizations(parent: $parent, first: 100) {{ totalCount edges {{ node {{
  {fields} children {{ {fields} children {{ {fields} }} }} }} }} }} }}"""


MANA_ORG_LIST = """query { organizations(first: 100) { totalCount edges { node {
  id name code kind province { name } } } } }"""

# The same fields as tests/workflow_helpers.py (REFERRAL_FIELDS, INBOX, REFERRAL); copied because this
# harness talks HTTP only and never imports Django.
REFERRAL_FIELDS = """
  id status version target deadline daysLeft isOverdue inboxAction hasProvincialBreakdown breakdownBy
  province { code } referrer { nationalCode } assignee { nationalCode }
  assignment { id status scoreCap weight indicator { title unit nature kind } }
  performance { value version score comments evidence { fileName url } }
  slices { province { code } target }
  timeline { fromStatus toStatus reason actor { nationalCode } }
"""
MANA_INBOX = f"""query($period: ID!, $status: ReferralStatus, $first: Int, $after: String) {{
  inbox(period: $period, status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {REFERRAL_FIELDS} }} }} }} }}"""
MANA_REFERRAL = f"query($id: ID!) {{ node(id: $id) {{ ... on Referral {{ {REFERRAL_FIELDS} }} }} }}"
MANA_NODE_ORG = """query($id: ID!) { node(id: $id) { ... on Organization {
  id code name kind level province { name } parent { code } } } }"""
MANA_ME = "query { me { user { nationalCode firstName lastName } activeRole { role organization { name } } } }"

# --- PostGraphile ----------------------------------------------------------------------------------

PG_ORG = "nodeId id code name kind level"
TREE_ORDER = "orderBy: [TREE_ID_ASC, LFT_ASC]"
# What referralProgress is computed from: the unit's assignments of the period, each indicator's kind,
# whether a top referral exists, and the earliest deadline.
PG_PROGRESS = """assignments: manaAssignmentsByOrganizationId(condition: {periodId: $period}) { nodes {
  deadline indicator: manaIndicatorByIndicatorId { kind }
  top: manaReferralsByAssignmentId(filter: {parentId: {isNull: true}}) { totalCount } } }"""


def _pg_tree(progress: bool) -> str:
    fields = f"{PG_ORG} {PG_PROGRESS}" if progress else PG_ORG
    args = "$parent: BigInt!, $period: BigInt!" if progress else "$parent: BigInt!"
    return f"""query({args}) {{ allManaOrganizations(condition: {{parentId: $parent}}, first: 100, {TREE_ORDER}) {{
  totalCount nodes {{ {fields}
    children: manaOrganizationsByParentId({TREE_ORDER}) {{ nodes {{ {fields}
      children: manaOrganizationsByParentId({TREE_ORDER}) {{ nodes {{ {fields} }} }} }} }} }} }} }}"""


PG_ORG_LIST = f"""query($tree: Int!, $lft: Int!, $rght: Int!) {{ allManaOrganizations(condition: {{treeId: $tree}},
  filter: {{lft: {{greaterThanOrEqualTo: $lft}}, rght: {{lessThanOrEqualTo: $rght}}}}, first: 100, {TREE_ORDER}) {{
  totalCount nodes {{ nodeId name code kind province: manaProvinceByProvinceId {{ name }} }} }} }}"""

# The raw rows behind REFERRAL_FIELDS: daysLeft, isOverdue, inboxAction and score are computed by the
# client from deadline, status, the two user ids, the target and the assignment's bounds.
PG_REFERRAL_FIELDS = """
  nodeId id status version target deadline hasProvincialBreakdown breakdownBy assigneeId referrerId
  province: manaProvinceByProvinceId { code }
  referrer: manaUserByReferrerId { nationalCode } assignee: manaUserByAssigneeId { nationalCode }
  assignment: manaAssignmentByAssignmentId { nodeId status scoreCap weight lowerBound upperBound
    indicator: manaIndicatorByIndicatorId { title unit nature kind } }
  performance: manaPerformanceByReferralId { value version comments
    evidence: manaEvidencesByPerformanceId(orderBy: ID_ASC) { nodes { id fileName } } }
  slices: manaProvincialsliceByReferralId { nodes { province: manaProvinceByProvinceId { code } target } }
  timeline: manaReferraleventsByReferralId(orderBy: [AT_ASC, ID_ASC]) { nodes {
    fromStatus toStatus reason actor: manaUserByActorId { nationalCode } } }
"""
# models/inbox.py: assigned to the user and open, or submitted to them for review; by deadline, then id.
PG_INBOX = f"""query($user: BigInt!, $period: BigInt!) {{ allManaReferrals(first: 100, orderBy: [DEADLINE_ASC, ID_ASC],
  filter: {{manaAssignmentByAssignmentId: {{periodId: {{equalTo: $period}}}}, or: [
    {{assigneeId: {{equalTo: $user}}, status: {{in: ["IN_PROGRESS", "RETURNED", "DELEGATED"]}}}},
    {{referrerId: {{equalTo: $user}}, status: {{equalTo: "SUBMITTED"}}}}]}}) {{
  totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {PG_REFERRAL_FIELDS} }} }} }} }}"""
PG_REFERRAL = f"query($id: ID!) {{ node(nodeId: $id) {{ ... on ManaReferral {{ {PG_REFERRAL_FIELDS} }} }} }}"
PG_NODE_ORG = """query($id: ID!) { node(nodeId: $id) { ... on ManaOrganization {
  nodeId code name kind level province: manaProvinceByProvinceId { name }
  parent: manaOrganizationByParentId { code } } } }"""


def global_id(type_name: str, pk: int) -> str:
    """Mana's relay id (strawberry: base64 of «Type:pk»)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_global_id(value) -> int:
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    return int(base64.b64decode(str(value)).decode().split(":", 1)[1])


def postgraphile_node_id(table_type: str, pk: int) -> str:
    """PostGraphile 4's nodeId: base64 of the JSON array [table name in plural, pk]."""
    return base64.b64encode(f'["{table_type}",{pk}]'.encode()).decode()


# --- summaries: what each side returned, in comparable terms ----------------------------------------


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _pg_progress(node: dict) -> float:
    """generalPercent + specificPercent of one unit, computed the way models/progress.py does."""
    counts = {"GENERAL": [0, 0], "SPECIFIC": [0, 0]}
    for assignment in node["assignments"]["nodes"]:
        kind = assignment["indicator"]["kind"]
        counts[kind][0] += 1
        counts[kind][1] += 1 if assignment["top"]["totalCount"] else 0
    return _percent(counts["GENERAL"][1], counts["GENERAL"][0]) + _percent(counts["SPECIFIC"][1], counts["SPECIFIC"][0])


def _tree_summary(levels: list[list[dict]], total: int, progress: float | None) -> str:
    shape = " / ".join(f"{len(level):,}" for level in levels)
    text = f"{shape} units (of {total:,})"
    if progress is not None:
        text += f", Σprogress {progress:.2f}"
    return text


def summarize_mana_tree(data: dict) -> str:
    connection = data["organizations"]
    level1 = [edge["node"] for edge in connection["edges"]]
    level2 = [child for node in level1 for child in node["children"]]
    level3 = [child for node in level2 for child in node["children"]]
    progress = None
    if level1 and "referralProgress" in level1[0]:
        progress = sum(
            n["referralProgress"]["generalPercent"] + n["referralProgress"]["specificPercent"]
            for n in (*level1, *level2, *level3)
        )
    return _tree_summary([level1, level2, level3], connection["totalCount"], progress)


def summarize_pg_tree(data: dict) -> str:
    connection = data["allManaOrganizations"]
    level1 = connection["nodes"]
    level2 = [child for node in level1 for child in node["children"]["nodes"]]
    level3 = [child for node in level2 for child in node["children"]["nodes"]]
    progress = None
    if level1 and "assignments" in level1[0]:
        progress = sum(_pg_progress(n) for n in (*level1, *level2, *level3))
    return _tree_summary([level1, level2, level3], connection["totalCount"], progress)


def summarize_mana_connection(key: str) -> Callable[[dict], str]:
    return lambda data: f"{data[key]['totalCount']:,} total, {len(data[key]['edges'])} on the page"


def summarize_pg_connection(key: str) -> Callable[[dict], str]:
    def summary(data: dict) -> str:
        connection = data[key]
        rows = connection.get("edges", connection.get("nodes"))
        return f"{connection['totalCount']:,} total, {len(rows)} on the page"

    return summary


def summarize_node(data: dict) -> str:
    node = data["node"]
    if node is None:
        return "null"
    return f"found ({node.get('code') or node.get('status')})"


# --- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    persona: str
    mana_query: str
    pg_query: str
    mana_variables: Callable[[dict], dict]
    pg_variables: Callable[[dict], dict]
    mana_summary: Callable[[dict], str]
    pg_summary: Callable[[dict], str]


def _tree_case(key: str, label: str, persona: str, org: str, progress: bool) -> Case:
    def mana_variables(ctx: dict) -> dict:
        variables = {"parent": global_id("Organization", ctx[org]["id"])}
        if progress:
            variables["period"] = global_id("EvaluationPeriod", ctx["period"])
        return variables

    def pg_variables(ctx: dict) -> dict:
        variables = {"parent": str(ctx[org]["id"])}
        if progress:
            variables["period"] = str(ctx["period"])
        return variables

    return Case(
        key,
        label,
        persona,
        _mana_tree(progress),
        _pg_tree(progress),
        mana_variables,
        pg_variables,
        summarize_mana_tree,
        summarize_pg_tree,
    )


def _inbox_case(key: str, label: str, persona: str) -> Case:
    return Case(
        key,
        label,
        persona,
        MANA_INBOX,
        PG_INBOX,
        lambda ctx: {"period": global_id("EvaluationPeriod", ctx["period"]), "first": 100},
        lambda ctx: {"user": str(ctx[persona]["user_id"]), "period": str(ctx["period"])},
        summarize_mana_connection("inbox"),
        summarize_pg_connection("allManaReferrals"),
    )


CASES = [
    _tree_case("tree_main", "tree of the main leader, 3 levels", "main_leader", "main_org", False),
    _tree_case("tree_main_progress", "… with referralProgress", "main_leader", "main_org", True),
    _tree_case("tree_senior", "tree of the senior leader, 3 levels", "senior_leader", "senior_org", False),
    _tree_case("tree_senior_progress", "… with referralProgress", "senior_leader", "senior_org", True),
    Case(
        "orgs_main",
        "organizations(first: 100) of the main leader",
        "main_leader",
        MANA_ORG_LIST,
        PG_ORG_LIST,
        lambda ctx: {},
        lambda ctx: {k: ctx["main_org"][k] for k in ("tree", "lft", "rght")},
        summarize_mana_connection("organizations"),
        summarize_pg_connection("allManaOrganizations"),
    ),
    _inbox_case("inbox_assignee", "inbox (first: 100) of busy_assignee", "busy_assignee"),
    _inbox_case("inbox_reviewer", "inbox (first: 100) of busy_reviewer", "busy_reviewer"),
    Case(
        "node_org",
        "node(id:) of an organization",
        "main_leader",
        MANA_NODE_ORG,
        PG_NODE_ORG,
        lambda ctx: {"id": global_id("Organization", ctx["node_org"])},
        lambda ctx: {"id": postgraphile_node_id("mana_organizations", ctx["node_org"])},
        summarize_node,
        summarize_node,
    ),
    Case(
        "node_referral",
        "node(id:) of a referral",
        "busy_assignee",
        MANA_REFERRAL,
        PG_REFERRAL,
        lambda ctx: {"id": global_id("Referral", ctx["node_referral"])},
        lambda ctx: {"id": postgraphile_node_id("mana_referrals", ctx["node_referral"])},
        summarize_node,
        summarize_node,
    ),
]
