"""Input no column can hold is refused before anything runs.

A NUL character (U+0000) in any string — a variable or a literal of the document, at any depth of
an input object or list — cannot be stored by PostgreSQL (and SQLite truncates at it): it used to
reach the database and come back as INTERNAL_ERROR. It is refused here, with BAD_USER_INPUT, the
name of what carried it and a Persian message, on every transport, before execution starts.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from schema.errors import ErrorCode

NUL = "\x00"
ESCAPE = "\\u"
NUL_MESSAGE = "متن «{name}» نویسهٔ پوچ (NUL) دارد که ذخیره‌شدنی نیست؛ آن را حذف کنید."


def _carrying_nul(value: object, name: str) -> str | None:
    """The name (dotted path) of the first string holding a NUL, or None."""
    if isinstance(value, str):
        return name if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _carrying_nul(item, f"{name}.{key}")
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _carrying_nul(item, f"{name}[{index}]")
            if found is not None:
                return found
    return None


class _LiteralFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.argument: str | None = None
        self.found: str | None = None

    def enter_argument(self, node, *_args):
        self.argument = node.name.value

    def enter_string_value(self, node: StringValueNode, *_args):
        if NUL in node.value:
            self.found = self.argument or "document"
            return self.BREAK
        return None


class RefuseUnstorableText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        # Before the hook yields: strawberry checks the pre-execution errors inside the validation
        # step. Listed after ValidationCache, whose errors (if any) are already there to keep.
        context = self.execution_context
        name = _carrying_nul(context.variables or {}, "variables")
        # A literal holds a NUL either as the raw character or through a \u escape: walk the
        # document only when its text has one of them (most requests' documents have neither).
        query = context.query or ""
        if name is None and context.graphql_document is not None and (NUL in query or ESCAPE in query):
            finder = _LiteralFinder()
            visit(context.graphql_document, finder)
            name = finder.found
        if name is not None:
            error = GraphQLError(
                NUL_MESSAGE.format(name=name), extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": name}
            )
            context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield
