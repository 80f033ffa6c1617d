"""The domain's refusals: a code clients can branch on and a Persian message people can read."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class Conflict(DomainError):
    """Someone else changed the object first; nothing was written."""

    def __init__(self, message: str = "این مورد هم‌زمان توسط کاربر دیگری تغییر کرده است؛ صفحه را تازه کنید.") -> None:
        super().__init__("CONFLICT", message)
