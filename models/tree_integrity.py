"""Checks the nested-set (mptt) invariants of the organization tree, and repairs them.

mptt trusts ``lft``/``rght``/``level`` for every subtree query; a tree left inconsistent by a
racing write or a raw UPDATE silently answers scope checks wrongly. This reads the columns raw
(no mptt logic involved) and lists every broken invariant in words an operator can act on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    pk: int
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int


def load_nodes() -> list[Node]:
    from models.organization import Organization

    rows = Organization.objects.order_by().values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
    return [Node(*row) for row in rows]


def check_nodes(nodes: list[Node]) -> list[str]:
    """Every violated invariant, one readable line each; an empty list means a sound tree."""
    problems: list[str] = []
    by_pk = {node.pk: node for node in nodes}
    trees: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        trees[node.tree_id].append(node)

    for node in nodes:
        if node.parent_id is None:
            if node.level != 0:
                problems.append(f"node {node.pk}: root with level {node.level}, expected 0")
            continue
        parent = by_pk.get(node.parent_id)
        if parent is None:
            problems.append(f"node {node.pk}: parent {node.parent_id} does not exist")
            continue
        if parent.tree_id != node.tree_id:
            problems.append(f"node {node.pk}: in tree {node.tree_id} but its parent {parent.pk} is in {parent.tree_id}")
        if node.level != parent.level + 1:
            problems.append(f"node {node.pk}: level {node.level}, expected parent's {parent.level} + 1")

    for tree_id in sorted(trees):
        problems.extend(_check_tree(tree_id, trees[tree_id]))
    return problems


def _check_tree(tree_id: int, nodes: list[Node]) -> list[str]:
    problems: list[str] = []
    prefix = f"tree {tree_id}"
    roots = [node for node in nodes if node.parent_id is None]
    if len(roots) != 1:
        problems.append(f"{prefix}: {len(roots)} roots ({_pks(roots)}), expected exactly 1")

    bounds = sorted([node.lft for node in nodes] + [node.rght for node in nodes])
    expected = list(range(1, 2 * len(nodes) + 1))
    if bounds != expected:
        missing = sorted(set(expected) - set(bounds))
        extra = sorted({b for b in bounds if bounds.count(b) > 1 or b not in expected})
        problems.append(
            f"{prefix}: lft/rght are not exactly 1..{2 * len(nodes)} once each"
            f" (missing {_short(missing)}, duplicated or out of range {_short(extra)})"
        )

    # Walk in lft order with a stack of open intervals: the enclosing interval of each node must
    # be its parent's, and a node must close before any interval that encloses it.
    stack: list[Node] = []
    for node in sorted(nodes, key=lambda n: (n.lft, n.pk)):
        if node.lft >= node.rght:
            problems.append(f"node {node.pk}: lft {node.lft} is not below rght {node.rght}")
            continue
        while stack and stack[-1].rght < node.lft:
            stack.pop()
        enclosing = stack[-1] if stack else None
        if enclosing is not None and node.rght > enclosing.rght:
            problems.append(
                f"node {node.pk}: interval [{node.lft}, {node.rght}] overlaps"
                f" [{enclosing.lft}, {enclosing.rght}] of node {enclosing.pk} without nesting in it"
            )
        enclosing_pk = enclosing.pk if enclosing is not None else None
        if enclosing_pk != node.parent_id:
            problems.append(
                f"node {node.pk}: enclosed by {_describe(enclosing_pk)} but its parent is {_describe(node.parent_id)}"
            )
        stack.append(node)
    return problems


def check_tree() -> list[str]:
    return check_nodes(load_nodes())


def repair_tree() -> list[str]:
    """Rebuilds lft/rght/level/tree_id from the parent links, then checks again."""
    from models.organization import Organization
    from models.tree_lock import organization_tree_lock

    # Under the writers' lock: a rebuild racing an insert would itself corrupt the tree.
    with organization_tree_lock():
        Organization.objects.rebuild()
    return check_tree()


def _describe(pk: int | None) -> str:
    return "nothing (a root)" if pk is None else f"node {pk}"


def _pks(nodes: list[Node]) -> str:
    return ", ".join(str(node.pk) for node in nodes) or "none"


def _short(values: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    more = f", … {len(values) - limit} more" if len(values) > limit else ""
    return f"[{shown}{more}]"
