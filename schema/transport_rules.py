"""Subscriptions run over WebSocket only.

Over HTTP strawberry would execute a subscription document as a query, and the subscription
field, an async generator, would answer null for a non-null field: a masked INTERNAL_ERROR. The
HTTP view asks ``http_subscription_refusal`` first and answers a coded refusal instead.
"""

from __future__ import annotations

from graphql import GraphQLError, parse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from schema.errors import ErrorCode, ManaError

MESSAGE = "اشتراک (subscription) فقط از راه WebSocket در /graphql/ ممکن است (پروتکل graphql-transport-ws)."


def http_subscription_refusal(query: str | None, operation_name: str | None) -> ExecutionResult | None:
    # Only a document that mentions the keyword is parsed here (most never do); a document that does
    # not parse, or names no operation it has, is left to the ordinary path and its own errors.
    if not query or "subscription" not in query:
        return None
    try:
        operation = get_operation_type(parse(query), operation_name)
    except (GraphQLError, RuntimeError):
        return None
    if operation != OperationType.SUBSCRIPTION:
        return None
    return ExecutionResult(data=None, errors=[ManaError(ErrorCode.BAD_USER_INPUT, MESSAGE)])
