"""Object permissions on referrals, granted and revoked as the chain moves.

* everyone in the chain above a referral (its referrer, and every referrer and assignee of its
  ancestors) and its assignee hold ``view_referral`` on it, for as long as it exists;
* the assignee holds ``change_referral`` only while the referral is in their hands (in progress
  or returned for correction); submitting it takes the permission away, returning it gives it
  back, approval ends it for good.
"""

from __future__ import annotations

from guardian.shortcuts import assign_perm, remove_perm

from models.indicators import ReferralStatus

VIEW = "mana.view_referral"
CHANGE = "mana.change_referral"
WITH_ASSIGNEE = frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.RETURNED})


def chain_users(referral) -> set:
    users = {referral.referrer, referral.assignee}
    parent = referral.parent
    while parent is not None:
        users.update({parent.referrer, parent.assignee})
        parent = parent.parent
    return users


def grant_on_create(referral) -> None:
    for user in chain_users(referral):
        assign_perm(VIEW, user, referral)
    if referral.status in WITH_ASSIGNEE:
        assign_perm(CHANGE, referral.assignee, referral)


def sync_change_permission(referral) -> None:
    if referral.status in WITH_ASSIGNEE:
        assign_perm(CHANGE, referral.assignee, referral)
    else:
        remove_perm(CHANGE, referral.assignee, referral)
