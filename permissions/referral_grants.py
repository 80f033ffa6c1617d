"""Object permissions on referrals, granted and revoked as the chain moves.

* everyone in the chain above a referral (its referrer, and every referrer and assignee of its
  ancestors) and its assignee hold ``view_referral`` on it, for as long as it exists;
* the same people hold ``view_organization_in_chain`` on the unit the referral was made to and on
  the unit its assignment belongs to — the units one meets in one's chains are nameable, and scope
  reads them as one small set of ids instead of deriving them from every referral grant. A unit
  that one of the person's ``lead_organization`` subtrees already covers is not granted again
  (a main leader's chains run through his own subtree: thousands of redundant ids that every
  statement would otherwise carry); when a lead grant is withdrawn, the chain units it covered
  are granted then (``restore_chain_units``), so withdrawing a subtree never hides one's chains;
* the assignee holds ``change_referral`` only while the referral is in their hands (in progress
  or returned for correction); submitting it takes the permission away, returning it gives it
  back, approval ends it for good.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from guardian.shortcuts import assign_perm, remove_perm

from models.indicators import ReferralStatus
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission

VIEW = "mana.view_referral"
CHANGE = "mana.change_referral"
IN_CHAIN = "view_organization_in_chain"
LEAD = "lead_organization"
WITH_ASSIGNEE = frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.RETURNED})


def chain_users(referral) -> set:
    users = {referral.referrer, referral.assignee}
    parent = referral.parent
    while parent is not None:
        users.update({parent.referrer, parent.assignee})
        parent = parent.parent
    return users


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="mana", codename=codename)


def grant_on_create(referral) -> None:
    from models.organization import Organization

    users = chain_users(referral)
    for user in users:
        assign_perm(VIEW, user, referral)
    units = {
        pk: (tree, lft)
        for pk, tree, lft in Organization.objects.filter(
            pk__in={referral.organization_id, referral.assignment.organization_id}
        ).values_list("pk", "tree_id", "lft")
    }
    subtrees = list(
        OrganizationUserObjectPermission.objects.filter(
            user__in=users, permission__codename=LEAD, permission__content_type__app_label="mana"
        ).values_list("user_id", "content_object__tree_id", "content_object__lft", "content_object__rght")
    )

    def covered(user, unit: int) -> bool:
        tree, lft = units[unit]
        return any(u == user.pk and t == tree and low <= lft <= high for u, t, low, high in subtrees)

    in_chain = _permission(IN_CHAIN)
    OrganizationUserObjectPermission.objects.bulk_create(
        [
            OrganizationUserObjectPermission(user=user, permission=in_chain, content_object_id=unit)
            for user in users
            for unit in units
            if not covered(user, unit)
        ],
        ignore_conflicts=True,
    )
    if referral.status in WITH_ASSIGNEE:
        assign_perm(CHANGE, referral.assignee, referral)


def sync_change_permission(referral) -> None:
    if referral.status in WITH_ASSIGNEE:
        assign_perm(CHANGE, referral.assignee, referral)
    else:
        remove_perm(CHANGE, referral.assignee, referral)


@receiver(post_delete, sender=ReferralUserObjectPermission)
def withdraw_unbacked_chain_units(sender, instance, **kwargs) -> None:
    """Revoking someone's ``view_referral`` (admin console, or a script) withdraws the units it
    made visible, unless another of their referral grants still reaches the same unit."""
    from models.referrals import Referral

    if instance.permission.codename != "view_referral":
        return
    referral = (
        Referral.objects.filter(pk=instance.content_object_id)
        .values("organization_id", "assignment__organization_id")
        .first()
    )
    if referral is None:
        return  # the referral itself is being deleted
    units = {referral["organization_id"], referral["assignment__organization_id"]}
    remaining = Referral.objects.filter(
        Q(organization_id__in=units) | Q(assignment__organization_id__in=units),
        pk__in=ReferralUserObjectPermission.objects.filter(
            user_id=instance.user_id, permission__codename="view_referral"
        ).values("content_object_id"),
    ).values_list("organization_id", "assignment__organization_id")
    backed = {unit for pair in remaining for unit in pair}
    OrganizationUserObjectPermission.objects.filter(
        user_id=instance.user_id, permission__codename=IN_CHAIN, content_object_id__in=units - backed
    ).delete()


@receiver(post_delete, sender=OrganizationUserObjectPermission)
def restore_chain_units(sender, instance, **kwargs) -> None:
    """A withdrawn lead grant no longer covers the chain units inside its subtree: grant them."""
    if Permission.objects.filter(pk=instance.permission_id, codename=LEAD).exists():
        grant_chain_units_from_referral_grants(user_id=instance.user_id)


def grant_chain_units_from_referral_grants(user_id: int | None = None) -> None:
    """Give holders of ``view_referral`` (everyone, or one person) the ``view_organization_in_chain``
    grants that go with it, in set-based statements: the migration that introduced them, bulk
    loaders (``seed_scale``), and a withdrawn lead grant."""
    permissions = dict(
        Permission.objects.filter(
            content_type__app_label="mana", codename__in=(IN_CHAIN, LEAD, "view_referral")
        ).values_list("codename", "pk")
    )
    if len(permissions) < 3:
        return  # a database being created: no chains yet
    only_user = "AND g.user_id = %(user)s" if user_id is not None else ""
    for unit_column in ("r.organization_id", "a.organization_id"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO mana_organizationuserobjectpermission (user_id, permission_id, content_object_id)
                SELECT DISTINCT g.user_id, %(in_chain)s, {unit_column}
                FROM mana_referraluserobjectpermission g
                JOIN mana_referral r ON r.id = g.content_object_id
                JOIN mana_assignment a ON a.id = r.assignment_id
                JOIN mana_organization unit ON unit.id = {unit_column}
                WHERE g.permission_id = %(view_referral)s {only_user}
                  AND NOT EXISTS (
                      SELECT 1 FROM mana_organizationuserobjectpermission o
                      WHERE o.user_id = g.user_id AND o.permission_id = %(in_chain)s
                        AND o.content_object_id = {unit_column}
                  )
                  AND NOT EXISTS (
                      SELECT 1 FROM mana_organizationuserobjectpermission lead
                      JOIN mana_organization led ON led.id = lead.content_object_id
                      WHERE lead.user_id = g.user_id AND lead.permission_id = %(lead)s
                        AND led.tree_id = unit.tree_id AND unit.lft BETWEEN led.lft AND led.rght
                  )
                """,
                {
                    "in_chain": permissions[IN_CHAIN],
                    "lead": permissions[LEAD],
                    "view_referral": permissions["view_referral"],
                    "user": user_id,
                },
            )
