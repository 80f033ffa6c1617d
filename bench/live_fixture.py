"""The people of bench/live_updates.py, written straight into a fresh database, with their API tokens.

Run by live_updates.py in a subprocess with the server's environment (DATABASE_URL, MANA_VAR_DIR):
``python bench/live_fixture.py --pairs 550 --out fixture.json``. It migrates the empty database,
builds a ministry with tests/test_api_query_counts.py's ``build_ministry`` (ARO → ministry →
subsidiaries → provincial units, seven assignments in every unit) and adds, in every provincial
unit, a pair of people: a MAIN_LEADER of that unit and an expert (SELF_EVALUATOR of it) whose
approver the leader is — so the leader may refer the unit's assignments to the expert, and each
referral concerns exactly those two people (its referrer and its assignee).

A share of the experts also hold a second role, SELF_EVALUATOR of the parent subsidiary, and their
token is made for that role: the referrals made to them reach their socket (they are the assignee)
but lie outside the token's scope, so nothing may be delivered to them.

The ministry's own main leader (``LEADER``) refers the ministry's and the subsidiaries' assignments
to an expert of the ministry: the single-subscriber baseline.

Tokens are made with ``models.api_tokens.create_api_token``; the JSON written to ``--out`` holds
them (a throwaway database's tokens) and the global ids the mutations need.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCIALS_PER_SUBSIDIARY = 24
TOKEN_NAME = "bench-live"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, required=True, help="provincial units, each with a leader and an expert")
    parser.add_argument("--decoy-every", type=int, default=10, help="every k-th pair's expert: an out-of-scope token")
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    migrated = time.monotonic() - started
    fixture = build(args.pairs, args.decoy_every)
    fixture["seconds"] = {"migrate": round(migrated, 1), "total": round(time.monotonic() - started, 1)}
    args.out.write_text(json.dumps(fixture))


def build(pairs: int, decoy_every: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from models.api_tokens import create_api_token
    from models.indicators import Assignment
    from models.organization import Organization
    from models.roles import Role
    from models.scale import national_code
    from models.users import RoleAssignment, User
    from schema.ids import encode_global_id
    from tests.test_api_query_counts import build_ministry

    subsidiaries = max(1, math.ceil(pairs / PROVINCIALS_PER_SUBSIDIARY))
    with transaction.atomic():
        built = build_ministry(subsidiaries, PROVINCIALS_PER_SUBSIDIARY, 0)
        ministry = built["ministry"]
        units = list(Organization.objects.filter(level=3).select_related("parent").order_by("code")[:pairs])
        assignments: dict[int, list[str]] = {}
        for pk, unit_id in Assignment.objects.order_by("organization_id", "indicator__code").values_list(
            "pk", "organization_id"
        ):
            assignments.setdefault(unit_id, []).append(encode_global_id("Assignment", pk))

        # No one signs in with a password: an unusable one costs no hashing.
        unusable = make_password(None)
        people = User.objects.bulk_create(
            User(
                national_code=national_code(index),
                first_name="مشترک",
                last_name=f"شماره {index}",
                password=unusable,
                organization=units[index // 2] if index < 2 * len(units) else ministry,
            )
            for index in range(2 * len(units) + 1)
        )
        leaders, experts, baseline_expert = people[0 : 2 * len(units) : 2], people[1 : 2 * len(units) : 2], people[-1]
        for leader, expert in zip(leaders, experts, strict=True):
            expert.approver = leader
        baseline_expert.approver = built["leader"]
        User.objects.bulk_update([*experts, baseline_expert], ["approver"])

        def role(user, name, unit) -> RoleAssignment:
            # save(): the guardian grant that backs the role (permissions.grants) comes with it.
            assignment = RoleAssignment(user=user, role=name, organization=unit)
            assignment.save()
            return assignment

        def token(user, role_assignment) -> str:
            return create_api_token(user, role_assignment, TOKEN_NAME, None)[1]

        rows = []
        for index, (unit, leader, expert) in enumerate(zip(units, leaders, experts, strict=True)):
            leader_role = role(leader, Role.MAIN_LEADER, unit)
            expert_role = role(expert, Role.SELF_EVALUATOR, unit)
            decoy = decoy_every > 0 and index % decoy_every == decoy_every - 1
            if decoy:
                # The expert's token acts in another unit: referrals in this one are out of its scope.
                expert_role = role(expert, Role.SELF_EVALUATOR, unit.parent)
            rows.append(
                {
                    "unit": unit.code,
                    "assignments": assignments[unit.pk],
                    "leader": {"id": leader.pk, "token": token(leader, leader_role)},
                    "expert": {
                        "id": expert.pk,
                        "global_id": encode_global_id("User", expert.pk),
                        "token": token(expert, expert_role),
                        "out_of_scope": decoy,
                    },
                }
            )
        leader_role = RoleAssignment.objects.get(user=built["leader"], organization=ministry)
        baseline_role = role(baseline_expert, Role.SELF_EVALUATOR, ministry)
        top_units = [ministry.pk, *Organization.objects.filter(level=2).values_list("pk", flat=True)]
        baseline = {
            "leader": {"id": built["leader"].pk, "token": token(built["leader"], leader_role)},
            "expert": {
                "id": baseline_expert.pk,
                "global_id": encode_global_id("User", baseline_expert.pk),
                "token": token(baseline_expert, baseline_role),
                "out_of_scope": False,
            },
            "assignments": [gid for unit_id in top_units for gid in assignments.get(unit_id, [])],
        }
    return {"pairs": rows, "baseline": baseline, "units": built["total"], "users": User.objects.count()}


if __name__ == "__main__":
    main()
