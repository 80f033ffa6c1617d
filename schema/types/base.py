"""What every Mana node type shares: its queryset comes through the viewer's scope."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from strawberry import Info

from permissions.viewer import Viewer
from schema.context import viewer_of

Restriction = Callable[[QuerySet, Viewer], QuerySet]


def scoped(restriction: Restriction, ordering: tuple[str, ...] = ()):
    """A ``get_queryset`` classmethod for a strawberry-django type.

    strawberry-django calls it for root connections, ``node``/``nodes`` and (through the
    optimizer's prefetches) nested edges, so all of them see the same rows. ``ordering`` applies
    where the queryset has none (strawberry-django would otherwise fall back to the primary key,
    so a nested list's order would depend on the path that fetched it).
    """

    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        queryset = restriction(queryset, viewer_of(info))
        if ordering and not queryset.ordered:
            queryset = queryset.order_by(*ordering)
        return queryset

    return classmethod(get_queryset)


def computed(resolver):
    """Mark a resolver that only computes from fields already on the row (declared in its
    ``only=`` hint): strawberry-django then calls it directly instead of hopping to a worker thread
    as it must for anything that may query. In a list of a hundred rows that hop, not SQL, was
    the larger part of the response time (bench/tree_and_inbox.py)."""
    resolver.is_async_safe = True
    return resolver
