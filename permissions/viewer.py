"""The viewer of a request: the signed-in user and the role they are acting in."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from models.credentials import ApiToken
from models.users import RoleAssignment, User

ACTIVE_ROLE_SESSION_KEY = "mana_active_role"


@dataclass(frozen=True)
class Viewer:
    user: User | None
    active_role: RoleAssignment | None
    # The API token the request was authenticated with (models/api_tokens.py); None for a session.
    # A token acts in exactly its own role: active_role is the token's, whatever the session says.
    api_token: ApiToken | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None


ANONYMOUS = Viewer(user=None, active_role=None)


def active_role_for(user: User, preferred_id: int | None) -> RoleAssignment | None:
    """The role kept in the session if the user still holds it, else their first role."""
    roles = RoleAssignment.objects.select_related("organization", "organization__province").filter(user=user)
    if preferred_id is not None:
        role = roles.filter(pk=preferred_id).first()
        if role is not None:
            return role
    return roles.order_by("id").first()


def viewer_for(user, session) -> Viewer:
    """Runs once per request or WebSocket connection (sync: it touches the session and the database)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    role = active_role_for(user, session.get(ACTIVE_ROLE_SESSION_KEY) if session is not None else None)
    return Viewer(user=user, active_role=role)


def viewer_from_request(request: HttpRequest) -> Viewer:
    return viewer_for(request.user, request.session)


def viewer_for_token(token: ApiToken) -> Viewer:
    """The viewer of a request authenticated by ``token`` (already checked: models.api_tokens)."""
    return Viewer(user=token.user, active_role=token.role_assignment, api_token=token)
