"""`Performance.valueHistory` through every path, at a query count that does not grow with the page.

It used to be prefetched by the optimizer through simple-history's `history` manager, which Django
cannot prefetch: `node`, `nodes` and `inbox` answered INTERNAL_ERROR (a whole inbox page null).
It is read through a loader now: one query for the history of every performance of the answer.
"""

from __future__ import annotations

import pytest

from models import workflow
from models.referrals import Performance
from models.users import User
from schema.ids import encode_global_id
from schema.scalars import canonical_decimal
from tests.test_workflow_query_counts import REQUEST_OVERHEAD, build_work
from tests.workflow_helpers import FATEMEH, SAVE, client_for, mutate, period_id

pytestmark = pytest.mark.django_db

HISTORY = "valueHistory { at oldValue newValue actor { nationalCode } }"
INBOX = f"""query($period: ID!) {{ inbox(period: $period, first: 100) {{ edges {{ node {{
  performance {{ id value {HISTORY} }} }} }} }} }}"""
NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Performance {{ id value {HISTORY} }} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Performance {{ id value {HISTORY} }} }} }}"


def _build(size: int) -> dict[str, list[dict]]:
    """``size`` referrals to Fatemeh (tests/test_workflow_query_counts.py); every open one's value
    saved once more with another value, and once with the same value (which is no change of it).
    Returns the value changes each performance must show, by its global id."""
    build_work(size)
    fatemeh = User.objects.get(national_code=FATEMEH)
    expected = {}
    for performance in Performance.objects.select_related("referral").order_by("id"):
        first = performance.value
        changes = [{"oldValue": None, "newValue": canonical_decimal(first), "actor": {"nationalCode": FATEMEH}}]
        if performance.referral.status == "IN_PROGRESS":
            for _ in range(2):
                performance = workflow.save_performance(
                    actor=fatemeh,
                    referral_id=performance.referral_id,
                    version=performance.version,
                    changes={"value": first + 1},
                )
            old, new = canonical_decimal(first), canonical_decimal(first + 1)
            changes.append({"oldValue": old, "newValue": new, "actor": {"nationalCode": FATEMEH}})
        expected[encode_global_id("Performance", performance.pk)] = changes
    return expected


def _changes(performance: dict) -> list[dict]:
    return [{k: v for k, v in change.items() if k != "at"} for change in performance["valueHistory"]]


@pytest.mark.parametrize("size", [4, 40])
def test_value_history_through_inbox_node_and_nodes_costs_constant_queries(demo, count_queries, size):
    expected = _build(size)
    assert len(expected) > 1 and any(len(changes) == 2 for changes in expected.values())
    fatemeh, period = client_for(FATEMEH), period_id()

    with count_queries() as inbox_count:
        inbox = fatemeh.data(INBOX, {"period": period})["inbox"]
    shown = [e["node"]["performance"] for e in inbox["edges"] if e["node"]["performance"]]
    assert shown
    for performance in shown:
        assert _changes(performance) == expected[performance["id"]]
    # The page, its performances, their history, the people who saved it.
    assert inbox_count.count == REQUEST_OVERHEAD + 4, inbox_count.sql()

    with count_queries() as nodes_count:
        nodes = fatemeh.data(NODES, {"ids": list(expected)})["nodes"]
    assert [_changes(n) for n in nodes] == list(expected.values())
    # The performances, their history, the people who saved it.
    assert nodes_count.count == REQUEST_OVERHEAD + 3, nodes_count.sql()

    first = next(iter(expected))
    assert _changes(fatemeh.data(NODE, {"id": first})["node"]) == expected[first]


def test_each_payload_shows_the_history_after_its_own_save(demo):
    """Two saves of one performance in one document: each payload shows the history after its save
    (the history loader keeps no cache across the mutations of a document)."""
    build_work(1)
    performance = Performance.objects.get()
    referral = encode_global_id("Referral", performance.referral_id)
    version = performance.version
    fatemeh = client_for(FATEMEH)
    payload = f"{{ errors {{ code }} performance {{ {HISTORY} }} }}"
    document = f"""mutation($r: ID!, $v1: Int!, $v2: Int!) {{
      a: savePerformance(input: {{referral: $r, version: $v1, value: "50"}}) {payload}
      b: savePerformance(input: {{referral: $r, version: $v2, value: "60"}}) {payload}
    }}"""
    data = fatemeh.data(document, {"r": referral, "v1": version, "v2": version + 1})
    first = canonical_decimal(performance.value)
    assert [c["newValue"] for c in data["a"]["performance"]["valueHistory"]] == [first, "50"]
    assert [c["newValue"] for c in data["b"]["performance"]["valueHistory"]] == [first, "50", "60"]
    # And the single-mutation payload, as the workflow tests read it.
    saved = mutate(fatemeh, SAVE, {"referral": referral, "version": version + 2, "value": "61"})
    assert [c["newValue"] for c in saved["performance"]["valueHistory"]][-1] == "61"
