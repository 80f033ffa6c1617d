"""The ``inbox`` root connection (کارپوشه)."""

from __future__ import annotations

from django.db.models import QuerySet
from strawberry import Info

from models.inbox import inbox as inbox_of
from models.referrals import Referral
from permissions.scope import organization_scope
from schema.context import require_viewer
from schema.ids import decode_global_id


def inbox(info: Info, period: str, status: str | None = None) -> QuerySet[Referral]:
    viewer = require_viewer(info)
    _, period_pk = decode_global_id(period, "EvaluationPeriod")
    # Scope: ReferralNode.get_queryset (the viewer's referral permissions) is applied on top.
    return inbox_of(
        user=viewer.user,
        assigned_in_scope=organization_scope(viewer, prefix="organization__"),
        period_id=period_pk,
        status=status,
    )
