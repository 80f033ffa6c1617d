"""At most one ``login`` per operation: a document is not a way to try thirty passwords at once.

Aliases used to let one request try 30 passwords. Only the selected operation of a document runs,
so each mutation operation may hold at most one ``login`` (counted by response key, through inline
fragments and fragment spreads; the same key twice is merged by GraphQL and runs once). A document
with more is refused while it is validated, before anything runs or is counted, with
ONE_LOGIN_PER_REQUEST. As a validation rule it is cached with the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules

from schema.errors import ErrorCode

LOGIN_FIELD = "login"
MESSAGE = "در هر درخواست تنها یک «login» پذیرفته است؛ هر رمز عبور را در درخواستی جدا بفرستید."


class OneLoginPerOperation(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any):
        if node.operation == OperationType.MUTATION:
            logins = list(self._logins(node.selection_set, set()))
            if len({(field.alias or field.name).value for field in logins}) > 1:
                self.report_error(
                    GraphQLError(MESSAGE, logins, extensions={"code": ErrorCode.ONE_LOGIN_PER_REQUEST.value})
                )
        # login is a root field: nothing below the operation's own selections can hold one.
        return self.SKIP

    def enter_fragment_definition(self, *_args: Any):
        return self.SKIP  # read through the spreads of each operation instead

    def _logins(self, selection_set: SelectionSetNode, seen: set[str]) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == LOGIN_FIELD:
                    yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self._logins(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    yield from self._logins(fragment.selection_set, seen)


class OneLoginPerRequest(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([OneLoginPerOperation])
