"""The ``organizations`` root connection: the viewer's scope, searched and filtered."""

from __future__ import annotations

from django.db.models import QuerySet
from strawberry import Info

from models.organization import Organization
from models.text import normalize_for_search
from schema.context import require_viewer
from schema.ids import decode_global_id


def organizations(
    info: Info,
    search: str | None = None,
    kind: str | None = None,
    parent: str | None = None,
    province: str | None = None,
) -> QuerySet[Organization]:
    require_viewer(info)
    # Scope comes from OrganizationNode.get_queryset, which strawberry-django applies to the result.
    queryset = Organization.objects.all()
    if search:
        # Names are stored folded (ي→ی, ك→ک, digits to ASCII); fold the query the same way.
        for word in normalize_for_search(search).split():
            queryset = queryset.filter(search_name__contains=word)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if parent is not None:
        queryset = queryset.filter(parent_id=decode_global_id(parent, "Organization")[1])
    if province is not None:
        queryset = queryset.filter(province_id=decode_global_id(province, "Province")[1])
    return queryset.order_by("tree_id", "lft")
