"""Serialized writes to the organization tree.

mptt keeps ``lft``/``rght`` by shifting whole ranges; two inserts or moves that read the same
bounds and write concurrently leave overlapping ranges behind. Every tree write therefore runs
inside one transaction that first takes a tree-wide lock: a PostgreSQL transaction-level
advisory lock (held across workers until commit), or a process lock on SQLite, which has one
writer process in the embedded mode anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# An arbitrary, fixed key: "mana" in ASCII, so other users of advisory locks won't collide.
ORGANIZATION_TREE_LOCK_KEY = 0x6D616E61
_process_lock = threading.RLock()


@contextmanager
def organization_tree_lock() -> Iterator[None]:
    with _process_lock, transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORGANIZATION_TREE_LOCK_KEY])
        yield
