"""Relay cursor connections with a total count and a page-size cap."""

from __future__ import annotations

from typing import Any

import strawberry
from django.conf import settings
from strawberry import Info, relay
from strawberry.relay.utils import from_base64
from strawberry_django.relay import DjangoListConnection

from schema.errors import ErrorCode, ManaError

# A cursor is an offset into the list. No list holds more rows than a GraphQL Int counts; a larger
# offset reached the database (an OFFSET past 64 bits failed on SQLite: INTERNAL_ERROR).
MAX_CURSOR_OFFSET = 2**31 - 1


def check_page_arguments(first: int | None, last: int | None, before: str | None, after: str | None) -> None:
    cap = settings.MANA["MAX_PAGE_SIZE"]
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= cap:
            raise ManaError(
                ErrorCode.PAGE_SIZE_EXCEEDED,
                f"مقدار «{name}» باید بین ۰ و {cap} باشد؛ برای بقیه نتایج از صفحه‌بندی (after) استفاده کنید.",
            )
    for name, cursor in (("before", before), ("after", after)):
        if cursor is None:
            continue
        try:
            prefix, offset = from_base64(cursor)
            valid = prefix == relay.types.PREFIX and 0 <= int(offset) <= MAX_CURSOR_OFFSET
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise ManaError(ErrorCode.INVALID_CURSOR, f"نشانگر صفحه «{name}» معتبر نیست.")


@strawberry.type(name="Connection", description="A page of a list, with cursors and the total count.")
class ManaConnection(DjangoListConnection[relay.NodeType]):
    @classmethod
    def resolve_connection(
        cls,
        nodes,
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ):
        check_page_arguments(first, last, before, after)
        if first is None and last is None:
            first = settings.MANA["DEFAULT_PAGE_SIZE"]
        return super().resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
