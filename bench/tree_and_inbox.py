"""Latency of the nested organization tree and of the inbox, through the real HTTP endpoint.

Run from the repository root: ``.venv/bin/python bench/tree_and_inbox.py`` (see bench/README.md).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))


def _prepare_database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", admin, "-qc", statement], check=True)
        os.environ["DATABASE_URL"] = url
        return f"PostgreSQL ({name})"
    os.environ.pop("DATABASE_URL", None)
    os.environ["MANA_VAR_DIR"] = tempfile.mkdtemp(prefix="mana-bench-")
    return "SQLite (embedded default)"


def main() -> None:
    backend = _prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)

    from schema.ids import encode_global_id
    from tests.conftest import GraphQLClient
    from tests.test_api_query_counts import LARGE, LEADER, PASSWORD, SMALL, TREE_QUERY, build_ministry
    from tests.workflow_helpers import INBOX

    print(f"Mana bench — {backend}, {REPEAT} requests each\n")
    print(f"{'what':<42}{'units':>7}{'queries':>9}{'median ms':>11}{'p95 ms':>9}")
    for shape in (SMALL, LARGE):
        _reset()
        built = build_ministry(*shape)
        client = GraphQLClient()
        client.login(LEADER, PASSWORD)
        period = encode_global_id("EvaluationPeriod", built["period"].pk)
        inbox_size = _fill_inbox(built)
        for label, query in (
            ("organizations: nested tree (foundation)", TREE_QUERY),
            (f"inbox: {inbox_size} submissions to review", INBOX),
        ):
            timings = []
            for _ in range(REPEAT):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    client.data(query, {"p": period} if "$p:" in query else {"period": period, "first": 100})
                    timings.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(f"{label:<42}{built['total']:>7}{len(queries):>9}{statistics.median(timings):>11.1f}{p95:>9.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MiB")


def _reset() -> None:
    from django.core.management import call_command

    from models.geography import ensure_provinces

    call_command("flush", interactive=False, verbosity=0)
    ensure_provinces()


def _fill_inbox(built) -> int:
    """150 submissions waiting for the leader's review: referrals from him, submitted back."""
    from decimal import Decimal

    from models.indicators import Assignment, ReferralStatus
    from models.referrals import Performance, Referral
    from models.users import RoleAssignment, User
    from permissions.referral_grants import grant_on_create

    leader = built["leader"]
    unit = built["ministry"]
    assignee = User.objects.create_user("0010000021", "x", first_name="کارشناس", last_name="نمونه", approver=leader)
    RoleAssignment.objects.create(user=assignee, role="SELF_EVALUATOR", organization=unit)
    for assignment in Assignment.objects.filter(organization__in=unit.get_descendants(include_self=True))[:150]:
        referral = Referral.objects.create(
            assignment=assignment,
            referrer=leader,
            assignee=assignee,
            organization=assignment.organization,
            target=assignment.target,
            deadline=assignment.deadline,
            status=ReferralStatus.SUBMITTED,
        )
        grant_on_create(referral)
        Performance.objects.create(referral=referral, value=Decimal("9"), version=1)
    return Referral.objects.count()


if __name__ == "__main__":
    main()
