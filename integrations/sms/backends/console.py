"""Development: each message as one line on stdout (text included — never use in production)."""

from __future__ import annotations

import sys
import threading

from integrations.sms.backends.base import BaseSmsBackend
from integrations.sms.message import SmsMessage


class SmsBackend(BaseSmsBackend):
    def __init__(self, stream=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        text = " ".join(message.text.split())
        with self._lock:
            self.stream.write(f"SMS to {message.mobile} [{message.purpose}]: {text}\n")
            self.stream.flush()
        return ""
