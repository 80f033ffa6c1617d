"""``sinaSignIn``: where a sign-in page sends a main leader to sign in through Sina."""

from __future__ import annotations

from django.urls import reverse
from strawberry import Info

from integrations.sina import sina_available
from schema.public_urls import absolute_url
from schema.types.sina import SinaSignIn


def sina_sign_in(info: Info) -> SinaSignIn | None:
    """Null while Sina is off: the sign-in page then offers only the password. Anonymous callers may ask."""
    if not sina_available():
        return None
    # None over a WebSocket whose handshake named a host outside ALLOWED_HOSTS: nowhere to send anyone.
    url = absolute_url(info.context.request, reverse("sina-start"))
    return None if url is None else SinaSignIn(url=url)
