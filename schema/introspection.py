"""Introspection for signed-in clients; anonymous callers get it only where a setting opens it.

Integrators and code generators need the schema, so it is served to every signed-in client (a
session or, later, an API token). In production an anonymous caller is refused with
UNAUTHENTICATED (``MANA_INTROSPECTION=public`` opens it); in development it stays open, for
GraphiQL. ``__typename`` is not introspection and is always answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import FieldNode, GraphQLError, ValidationRule, get_named_type, is_introspection_type
from strawberry.extensions import SchemaExtension

from schema.errors import ErrorCode

MESSAGE = "دیدن طرح (schema) این API نیاز به ورود دارد؛ نخست وارد شوید."


class SignedInIntrospectionRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        named = get_named_type(self.context.get_type())
        if named is not None and is_introspection_type(named):
            self.report_error(GraphQLError(MESSAGE, node, extensions={"code": ErrorCode.UNAUTHENTICATED.value}))
            return self.BREAK
        return None


class IntrospectionForSignedIn(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        viewer = getattr(context.context, "viewer", None)
        anonymous = viewer is None or not viewer.is_authenticated
        if anonymous and settings.MANA["INTROSPECTION"] != "public":
            context.validation_rules = (*context.validation_rules, SignedInIntrospectionRule)
        yield
