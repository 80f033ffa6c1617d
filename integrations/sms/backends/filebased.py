"""Development and demos: one JSON line per message appended to ``settings.SMS_FILE_PATH``.

The file holds the texts (codes and passwords) in clear: keep it out of production.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from integrations.sms.backends.base import BaseSmsBackend
from integrations.sms.message import SmsMessage, SmsSendError

_lock = threading.Lock()


class SmsBackend(BaseSmsBackend):
    def __init__(self, file_path: str | Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.file_path = Path(file_path or settings.SMS_FILE_PATH)

    def send(self, message: SmsMessage) -> str:
        line = json.dumps(
            {
                "mobile": message.mobile,
                "purpose": message.purpose,
                "text": message.text,
                "sent_at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        try:
            self.file_path.parent.mkdir(parents=True, exist_ok=True)
            # One write of a whole line under a lock: concurrent senders never interleave lines.
            with _lock, self.file_path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as exc:
            raise SmsSendError(f"could not append to {self.file_path}: {exc.strerror or type(exc).__name__}") from None
        return ""
