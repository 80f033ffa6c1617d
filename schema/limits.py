"""Limits on GraphQL documents: size and tokens before parsing, depth and aliases while validating.

Size and tokens: a document of ~1 MB (50,000 directives on one field) used to take seconds to parse
and validate. Its length in UTF-8 bytes is checked before the parser sees it, and the parser stops
at the token limit (graphql-core's ``max_lexical_tokens``/``max_comments``), so the work a refused
document costs is bounded by the limits, not by the document.

Depth and aliases: strawberry's QueryDepthLimiter and MaxAliasesLimiter make a new rule class each
time they are constructed; as per-request extensions that made every request's rules new, so the
validation cache (keyed by document and rules) could never hit. Here the rules are made once for
each pair of limits and reused.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings
from graphql import DocumentNode, GraphQLSyntaxError, parse
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter

from schema.errors import ErrorCode, ManaError

BYTES_MESSAGE = (
    "سند GraphQL این درخواست {size} بایت است و از سقف {limit} بایت بزرگ‌تر است؛ "
    "آن را کوتاه‌تر کنید یا به چند درخواست بشکنید."
)
TOKENS_MESSAGE = (
    "سند GraphQL این درخواست بیش از {limit} نشانه (token) دارد؛ آن را کوتاه‌تر کنید یا به چند درخواست بشکنید."
)
# graphql-core reports its token and comment limits as syntax errors; only this wording tells them
# apart from a real syntax error (tests/test_document_limits.py fails if a new version changes it).
_PARSER_LIMIT = re.compile(r"contains more than \d+ (tokens|comments)\. Parsing aborted\.$")


def refuse_oversized(query: str) -> None:
    """Refuse a document longer than MAX_DOCUMENT_BYTES before anything reads it."""
    limit = settings.MANA["MAX_DOCUMENT_BYTES"]
    # UTF-8 never has fewer bytes than code points: a huge document is refused without encoding it.
    if len(query) > limit or len(query.encode("utf-8", "surrogatepass")) > limit:
        size = len(query.encode("utf-8", "surrogatepass"))
        raise ManaError(
            ErrorCode.DOCUMENT_TOO_LARGE, BYTES_MESSAGE.format(size=size, limit=limit), size=size, maxBytes=limit
        )


def parse_within_limits(query: str, max_tokens: int) -> DocumentNode:
    """Parse, stopping at ``max_tokens`` tokens (or as many comments) with DOCUMENT_TOO_LARGE."""
    try:
        return parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)
    except GraphQLSyntaxError as error:
        if _PARSER_LIMIT.search(error.message):
            raise ManaError(
                ErrorCode.DOCUMENT_TOO_LARGE, TOKENS_MESSAGE.format(limit=max_tokens), maxTokens=max_tokens
            ) from error
        raise


@cache
def limit_rules(max_depth: int, max_aliases: int) -> tuple:
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )


class DocumentLimits(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(list(limit_rules(settings.MANA["MAX_QUERY_DEPTH"], settings.MANA["MAX_ALIASES"])))
