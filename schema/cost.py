"""The cost of a document, estimated before anything runs, and the limit on it.

Depth and alias limits do not bound the work of a document: three nested connections of
``first: 100`` ask for a million rows in fifteen lines. The cost estimates the fields the answer
can hold, from the document and its variables alone:

* every field costs 1;
* a connection (a field with ``first``/``last``) multiplies what is selected under it by its page
  size: the larger of ``first`` and ``last``, the default page size when neither is given, never
  more than the maximum page size (a larger one is refused on its own, PAGE_SIZE_EXCEEDED);
* ``nodes(ids:)`` multiplies by the number of ids;
* fragments and inline fragments count as if written out (all of them: an upper bound), each named
  fragment computed once; fields left out by ``@skip``/``@include`` do not count.

A document over MAX_QUERY_COST is refused before execution with QUERY_TOO_COSTLY and the cost and
the limit in the error's ``extensions``. A client that sends ``"extensions": {"cost": true}`` with
its request gets ``{"cost": N, "maxCost": M}`` in the response's ``extensions``. No library does
this for graphql-core 3.3 and strawberry 0.341 (strawberry has no cost extension).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from schema.errors import ErrorCode, ManaError

MESSAGE = (
    "هزینهٔ برآوردشدهٔ این درخواست {cost} است و از سقف {limit} بیشتر است؛ "
    "اندازهٔ صفحه‌ها (first/last) یا اتصال‌های تودرتو را کمتر کنید یا درخواست را چند بخش کنید."
)
PAGE_SIZE_ARGUMENTS = ("first", "last")


class _Estimate:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, int] = {}
        self.default_page_size = settings.MANA["DEFAULT_PAGE_SIZE"]
        self.max_page_size = settings.MANA["MAX_PAGE_SIZE"]

    def selections(self, parent: GraphQLCompositeType, selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(scope, selection.selection_set)  # type: ignore[arg-type]
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> int:
        # Validation has refused unknown and cyclic fragments; each is computed once, so fragments
        # that spread each other many times over cost time in their number, not their expansion.
        if name not in self.fragment_costs:
            fragment = self.fragments[name]
            scope = self.schema.get_type(fragment.type_condition.name.value)
            self.fragment_costs[name] = self.selections(scope, fragment.selection_set)  # type: ignore[arg-type]
        return self.fragment_costs[name]

    def _field(self, parent: GraphQLCompositeType, node: FieldNode) -> int:
        definition = self.schema.get_field(parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        child = get_named_type(definition.type)
        return 1 + self._items(definition, node) * self.selections(child, node.selection_set)  # type: ignore[arg-type]

    def _items(self, definition: GraphQLField, node: FieldNode) -> int:
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if any(name in definition.args for name in PAGE_SIZE_ARGUMENTS):
            sizes = [self._value(arguments[name]) for name in PAGE_SIZE_ARGUMENTS if name in arguments]
            sizes = [size for size in sizes if isinstance(size, int)]
            if not sizes:
                return self.default_page_size
            return max(0, min(max(sizes), self.max_page_size))
        if "ids" in definition.args and "ids" in arguments:
            ids = self._value(arguments["ids"])
            return len(ids) if isinstance(ids, list) else 1
        return 1

    def _included(self, selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in {"skip", "include"}:
                continue
            condition = next((arg.value for arg in directive.arguments or () if arg.name.value == "if"), None)
            value = self._value(condition) if condition is not None else None
            if (name == "skip" and value is True) or (name == "include" and value is False):
                return False
        return True

    def _value(self, node) -> Any:
        # The raw value is enough here (an int, a bool, a list's length); the execution coerces
        # and checks it again, and refuses what is wrong with its own code.
        try:
            return value_from_ast_untyped(node, self.variables)
        except (TypeError, ValueError):
            return None


def _variables(operation: OperationDefinitionNode, given: dict[str, Any] | None) -> dict[str, Any]:
    """The operation's variables as the request gives them, with the document's defaults."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = value_from_ast_untyped(definition.default_value)
    values.update(given or {})
    return values


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict | None
) -> int:
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0
    estimate = _Estimate(schema, document, _variables(operation, variables))
    return estimate.selections(root, operation.selection_set)


class QueryCostLimit(SchemaExtension):
    """Refuses a valid document whose cost is over MAX_QUERY_COST; listed after validation."""

    def __init__(self) -> None:
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Only a valid document has a cost: fragments are known and acyclic, fields exist.
        if not context.pre_execution_errors and context.graphql_document is not None:
            operation = get_operation_ast(context.graphql_document, context.operation_name)
            if operation is not None:
                self.cost = operation_cost(
                    context.schema._schema, context.graphql_document, operation, context.variables
                )
                limit = settings.MANA["MAX_QUERY_COST"]
                if self.cost > limit:
                    context.pre_execution_errors = [
                        ManaError(
                            ErrorCode.QUERY_TOO_COSTLY,
                            MESSAGE.format(cost=self.cost, limit=limit),
                            cost=self.cost,
                            maxCost=limit,
                        )
                    ]
        yield

    def get_results(self) -> dict[str, Any]:
        asked = self.execution_context.operation_extensions
        requested = isinstance(asked, dict) and asked.get("cost") is True
        if requested and self.cost is not None:
            return {"cost": self.cost, "maxCost": settings.MANA["MAX_QUERY_COST"]}
        return {}
