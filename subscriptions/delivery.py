"""Delivering an event to one subscriber: who they are now, and whether they may see the item.

Runs on the subscriber's socket, for each event that reached one of its groups — never in the
request that made the change. The viewer is read afresh every time (the session's active role,
the user still active, the API token still valid), so switching roles, signing out or having a
permission withdrawn stops the very next event. The check and the fetch of the item are one
scoped query (the same restricting querysets as HTTP: permissions/scope.py).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db.models import Q
from django.utils import timezone

from models.credentials import ApiToken
from models.referrals import Referral
from models.requests import RegistrationRequest
from models.users import User
from permissions import scope
from permissions.viewer import ANONYMOUS, Viewer, viewer_for, viewer_for_token


class SessionEnded(Exception):
    """The socket's session was signed out or has expired: the socket must close."""


def session_store(session_key: str | None):
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def current_viewer(user_id: int | None, session_key: str | None, token_id: int | None) -> Viewer:
    """The socket's viewer as of now (sync: it reads the session and the database).

    A token socket: the token must still be unrevoked, unexpired, its owner active and its role
    still theirs. A session socket: the session must still exist and hold the same person — if not,
    SessionEnded. Otherwise the active role is the one the session names now.
    """
    if token_id is not None:
        token = ApiToken.objects.select_related("user", "role_assignment__organization__province").filter(pk=token_id)
        token = token.first()
        if (
            token is None
            or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= timezone.now())
            or not token.user.is_active
            or token.role_assignment.user_id != token.user_id
        ):
            return ANONYMOUS
        return viewer_for_token(token)
    if user_id is None:
        return ANONYMOUS
    session = session_store(session_key)
    data = session.load()
    if session.session_key is None or str(data.get(SESSION_KEY)) != str(user_id):
        raise SessionEnded()
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise SessionEnded()
    # The session is bound to the password hash: changing the password ends the other sessions.
    if data.get(HASH_SESSION_KEY) and data[HASH_SESSION_KEY] != user.get_session_auth_hash():
        raise SessionEnded()
    return viewer_for(user, data)


def inbox_referral(viewer: Viewer, referral_id: int) -> Referral | None:
    """The referral, if it concerns ``viewer``'s inbox under the active role and they may see it.

    As the inbox reads it (models/inbox.py): as assignee, within the active role's units; as
    referrer, any referral one made; and in every case only with ``view_referral`` on it.
    """
    if not viewer.is_authenticated:
        return None
    user = viewer.user
    concerns = (Q(assignee=user) & scope.organization_scope(viewer, prefix="organization__")) | Q(referrer=user)
    return scope.restrict_referrals(Referral.objects.filter(pk=referral_id).filter(concerns), viewer).first()


def visible_referral(viewer: Viewer, referral_id: int) -> Referral | None:
    """The referral if ``viewer`` may see it (referralChanged): the same rule as ``node(id)``."""
    return scope.restrict_referrals(Referral.objects.filter(pk=referral_id), viewer).first()


def visible_registration_request(viewer: Viewer, request_id: int) -> RegistrationRequest | None:
    return scope.restrict_registration_requests(RegistrationRequest.objects.filter(pk=request_id), viewer).first()

