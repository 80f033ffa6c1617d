"""What every Mana node type shares: its queryset comes through the viewer's scope."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from strawberry import Info

from permissions.viewer import Viewer
from schema.context import viewer_of

Restriction = Callable[[QuerySet, Viewer], QuerySet]


def scoped(restriction: Restriction):
    """A ``get_queryset`` classmethod for a strawberry-django type.

    strawberry-django calls it for root connections, ``node``/``nodes`` and (through the
    optimizer's prefetches) nested edges, so all of them see the same rows.
    """

    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return restriction(queryset, viewer_of(info))

    return classmethod(get_queryset)
