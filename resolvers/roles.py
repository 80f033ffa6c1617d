"""switchRole (تغییر نقش): act in another of one's roles without signing out."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from strawberry import Info

from models.users import RoleAssignment
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY, viewer_from_request
from resolvers.me import _me
from schema.context import changes_session, require_viewer
from schema.errors import ErrorCode, ManaError, UserError
from schema.ids import decode_global_id
from schema.loaders import Loaders
from schema.types.auth import SwitchRoleInput, SwitchRolePayload

NOT_YOURS = "این نقش از نقش‌های شما نیست."


@changes_session
async def switch_role(info: Info, input: SwitchRoleInput) -> SwitchRolePayload:
    # A token's role is fixed: changes_session refuses token callers (NOT_WITH_TOKEN) before this runs.
    viewer = require_viewer(info)
    try:
        _type, pk = decode_global_id(input.role_assignment, "RoleAssignment")
    except ManaError as error:
        return SwitchRolePayload(errors=[UserError(field="roleAssignment", code=error.code, message=error.message)])
    request = info.context.request

    def work() -> SwitchRolePayload:
        if not RoleAssignment.objects.filter(pk=pk, user=viewer.user).exists():
            return SwitchRolePayload(
                errors=[UserError(field="roleAssignment", code=ErrorCode.NOT_FOUND, message=NOT_YOURS)]
            )
        request.session[ACTIVE_ROLE_SESSION_KEY] = pk
        switched = viewer_from_request(request)
        # Everything after this field in the same request (and every later request) sees the new role.
        info.context.viewer = switched
        info.context.loaders = Loaders(switched)
        return SwitchRolePayload(errors=[], me=_me(switched))

    return await sync_to_async(work)()
