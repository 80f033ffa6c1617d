"""GraphQL's Prometheus metrics: each operation's time by name and type, errors by code.

* ``mana_graphql_operation_duration_seconds{operation, type}`` — a histogram of queries and
  mutations, over HTTP and WebSocket alike, from the first byte of the document parsed to the
  result (a subscription lives as long as its socket: its duration says nothing, and is not kept).
* ``mana_graphql_errors_total{code}`` — every top-level error answered, by its code
  (``schema.errors.format_error``), and every refusal answered before GraphQL ran
  (``schema.errors.error_response``: CSRF, token, size, database down…). Errors in mutation
  payloads are answers to input, not failures, and are not counted.

Operation names are chosen by clients: a worker labels at most ``MAX_OPERATION_NAMES`` distinct
ones and counts the rest as ``other``, so that a client inventing names cannot fill its memory.
"""

from __future__ import annotations

import re
import threading
import time

from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

from settings.request_log import note

MAX_OPERATION_NAMES = 200
ANONYMOUS = "anonymous"
OTHER = "other"
UNKNOWN = "unknown"
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")

OPERATION_DURATION = Histogram(
    "mana_graphql_operation_duration_seconds",
    "Time to answer a GraphQL query or mutation, by operation name and type.",
    ["operation", "type"],
)
ERRORS = Counter("mana_graphql_errors", "GraphQL errors and refusals answered, by code.", ["code"])

_labelled_names: set[str] = set()
_labelled_names_lock = threading.Lock()


def count_error(code: str) -> None:
    ERRORS.labels(code).inc()


def sensible_name(name: str | None) -> str:
    """A client's operation name as logged: a GraphQL name, or what stands for none."""
    if name is None:
        return ANONYMOUS
    return name if _GRAPHQL_NAME.fullmatch(name) else UNKNOWN


def operation_label(name: str | None) -> str:
    """The name as a label: the first MAX_OPERATION_NAMES distinct names as themselves."""
    name = sensible_name(name)
    if name in (ANONYMOUS, UNKNOWN) or name in _labelled_names:
        return name
    with _labelled_names_lock:
        if len(_labelled_names) >= MAX_OPERATION_NAMES:
            return OTHER
        _labelled_names.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """First among the schema's extensions, so that its time covers theirs (parsing, validation,
    cost) too. Also tells the request log the operation's name and type."""

    def on_operation(self):
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = sensible_name(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # no document (unparsable, refused), or no operation of that name
            kind = UNKNOWN
        request = getattr(context.context, "request", None)
        note(request, operation_name=name, operation_type=kind)
        if kind != "subscription":
            OPERATION_DURATION.labels(operation_label(name), kind).observe(time.perf_counter() - started)
