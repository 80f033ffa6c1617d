"""Parsing and validating documents without holding up the event loop, each document once.

Every request of a worker shares one event loop: a document that takes long to parse or validate,
run there, made every other request of the worker wait for it. A document seen for the first time
is therefore parsed and validated in a worker thread (the loop serves other requests meanwhile);
the result is kept, so the same document sent again costs a lookup, without a thread hop. This
replaces strawberry's ParserCache and ValidationCache, which run on the loop and cannot tell a hit
from a miss before computing.

Size and token limits (schema/limits.py) are applied before the parser runs. A refused or
unparsable document is raised from the parse hook and answered by ManaSchema as a pre-execution
error, on HTTP and WebSocket alike.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.conf import settings
from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.limits import parse_within_limits, refuse_oversized

# A parsed document holds about 100-250 times its text in memory (every token is kept for error
# locations). Real clients' documents are a few KB: longer ones are parsed each time they come
# (in a thread) rather than kept, and the texts kept are bounded in total as well as in number
# (DOCUMENT_CACHE_SIZE), so that distinct large documents cannot fill a worker's memory.
LARGEST_CACHED_CHARS = 16 * 1024
CACHED_CHARS_BUDGET = 256 * 1024


@dataclass
class Known:
    """A parsed document and its validation errors under each set of rules it met."""

    document: DocumentNode
    errors: dict[tuple, list[GraphQLError]] = field(default_factory=dict)


class DocumentCache:
    """Least recently used documents by text and token limit; a lookup never computes."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int], Known] = OrderedDict()
        self._chars = 0
        # The test client runs each request's event loop in a thread of its own.
        self._lock = threading.Lock()
        self.parse_hits = self.parse_misses = self.validation_hits = self.validation_misses = 0

    def get(self, key: tuple[str, int]) -> Known | None:
        with self._lock:
            known = self._items.get(key)
            if known is None:
                self.parse_misses += 1
            else:
                self.parse_hits += 1
                self._items.move_to_end(key)
            return known

    def put(self, key: tuple[str, int], known: Known) -> None:
        size = len(key[0])
        if size > LARGEST_CACHED_CHARS:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = known
            self._chars += size
            while len(self._items) > settings.MANA["DOCUMENT_CACHE_SIZE"] or self._chars > CACHED_CHARS_BUDGET:
                (text, _), _ = self._items.popitem(last=False)
                self._chars -= len(text)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0


documents = DocumentCache()


class ParseAndValidateOffTheLoop(SchemaExtension):
    def __init__(self) -> None:
        self.known: Known | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            refuse_oversized(context.query)
            key = (context.query, settings.MANA["MAX_DOCUMENT_TOKENS"])
            known = documents.get(key)
            if known is None:
                known = Known(await asyncio.to_thread(parse_within_limits, *key))
                documents.put(key, known)
            self.known = known
            context.graphql_document = known.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            # The rules differ between anonymous and signed-in callers (schema/introspection.py).
            rules = context.validation_rules
            known = self.known if self.known is not None else Known(context.graphql_document)
            errors = known.errors.get(rules)
            if errors is None:
                documents.validation_misses += 1
                errors = await asyncio.to_thread(validate_document, context.schema._schema, known.document, rules)
                known.errors[rules] = errors
            else:
                documents.validation_hits += 1
            context.pre_execution_errors = list(errors)
        yield
