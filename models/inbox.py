"""The inbox (کارپوشه): a person's referral work, in a stable order clients can page through."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet

from models.indicators import ReferralStatus
from models.referrals import Referral

S = ReferralStatus
# With the assignee: to register or refer, back for correction, or waiting on what they referred.
ASSIGNED_STATUSES = (S.IN_PROGRESS, S.RETURNED, S.DELEGATED)
OPEN_STATUSES = (S.IN_PROGRESS, S.RETURNED, S.DELEGATED, S.SUBMITTED)


def inbox(*, user, assigned_in_scope: Q, period_id: int, status: str | None = None) -> QuerySet[Referral]:
    """Referrals assigned to ``user`` (within their active role's scope) and submissions waiting
    for their review. Ordered by deadline, then id, so "previous/next indicator" is stable."""
    assigned = Q(assignee=user, status__in=ASSIGNED_STATUSES) & assigned_in_scope
    to_review = Q(referrer=user, status=S.SUBMITTED)
    queryset = Referral.objects.filter(assignment__period_id=period_id).filter(assigned | to_review)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("deadline", "id")


class InboxAction(models.TextChoices):
    """What the inbox asks of a person for one referral (``ReferralNode.inboxAction``)."""

    REGISTER_OR_REFER = "REGISTER_OR_REFER", "ثبت عملکرد یا ارجاع"
    CORRECT = "CORRECT", "اصلاح"
    REVIEW = "REVIEW", "بررسی"
    WAIT = "WAIT", "انتظار"


# With the assignee, by the referral's status.
_ASSIGNEE_ACTIONS = {
    S.IN_PROGRESS: InboxAction.REGISTER_OR_REFER,
    S.RETURNED: InboxAction.CORRECT,
    S.DELEGATED: InboxAction.WAIT,
}


def inbox_action(referral: Referral, user) -> InboxAction | None:
    """What the inbox asks of ``user`` for this referral."""
    if referral.referrer_id == user.pk and referral.status == S.SUBMITTED:
        return InboxAction.REVIEW
    if referral.assignee_id != user.pk:
        return None
    return _ASSIGNEE_ACTIONS.get(referral.status)
