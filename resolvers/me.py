"""``me`` and ``periods``."""

from __future__ import annotations

import datetime

from asgiref.sync import sync_to_async
from strawberry import Info

from models.geography import Province
from models.periods import EvaluationPeriod
from models.users import RoleAssignment, User
from permissions import scope
from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError
from schema.types.user import Me


def _me(viewer) -> Me:
    if viewer.active_role is None:
        raise ManaError(ErrorCode.FORBIDDEN, "هیچ نقشی برای شما تعریف نشده است؛ با راهبر دستگاه خود تماس بگیرید.")
    user = User.objects.select_related("organization").get(pk=viewer.user.pk)
    roles = list(RoleAssignment.objects.filter(user=user).select_related("organization").order_by("id"))
    subordinates = list(
        user.subordinates.filter(is_active=True).select_related("organization").order_by("last_name", "id")
    )
    active = next(role for role in roles if role.pk == viewer.active_role.pk)
    return Me(user=user, roles=roles, active_role=active, subordinates=subordinates)


async def me(info: Info) -> Me:
    viewer = require_viewer(info)
    return await sync_to_async(_me)(viewer)


def periods(info: Info, on: datetime.date | None = None):
    viewer = require_viewer(info)
    queryset = EvaluationPeriod.objects.order_by("-start_date")
    if on is not None:
        queryset = queryset.filter(start_date__lte=on, end_date__gte=on)
    return scope.restrict_public(queryset, viewer)


def provinces(info: Info):
    """The 31 provinces, for every signed-in person (a provincial breakdown names them)."""
    require_viewer(info)
    return Province.objects.order_by("code")
