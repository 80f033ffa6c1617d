"""Limits on GraphQL documents (depth, aliases), as validation rules built once per setting.

strawberry's QueryDepthLimiter and MaxAliasesLimiter make a new rule class each time they are
constructed; as per-request extensions that made every request's rules new, so the validation
cache (keyed by document and rules) could never hit. Here the rules are made once for each pair
of limits and reused.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter


@cache
def limit_rules(max_depth: int, max_aliases: int) -> tuple:
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )


class DocumentLimits(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(list(limit_rules(settings.MANA["MAX_QUERY_DEPTH"], settings.MANA["MAX_ALIASES"])))
