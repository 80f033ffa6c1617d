"""Sending SMS, modelled on Django's e-mail backends.

    from integrations.sms import send_sms
    send_sms(mobile="09121234567", text="…", purpose="otp")

``send_sms`` writes an :class:`~integrations.models.OutgoingSms` row and, once the caller's
transaction commits, enqueues a background task with the row's id only (a rolled-back request sends
nothing). The task sends through the backend named by ``settings.SMS_BACKEND``, retries failures up
to ``SMS_MAX_ATTEMPTS`` times, and on success marks the row SENT and empties its text
(integrations/sms/delivery.py).

Backends (``SMS_BACKEND``, a dotted path):

* ``integrations.sms.backends.console.SmsBackend``: one line per message on stdout (development);
* ``integrations.sms.backends.locmem.SmsBackend``: appends to :data:`outbox` (tests);
* ``integrations.sms.backends.filebased.SmsBackend``: one JSON line per message in ``SMS_FILE_PATH``;
* ``integrations.sms.backends.kavenegar.SmsBackend``: Kavenegar's REST gateway.

A backend subclasses :class:`~integrations.sms.backends.base.BaseSmsBackend` and implements
``send(message) -> provider message id``, raising :class:`SmsSendError` when the message was not
accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.sms.message import SmsMessage, SmsSendError

if TYPE_CHECKING:
    from integrations.models import OutgoingSms
    from integrations.sms.backends.base import BaseSmsBackend

__all__ = ["SmsMessage", "SmsSendError", "get_backend", "outbox", "send_sms"]

# What the locmem backend "sent", like django.core.mail.outbox (tests empty it: tests/sms_fixtures.py).
outbox: list[SmsMessage] = []


def send_sms(*, mobile: str, text: str, purpose: str) -> OutgoingSms:
    """Queue ``text`` for ``mobile``; sent after the current transaction commits. Returns the outbox row.

    ``purpose`` is a short slug (otp, password, registration…) shown in the admin console and logs,
    which never show the text. Raises ValueError for a malformed mobile, purpose or empty text:
    those are programming errors, not a person's mistake.
    """
    # Imported here: this package is imported by modules of the mana app before models are ready.
    from integrations.sms.delivery import queue_sms

    return queue_sms(mobile=mobile, text=text, purpose=purpose)


def get_backend(path: str | None = None, **kwargs) -> BaseSmsBackend:
    """An instance of the backend ``path`` (default: ``settings.SMS_BACKEND``)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(path or settings.SMS_BACKEND)(**kwargs)
