"""Two people acting on the same referral at once (docs/workflow.md): exactly one wins, the other gets
CONFLICT, nothing is lost and nothing happens twice.

The threaded tests call the real HTTP endpoint from two threads, each with its own signed-in
client (two browser tabs) and its own database connection, started together by a barrier; they
need real row locks and so run only on PostgreSQL, in committed transactions. Both callers send
the version they saw, the same one: whichever arrives second — blocked on the row lock or after
the winner's commit — finds the version moved on and gets CONFLICT. The sequential tests pin the
same stale-version path on every backend.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from models.referrals import Evidence, Performance, Referral, ReferralEvent
from schema.ids import decode_global_id
from tests.workflow_helpers import (
    AMIR,
    FATEMEH,
    FINISH,
    RETURN,
    SAVE,
    build_chain,
    client_for,
    mutate,
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL's row locks"
)


def race(*calls):
    """Run the calls in parallel threads started together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing request never finished"
    assert not failures, failures
    return results


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def pk(global_id: str) -> int:
    return decode_global_id(global_id, "Referral")[1]


def events(referral_pk: int) -> list[tuple]:
    return list(
        ReferralEvent.objects.filter(referral_id=referral_pk)
        .order_by("id")
        .values_list("from_status", "to_status", "actor__national_code")
    )


@pytest.fixture
def chain(demo):
    """Ali refers MOE-02 to Fatemeh, who refers it to Amir; Amir registers a value (with evidence)."""
    built = build_chain()
    ali, fatemeh, amir = built["ali"], built["fatemeh"], built["amir"]
    top, child = {"referral": built["top"]}, {"referral": built["child"]}
    saved = mutate(amir, SAVE, {"referral": child["referral"]["id"], "version": 0, "value": "30"})
    assert saved["errors"] == []
    performance = Performance.objects.get(referral_id=pk(child["referral"]["id"]))
    Evidence.objects.create(
        performance=performance,
        file_name="report.pdf",
        content_type="application/pdf",
        size=4,
        storage_name="race-report",
        sha256="0" * 64,
        uploaded_by=performance.updated_by,
    )
    ids = {"top": top["referral"]["id"], "child": child["referral"]["id"]}
    return {"ali": ali, "fatemeh": fatemeh, "amir": amir, **ids}


@pytest.fixture
def submitted(chain):
    """Amir has finished: the child waits for Fatemeh's review."""
    result = mutate(chain["amir"], FINISH, {"referral": chain["child"], "version": 1})
    assert result["errors"] == [] and result["referral"]["status"] == "SUBMITTED"
    return {**chain, "version": result["referral"]["version"]}


def _assert_approved_once(chain: dict, version: int) -> None:
    child, top = Referral.objects.get(pk=pk(chain["child"])), Referral.objects.get(pk=pk(chain["top"]))
    assert (child.status, child.version) == ("APPROVED", version + 1)
    assert [e for e in events(child.pk) if e[1] == "APPROVED"] == [("SUBMITTED", "APPROVED", FATEMEH)]
    # One submission reached Ali: one transition, one carried-up performance with one copy of the evidence.
    assert top.status == "SUBMITTED"
    assert [e for e in events(top.pk) if e[1] == "SUBMITTED"] == [("DELEGATED", "SUBMITTED", FATEMEH)]
    carried = Performance.objects.get(referral=top)
    assert (carried.version, carried.value) == (1, Decimal("30"))
    assert carried.history.count() == 2  # created, then filled: one carry-up
    assert list(carried.evidence.values_list("file_name", flat=True)) == ["report.pdf"]


def _assert_returned_once(chain: dict, version: int) -> None:
    child, top = Referral.objects.get(pk=pk(chain["child"])), Referral.objects.get(pk=pk(chain["top"]))
    assert (child.status, child.version) == ("RETURNED", version + 1)
    assert [e for e in events(child.pk) if e[0] == "SUBMITTED"] == [("SUBMITTED", "RETURNED", FATEMEH)]
    assert (top.status, top.version) == ("DELEGATED", 2)
    assert not Performance.objects.filter(referral=top).exists()


# --- threaded, on PostgreSQL ------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_two_approvals_at_once_submit_upwards_once(submitted, attempt):
    tab1, tab2 = client_for(FATEMEH), client_for(FATEMEH)
    request = {"referral": submitted["child"], "version": submitted["version"]}
    results = race(lambda: mutate(tab1, FINISH, request), lambda: mutate(tab2, FINISH, request))
    assert sorted(codes(r) for r in results) == [[], ["CONFLICT"]]
    winner = next(r for r in results if not r["errors"])
    assert winner["referral"]["status"] == "APPROVED"
    assert next(r for r in results if r["errors"])["referral"] is None
    _assert_approved_once(submitted, submitted["version"])


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_approve_and_return_at_once_one_wins(submitted, attempt):
    tab1, tab2 = client_for(FATEMEH), client_for(FATEMEH)
    version = submitted["version"]
    approve = {"referral": submitted["child"], "version": version}
    give_back = {**approve, "reason": "مستند ناقص است"}
    approved, returned = race(lambda: mutate(tab1, FINISH, approve), lambda: mutate(tab2, RETURN, give_back))
    assert sorted([codes(approved), codes(returned)]) == [[], ["CONFLICT"]]
    if not approved["errors"]:
        _assert_approved_once(submitted, version)
    else:
        assert returned["referral"]["status"] == "RETURNED"
        _assert_returned_once(submitted, version)


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize("seen", [0, 1], ids=["first-save", "edit"])
@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_two_saves_with_the_same_version_keep_one(chain, seen, attempt):
    child = pk(chain["child"])
    if seen == 0:
        Performance.objects.filter(referral_id=child).delete()
    tab1, tab2 = client_for(AMIR), client_for(AMIR)
    results = race(
        lambda: mutate(tab1, SAVE, {"referral": chain["child"], "version": seen, "value": "11", "comments": "یک"}),
        lambda: mutate(tab2, SAVE, {"referral": chain["child"], "version": seen, "value": "22", "comments": "دو"}),
    )
    assert sorted(codes(r) for r in results) == [[], ["CONFLICT"]]
    winner = next(r for r in results if not r["errors"])["performance"]
    assert winner["version"] == seen + 1
    # No lost update and no mix: the row is exactly what the winner saved, recorded once.
    performance = Performance.objects.get(referral_id=child)
    assert (performance.version, performance.value, performance.comments) == (
        seen + 1,
        Decimal(winner["value"]),
        winner["comments"],
    )
    assert performance.history.count() == seen + 1
    assert Referral.objects.get(pk=child).status == "IN_PROGRESS"


# --- sequential, every backend: the second caller's version is stale ----------------------


def _snapshot() -> tuple:
    return (
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        list(ReferralEvent.objects.order_by("id").values_list("id", "to_status")),
        list(Performance.objects.order_by("id").values_list("id", "version", "value", "comments")),
        Evidence.objects.count(),
    )


@pytest.mark.django_db
def test_second_approval_with_the_same_version_is_a_conflict(submitted):
    request = {"referral": submitted["child"], "version": submitted["version"]}
    assert codes(mutate(submitted["fatemeh"], FINISH, request)) == []
    before = _snapshot()
    assert codes(mutate(client_for(FATEMEH), FINISH, request)) == ["CONFLICT"]
    assert _snapshot() == before
    _assert_approved_once(submitted, submitted["version"])


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["approve", "return"])
def test_approve_and_return_with_the_same_version_second_is_a_conflict(submitted, first):
    version = submitted["version"]
    approve = (FINISH, {"referral": submitted["child"], "version": version})
    give_back = (RETURN, {"referral": submitted["child"], "version": version, "reason": "مستند ناقص است"})
    winner, loser = (approve, give_back) if first == "approve" else (give_back, approve)
    assert codes(mutate(submitted["fatemeh"], *winner)) == []
    before = _snapshot()
    assert codes(mutate(client_for(FATEMEH), *loser)) == ["CONFLICT"]
    assert _snapshot() == before
    if first == "approve":
        _assert_approved_once(submitted, version)
    else:
        _assert_returned_once(submitted, version)


@pytest.mark.django_db
@pytest.mark.parametrize("seen", [0, 1], ids=["first-save", "edit"])
def test_second_save_with_the_same_version_is_a_conflict(chain, seen):
    child = pk(chain["child"])
    if seen == 0:
        Performance.objects.filter(referral_id=child).delete()
    saved = mutate(chain["amir"], SAVE, {"referral": chain["child"], "version": seen, "value": "11", "comments": "یک"})
    assert codes(saved) == []
    before = _snapshot()
    stale = mutate(client_for(AMIR), SAVE, {"referral": chain["child"], "version": seen, "value": "22"})
    assert codes(stale) == ["CONFLICT"] and stale["performance"] is None
    assert _snapshot() == before
    performance = Performance.objects.get(referral_id=child)
    assert (performance.version, performance.value, performance.comments) == (seen + 1, Decimal("11"), "یک")
    assert performance.history.count() == seen + 1
