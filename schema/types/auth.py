import strawberry

from schema.errors import UserError
from schema.types.user import Me


@strawberry.input
class LoginInput:
    national_code: str = strawberry.field(description="کد ملی، ده رقم (ارقام فارسی هم پذیرفته است)")
    password: str


@strawberry.type
class LoginPayload:
    errors: list[UserError]
    me: Me | None = None
    retry_after: int | None = strawberry.field(
        default=None, description="With LOGIN_LOCKED_OUT: seconds until a sign-in is tried again (as HTTP Retry-After)."
    )


@strawberry.type
class LogoutPayload:
    errors: list[UserError]
