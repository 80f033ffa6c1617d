"""createApiToken, revokeApiToken and apiTokens: the viewer's own API tokens."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from strawberry import Info

from models.api_tokens import create_api_token, revoke_api_token
from models.credentials import ApiToken
from models.errors import DomainError
from models.users import RoleAssignment
from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError, UserError
from schema.ids import decode_global_id
from schema.types.api_tokens import (
    CreateApiTokenInput,
    CreateApiTokenPayload,
    RevokeApiTokenInput,
    RevokeApiTokenPayload,
)

NOT_WITH_TOKEN_MESSAGE = "توکن API با توکن API ساخته نمی‌شود: با نام کاربری و رمز عبور وارد شوید و از آنجا توکن بسازید."


def _refusal(error: DomainError | ManaError, field: str | None = None) -> list[UserError]:
    code = error.code if isinstance(error.code, ErrorCode) else ErrorCode(error.code)
    return [UserError(field=getattr(error, "field", None) or field, code=code, message=error.message)]


async def create(info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
    viewer = require_viewer(info)
    if viewer.api_token is not None:
        # A leaked token must not be able to mint more of itself (or outlive its revocation).
        return CreateApiTokenPayload(
            errors=[UserError(field=None, code=ErrorCode.NOT_WITH_TOKEN, message=NOT_WITH_TOKEN_MESSAGE)]
        )
    try:
        _type, role_pk = decode_global_id(input.role, "RoleAssignment")
    except ManaError as error:
        return CreateApiTokenPayload(errors=_refusal(error, "role"))

    def work() -> CreateApiTokenPayload:
        # Only the viewer's own roles are found: another person's role and no role look the same.
        role = RoleAssignment.objects.filter(pk=role_pk, user=viewer.user).first()
        token, secret = create_api_token(viewer.user, role, input.name, input.expires_at)
        return CreateApiTokenPayload(errors=[], token=token, secret=secret)

    try:
        return await sync_to_async(work)()
    except DomainError as error:
        return CreateApiTokenPayload(errors=_refusal(error))


async def revoke(info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenPayload:
    viewer = require_viewer(info)
    try:
        _type, token_pk = decode_global_id(input.token, "ApiToken")
        token = await sync_to_async(revoke_api_token)(viewer.user, token_pk)
    except ManaError as error:
        return RevokeApiTokenPayload(errors=_refusal(error, "token"))
    except DomainError as error:
        return RevokeApiTokenPayload(errors=_refusal(error))
    return RevokeApiTokenPayload(errors=[], token=token)


def api_tokens(info: Info):
    """The viewer's tokens, newest first, revoked and expired ones too (their history)."""
    viewer = require_viewer(info)
    return ApiToken.objects.filter(user_id=viewer.user.pk).order_by("-created_at", "-id")
