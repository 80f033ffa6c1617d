"""Tests: messages are appended to ``integrations.sms.outbox`` (tests/sms_fixtures.py empties it)."""

from __future__ import annotations

from integrations import sms
from integrations.sms.backends.base import BaseSmsBackend
from integrations.sms.message import SmsMessage


class SmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        sms.outbox.append(message)
        return f"locmem-{len(sms.outbox)}"
