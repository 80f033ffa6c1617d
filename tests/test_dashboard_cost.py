"""What a dashboard costs the database, on tests/test_scope_cost.py's generated 2,000-unit country
(PostgreSQL only): every statement of the request re-run under ``EXPLAIN (ANALYZE, BUFFERS)``.

The figures are one statement (models/dashboard.py) whose cost follows the dashboard's own
organizations and assignments — one index probe per assignment for its top referral, value and
evaluations — so a small ministry's dashboard costs a small share of the country's. Budgets are
buffer counts, not timings, a few times above what the requests touch today (see
test_scope_cost.py).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schema.ids import encode_global_id
from tests.test_scope_cost import country as country  # a module fixture, used here
from tests.test_scope_cost import explain_buffers, signed_in

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans and buffers are PostgreSQL's"),
]

DASHBOARD = """query($period: ID!) { dashboard(period: $period) {
  organization { code } totals { assignments referred submitted finalized overdue selfScore evaluatedScore }
  units { rank organization { code name } totals { assignments referred selfScore } } } }"""

# Shared buffers of the whole request (session, viewer, organization, period, figures, units).
# Measured when written (seed 7): the smallest ministry 258 (169 of them the figures), the largest
# 707 (472), the country 5,430 (5,196).
BUDGETS = {"small_main_leader": 1000, "main_leader": 2500, "senior_leader": 20000}


@pytest.fixture(autouse=True)
def fast_password_hashing():
    """The country's people were hashed by the default hasher (see test_scope_cost.py)."""


def measure(client, query: str, variables: dict) -> tuple[dict, int, list[tuple[int, str]]]:
    """The answer, and the shared buffers of every statement of the request (the figures statement
    starts with WITH, which test_scope_cost's own helper leaves out)."""
    with CaptureQueriesContext(connection) as captured:
        data = client.data(query, variables)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    shares = [(explain_buffers(sql), sql) for sql in reads]
    return data, sum(t for t, _ in shares), shares


@pytest.mark.parametrize("persona", ["small_main_leader", "main_leader", "senior_leader"])
def test_a_dashboard_costs_what_it_covers(country, persona):
    client = signed_in(country, persona)
    period = encode_global_id("EvaluationPeriod", country["period_id"])
    data, total, shares = measure(client, DASHBOARD, {"period": period})
    assert data["dashboard"]["units"]
    heaviest = "\n".join(f"{t:>8}  {' '.join(sql.split())[:200]}" for t, sql in sorted(shares, reverse=True)[:2])
    assert total <= BUDGETS[persona], f"{persona}: {total} buffers > {BUDGETS[persona]}\n{heaviest}"

