"""Liveness and readiness, for load balancers and orchestrators (no sign-in, cheap).

* ``/healthz``: the process answers — 200 ``{"status": "ok"}``, touching nothing else.
* ``/readyz``: the worker can serve — the database answers ``SELECT 1``, every migration of this
  code is applied, and the channel layer (Redis with ``REDIS_URL``) answers. 200 with each check
  ``"ok"``; else 503 (``Retry-After``) with ``"code": "NOT_READY"``, the failed checks named in
  ``failed`` and each check's own code in ``checks``. Each check may take at most
  ``MANA_READINESS_TIMEOUT`` seconds; one that takes longer has failed.

The migrations this code has are read from disk once per process; each check then costs one
query of ``django_migrations`` (a squashed migration counts as applied when the migrations it
replaces are).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import JsonResponse

OK = "ok"
NOT_READY = "NOT_READY"
DATABASE_UNREACHABLE = "DATABASE_UNREACHABLE"
MIGRATIONS_PENDING = "MIGRATIONS_PENDING"
CHANNEL_LAYER_UNREACHABLE = "CHANNEL_LAYER_UNREACHABLE"
# The migrations cannot be checked while the database cannot be reached.
NOT_CHECKED = "NOT_CHECKED"
RETRY_AFTER_SECONDS = 5
# A group nobody joins: discarding a channel from it reaches the layer and changes nothing.
PROBE_GROUP = "mana.readiness"
PROBE_CHANNEL = "mana.readiness"

logger = logging.getLogger("mana.health")


def probe_response(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def alive() -> JsonResponse:
    return probe_response({"status": OK})


async def ready() -> JsonResponse:
    timeout = settings.MANA_READINESS_TIMEOUT
    unreachable = {"database": DATABASE_UNREACHABLE, "migrations": NOT_CHECKED}
    database, channel_layer = await asyncio.gather(
        _within(timeout, sync_to_async(database_checks)(), unreachable),
        _within(timeout, channel_layer_check(), {"channelLayer": CHANNEL_LAYER_UNREACHABLE}),
    )
    checks = {**database, **channel_layer}
    failed = [name for name, outcome in checks.items() if outcome not in (OK, NOT_CHECKED)]
    if not failed:
        return probe_response({"status": OK, "checks": checks})
    logger.warning("not ready: %s", ", ".join(f"{name} {checks[name]}" for name in failed))
    response = probe_response({"status": "unavailable", "code": NOT_READY, "failed": failed, "checks": checks}, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Said above, with the reason: not again as Django's «Service Unavailable» error on every probe.
    response._has_been_logged = True
    return response


async def _within(timeout: float, check, on_timeout: dict) -> dict:
    try:
        return await asyncio.wait_for(check, timeout)
    except TimeoutError:
        return on_timeout


def database_checks() -> dict:
    """The database answers, and has every migration of this code (sync: the ORM's connection)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("readiness: the database cannot be reached: %s", error)
        return {"database": DATABASE_UNREACHABLE, "migrations": NOT_CHECKED}
    try:
        # One query (the recorder's applied_migrations() asks first whether its table exists).
        applied = set(MigrationRecorder(connection).migration_qs.values_list("app", "name"))
    except DatabaseError:
        applied = set()  # no django_migrations table: nothing was ever migrated here
    pending = pending_migrations(applied)
    return {"database": OK, "migrations": MIGRATIONS_PENDING if pending else OK}


def pending_migrations(applied: set[tuple[str, str]]) -> list[tuple[str, str]]:
    graph, replaces = _code_migrations()
    return sorted(
        key
        for key in graph
        if key not in applied and not (key in replaces and all(old in applied for old in replaces[key]))
    )


@functools.cache
def _code_migrations() -> tuple[frozenset, dict]:
    """This code's migrations (read from disk, without a database), and what squashed ones replace."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    replaces = {key: list(migration.replaces) for key, migration in loader.replacements.items()}
    return frozenset(loader.graph.nodes), replaces


async def channel_layer_check() -> dict:
    layer = get_channel_layer()
    try:
        await layer.group_discard(PROBE_GROUP, PROBE_CHANNEL)
    except Exception as error:  # whatever the backend raises when its server cannot be reached
        logger.warning("readiness: the channel layer cannot be reached: %r", error)
        return {"channelLayer": CHANNEL_LAYER_UNREACHABLE}
    return {"channelLayer": OK}
