"""``seed_scale``: a small run is a sound tree, near the requested sizes, reproducible, with exactly
the grants the workflow would give, and usable through the real GraphQL endpoint."""

from __future__ import annotations

import hashlib
import random
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db.models import Count

from models.identity import is_valid_national_code
from models.indicators import Assignment, ReferralStatus
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.organization import Organization, OrganizationKind
from models.referrals import Referral
from models.scale import SCALE_PASSWORD, personas
from models.tree_integrity import check_tree
from models.users import RoleAssignment, User
from permissions.grants import permission_for
from permissions.referral_grants import IN_CHAIN, WITH_ASSIGNEE, chain_users

pytestmark = pytest.mark.django_db

SIZE = {"orgs": 600, "users": 1500, "referrals": 3000}


def seed(seed: int = 7, **options) -> str:
    out = StringIO()
    call_command("seed_scale", **{**SIZE, **options, "seed": seed}, stdout=out)
    return out.getvalue()


def digest() -> str:
    """Everything that must repeat, by natural keys and ids relative to the first row."""
    h = hashlib.sha256()
    for row in Organization.objects.order_by("lft").values_list(
        "code", "name", "search_name", "kind", "province__code", "parent__code", "tree_id", "lft", "rght", "level"
    ):
        h.update(repr(row).encode())
    for row in User.objects.order_by("national_code").values_list(
        "national_code", "first_name", "last_name", "mobile", "organization__code", "approver__national_code"
    ):
        h.update(repr(row).encode())
    first = Referral.objects.order_by("pk").values_list("pk", flat=True).first()
    for pk, parent, *rest in Referral.objects.order_by("pk").values_list(
        "pk", "parent_id", "assignment__indicator__code", "assignment__organization__code", "assignment__period__year",
        "referrer__national_code", "assignee__national_code", "organization__code", "province__code", "target",
        "deadline", "breakdown_by", "status", "version", "performance__value",
    ):  # fmt: skip
        h.update(repr((pk - first, parent and parent - first, *rest)).encode())
    return h.hexdigest()


@pytest.fixture
def seeded():
    return seed()


@pytest.fixture(autouse=True)
def fresh_content_type_cache():
    # --flush recreates content types inside the test's transaction; the rollback restores the old
    # rows, so the process-wide cache must not keep the ids seen in between.
    yield
    ContentType.objects.clear_cache()


def test_sizes_tree_and_constraints(seeded):
    assert check_tree() == []
    assert abs(Organization.objects.count() - SIZE["orgs"]) <= SIZE["orgs"] // 100
    assert User.objects.count() == SIZE["users"]
    assert Referral.objects.count() == SIZE["referrals"]
    assert Organization.objects.filter(parent__isnull=True).get().kind == OrganizationKind.ARO
    assert Organization.objects.values("tree_id").distinct().count() == 1
    assert Organization.objects.filter(kind=OrganizationKind.PROVINCIAL_PLANNING_ORGANIZATION).count() == 31
    assert all(is_valid_national_code(code) for code in User.objects.values_list("national_code", flat=True))
    # Deadlines inside the period and never later than the one above.
    for referral in Referral.objects.select_related("parent", "assignment__period").order_by("pk")[:2000]:
        period = referral.assignment.period
        assert period.start_date <= referral.deadline <= period.end_date
        limit = referral.parent.deadline if referral.parent else referral.assignment.deadline
        assert referral.deadline <= limit
        assert referral.assignee.approver_id == referral.referrer_id
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert {"IN_PROGRESS", "DELEGATED", "SUBMITTED", "RETURNED", "APPROVED", "FINALIZED"} <= statuses
    assert "sequences reset" in seeded


def test_grants_are_what_the_workflow_gives(seeded):
    rng = random.Random(1)
    sample = rng.sample(list(Referral.objects.values_list("pk", flat=True)), 200)
    for referral in Referral.objects.filter(pk__in=sample).select_related("parent", "referrer", "assignee"):
        grants = ReferralUserObjectPermission.objects.filter(content_object=referral)
        viewers = set(grants.filter(permission__codename="view_referral").values_list("user_id", flat=True))
        changers = set(grants.filter(permission__codename="change_referral").values_list("user_id", flat=True))
        assert viewers == {user.pk for user in chain_users(referral)}
        assert changers == ({referral.assignee_id} if referral.status in WITH_ASSIGNEE else set())
    role_grants = {
        (role.user_id, permission_for(role.role).split(".")[1], role.organization_id)
        for role in RoleAssignment.objects.all()
    }
    granted = set(
        OrganizationUserObjectPermission.objects.exclude(permission__codename=IN_CHAIN).values_list(
            "user_id", "permission__codename", "content_object_id"
        )
    )
    assert granted == role_grants


def test_chain_unit_grants_are_what_the_workflow_gives(seeded):
    """grant_on_create's rule over every referral: each chain member may see the unit a referral was
    made to and its assignment's unit, unless one of their lead subtrees already covers it."""
    referrals = {
        pk: row
        for pk, *row in Referral.objects.values_list(
            "pk", "parent_id", "referrer_id", "assignee_id", "organization_id", "assignment__organization_id"
        )
    }
    bounds = {
        pk: (tree, lft, rght)
        for pk, tree, lft, rght in Organization.objects.values_list("pk", "tree_id", "lft", "rght")
    }
    leads = OrganizationUserObjectPermission.objects.filter(permission__codename="lead_organization")
    subtrees = {}
    for user, unit in leads.values_list("user_id", "content_object_id"):
        subtrees.setdefault(user, []).append(bounds[unit])

    def covered(user: int, unit: int) -> bool:
        tree, lft, _ = bounds[unit]
        return any(t == tree and low <= lft <= high for t, low, high in subtrees.get(user, ()))

    expected = set()
    for parent, referrer, assignee, unit, assignment_unit in referrals.values():
        users, above = {referrer, assignee}, parent
        while above is not None:
            above, up_referrer, up_assignee, *_ = referrals[above]
            users |= {up_referrer, up_assignee}
        expected |= {(u, o) for u in users for o in (unit, assignment_unit) if not covered(u, o)}
    granted = OrganizationUserObjectPermission.objects.filter(permission__codename=IN_CHAIN)
    assert set(granted.values_list("user_id", "content_object_id")) == expected
    assert granted.count() == len(expected) > 0


def test_same_seed_same_data_and_flush(seeded):
    first = digest()
    with pytest.raises(CommandError, match="--flush"):
        seed()
    seed(flush=True)
    assert digest() == first
    seed(seed=8, flush=True)
    assert digest() != first


def test_personas_and_login(seeded, gql):
    found = personas()
    assert found["password"] == SCALE_PASSWORD and found["period_id"]
    for key in ("senior_leader", "main_leader", "small_main_leader", "provincial_leader", "busy_assignee"):
        assert User.objects.filter(national_code=found[key]).exists(), key
    busy = User.objects.get(national_code=found["busy_assignee"])
    open_counts = (
        Referral.objects.filter(
            assignment__period_id=found["period_id"], status__in=("IN_PROGRESS", "RETURNED", "DELEGATED")
        )
        .values("assignee")
        .annotate(n=Count("id"))
    )
    assert found["busy_assignee_open"] == max(row["n"] for row in open_counts)
    assert found["busy_assignee_open"] == next(row["n"] for row in open_counts if row["assignee"] == busy.pk)

    leader = User.objects.get(national_code=found["main_leader"])
    top = RoleAssignment.objects.get(user=leader, role="MAIN_LEADER").organization
    gql.login(found["main_leader"], SCALE_PASSWORD)
    total = gql.data("{ organizations { totalCount } }")["organizations"]["totalCount"]
    assert total == (top.rght - top.lft + 1) // 2 == found["main_leader_subtree"]
    assert Assignment.objects.filter(organization__in=top.get_descendants(include_self=True)).exists()
    assert ReferralStatus.FINALIZED in set(Referral.objects.values_list("status", flat=True))
