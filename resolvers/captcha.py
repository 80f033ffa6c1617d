"""Query.captcha: a new challenge and the URL of its image."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse
from strawberry import Info

from models.captcha import new_captcha_key
from schema.public_urls import public_url
from schema.types.auth import Captcha


async def captcha(info: Info) -> Captcha:
    key = await sync_to_async(new_captcha_key)()
    # Absolute, so that a client on another host can use it as it is.
    url = public_url(info.context.request, reverse("captcha-image", kwargs={"key": key}))
    return Captcha(key=key, image_url=url, expires_in=settings.CAPTCHA_TIMEOUT * 60)
