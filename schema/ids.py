"""Relay global ids: opaque base64 of «TypeName:pk», decoded with specific errors."""

from __future__ import annotations

from strawberry import relay
from strawberry.relay.utils import from_base64

from schema.errors import ErrorCode, ManaError

_NAMES = {
    "Organization": "دستگاه",
    "EvaluationPeriod": "دوره ارزیابی",
    "Province": "استان",
    "Indicator": "شاخص",
    "Assignment": "ابلاغ",
    "User": "کاربر",
    "RoleAssignment": "نقش",
    "Referral": "ارجاع",
    "Performance": "عملکرد",
    "Evidence": "مستند",
    "ApiToken": "توکن API",
    "ImportJob": "ورود از اکسل",
}


# The largest primary key a column holds (BigAutoField, a signed 64-bit integer): a larger one
# overflowed the database driver (INTERNAL_ERROR) instead of finding nothing.
MAX_PK = 2**63 - 1


def decode_global_id(value: str, expected_type: str | None = None) -> tuple[str, int]:
    """(type name, integer pk) of a global id; INVALID_ID when malformed or of another type."""
    try:
        type_name, raw_pk = from_base64(str(value))
        pk = int(raw_pk)
        if not 0 < pk <= MAX_PK:
            raise ValueError(raw_pk)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ManaError(ErrorCode.INVALID_ID, f"شناسه «{value}» معتبر نیست.")
    if expected_type is not None and type_name != expected_type:
        raise ManaError(
            ErrorCode.INVALID_ID,
            f"شناسه «{value}» از نوع {_NAMES.get(expected_type, expected_type)} نیست.",
        )
    return type_name, pk


def encode_global_id(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))
