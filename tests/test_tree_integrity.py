"""The organization tree's integrity check, its repair, and the tree lock under racing writers."""

from __future__ import annotations

import contextlib
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import F

from models.organization import Organization, OrganizationKind
from models.tree_integrity import Node, check_nodes, check_tree


def run_check_tree(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("check_tree", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the checker on hand-built trees -------------------------------------------------------------

#        1 (1, 8)
#       /        \
#  2 (2, 5)    4 (6, 7)
#     |
#  3 (3, 4)
SOUND = [Node(1, None, 1, 1, 8, 0), Node(2, 1, 1, 2, 5, 1), Node(3, 2, 1, 3, 4, 2), Node(4, 1, 1, 6, 7, 1)]


def replaced(node_pk: int, **changes) -> list[Node]:
    return [Node(**{**n.__dict__, **changes}) if n.pk == node_pk else n for n in SOUND]


def test_sound_tree_has_no_problems():
    assert check_nodes(SOUND) == []
    assert check_nodes([]) == []


def test_each_broken_invariant_is_named():
    assert any("lft/rght are not exactly 1..8" in p for p in check_nodes(replaced(4, rght=9)))
    assert any("lft 7 is not below rght 6" in p for p in check_nodes(replaced(4, lft=7, rght=6)))
    assert any("level 2, expected parent's 0 + 1" in p for p in check_nodes(replaced(4, level=2)))
    assert any("root with level 1" in p for p in check_nodes(replaced(1, level=1)))
    # Right bounds in order but the parent link says otherwise: 4 is nested under 1, not 2.
    assert any(
        "enclosed by node 1 but its parent is node 2" in p for p in check_nodes(replaced(4, parent_id=2, level=2))
    )
    # 3 sticks out of its parent 2: [3, 6] overlaps [2, 5].
    overlapping = [Node(1, None, 1, 1, 8, 0), Node(2, 1, 1, 2, 5, 1), Node(3, 2, 1, 3, 6, 2), Node(4, 1, 1, 4, 7, 1)]
    assert any("overlaps [2, 5] of node 2" in p for p in check_nodes(overlapping))
    two_roots = [*SOUND[:3], Node(4, None, 1, 6, 7, 0)]
    assert any("2 roots (1, 4)" in p for p in check_nodes(two_roots))
    assert any("parent 99 does not exist" in p for p in check_nodes(replaced(4, parent_id=99)))
    assert any("its parent 1 is in 1" in p for p in check_nodes([*SOUND, Node(5, 1, 2, 1, 2, 1)]))


# --- the command on the demo tree ----------------------------------------------------------------


def test_demo_tree_is_consistent(demo):
    out, err = run_check_tree()
    assert "consistent" in out
    assert err == ""


def test_corrupted_tree_fails_and_repair_fixes_it(demo):
    leaf = Organization.objects.filter(rght=F("lft") + 1, level__gt=1).order_by("lft").first()
    Organization.objects.filter(pk=leaf.pk).update(lft=leaf.rght + 1)

    with pytest.raises(CommandError, match="inconsistent"):
        run_check_tree()
    assert any(f"node {leaf.pk}" in problem for problem in check_tree())

    out, err = run_check_tree("--repair")
    assert "repaired and consistent" in out
    assert f"node {leaf.pk}" in err  # what was wrong is still reported before the rebuild
    assert check_tree() == []
    run_check_tree()


def test_wrong_level_is_found_and_repaired(demo):
    ministry = Organization.objects.get(code="MOE")
    Organization.objects.filter(pk=ministry.pk).update(level=5)
    with pytest.raises(CommandError):
        run_check_tree()
    run_check_tree("--repair")
    assert Organization.objects.get(pk=ministry.pk).level == 1


# --- racing writers (PostgreSQL only) -----------------------------------------------------------

THREADS = 8
INSERTS_PER_THREAD = 5


@pytest.fixture
def as_separate_workers(monkeypatch):
    """Threads of one process queue on tree_lock's process lock before reaching the database.

    Production runs several ASGI worker processes, which share only the PostgreSQL advisory
    lock; dropping the in-process lock makes these threads contend on that alone.
    """
    monkeypatch.setattr("models.tree_lock._process_lock", contextlib.nullcontext())


@pytest.mark.django_db(transaction=True)
def test_racing_inserts_keep_the_tree_sound(demo, as_separate_workers):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers itself: a race needs PostgreSQL (set DATABASE_URL)")

    # Half the threads crowd one parent (same ranges shifted), the others spread over several.
    crowded, *spread = Organization.objects.exclude(kind__in=["PROVINCIAL", "REGIONAL"]).order_by("lft")[:4]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def insert(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(INSERTS_PER_THREAD):
                parent = crowded if worker % 2 == 0 else spread[(worker + i) % len(spread)]
                # A parent instance loaded once and reused: its lft/rght go stale as others insert.
                Organization.objects.create(
                    code=f"RACE-{worker:02d}-{i:02d}",
                    name=f"واحد آزمایشی {worker}-{i}",
                    kind=OrganizationKind.SUBSIDIARY,
                    parent=parent,
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Organization.objects.filter(code__startswith="RACE-").count() == THREADS * INSERTS_PER_THREAD
    assert check_tree() == []
    crowded.refresh_from_db()
    assert crowded.get_children().filter(code__startswith="RACE-").count() == (THREADS // 2) * INSERTS_PER_THREAD


@pytest.mark.django_db(transaction=True)
def test_racing_moves_and_inserts_keep_the_tree_sound(demo, as_separate_workers):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers itself: a race needs PostgreSQL (set DATABASE_URL)")

    aro = Organization.objects.get(kind=OrganizationKind.ARO)
    holders = [
        Organization.objects.create(code=f"HOLD-{n}", name=f"نگهدارنده {n}", kind="SUBSIDIARY", parent=aro)
        for n in range(2)
    ]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(INSERTS_PER_THREAD):
                node = Organization.objects.create(
                    code=f"MOVE-{worker:02d}-{i:02d}", name=f"جابه‌جا {worker}-{i}", kind="SUBSIDIARY", parent=aro
                )
                # Change of parent through save(), as the admin's change form does.
                node.parent = holders[(worker + i) % 2]
                node.save()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert check_tree() == []
    moved = sum(holder.get_children().count() for holder in Organization.objects.filter(code__startswith="HOLD-"))
    assert moved == THREADS * INSERTS_PER_THREAD
