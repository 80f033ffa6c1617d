"""The per-request context: the viewer, and the data loaders that batch nested lookups."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry import Info
from strawberry.django.context import StrawberryDjangoContext

from permissions.viewer import Viewer
from schema.errors import unauthenticated
from schema.loaders import Loaders


@dataclass
class ManaContext(StrawberryDjangoContext):
    viewer: Viewer = None  # type: ignore[assignment]
    loaders: Loaders = field(default=None)  # type: ignore[assignment]


def viewer_of(info: Info) -> Viewer:
    return info.context.viewer


def require_viewer(info: Info) -> Viewer:
    """The signed-in viewer, or the UNAUTHENTICATED error every root field gives anonymous callers."""
    viewer = viewer_of(info)
    if not viewer.is_authenticated:
        raise unauthenticated()
    return viewer
