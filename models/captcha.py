"""Captcha (کد امنیتی) in front of every anonymous form that costs something: sign-in, one-time
code, forgot-password, registration.

The images and their store come from django-simple-captcha (``captcha`` app, images served at
``/captcha/image/<key>/``). Its own form field reads its settings once at import; Mana checks the
answer itself so that the key is spent atomically (single use, even by two requests racing with
it) and so that ``CAPTCHA_TEST_MODE`` is read when the answer is checked.

The challenge is digits only: a Persian keyboard types them as «۱۲۳», an English one as «123»,
and both are accepted; letters would make people switch keyboard layout for one field.
"""

from __future__ import annotations

import secrets

from captcha.models import CaptchaStore
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from models.text import to_latin_digits

TEST_MODE_ANSWER = "PASSED"
INVALID_MESSAGE = "کد امنیتی نادرست است یا منقضی شده است؛ تصویر تازه‌ای بگیرید و دوباره وارد کنید."


def digits_challenge() -> tuple[str, str]:
    """CAPTCHA_CHALLENGE_FUNCT: (what the image shows, the expected answer)."""
    digits = "".join(secrets.choice("23456789") for _ in range(settings.CAPTCHA_LENGTH))
    return digits, digits


def new_captcha_key() -> str:
    """A new challenge; the image at its URL, the answer checked once by ``spend_captcha``."""
    if secrets.randbelow(50) == 0:
        # Expired challenges are never answered; sweep them now and then rather than by a job.
        CaptchaStore.remove_expired()
    return CaptchaStore.generate_key()


def spend_captcha(key: str | None, answer: str | None) -> bool:
    """Whether ``answer`` solves the challenge ``key``; the challenge is used up either way."""
    key = (key or "").strip()
    answer = to_latin_digits(answer or "").strip().lower()
    store = CaptchaStore.objects.filter(hashkey=key).first() if key else None
    # Deleting is what spends it: of two requests presenting one key, only one deletes the row.
    spent = store is not None and CaptchaStore.objects.filter(pk=store.pk).delete()[0] == 1
    if settings.CAPTCHA_TEST_MODE and answer == TEST_MODE_ANSWER.lower():
        return True
    if not spent or store.expiration <= timezone.now():
        return False
    return constant_time_compare(store.response, answer)
