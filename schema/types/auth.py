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


@strawberry.type
class LogoutPayload:
    errors: list[UserError]
