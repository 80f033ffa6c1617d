"""Kavenegar (کاوه‌نگار), an Iranian SMS gateway, over its REST API.

``POST {SMS_KAVENEGAR_BASE_URL}/{API_KEY}/sms/send.json`` with form fields ``receptor``,
``message`` and optionally ``sender`` (the line number, ``SMS_KAVENEGAR_SENDER``). It answers JSON
``{"return": {"status": 200, "message": "…"}, "entries": [{"messageid": …, …}]}``; any other
``return.status`` (also sent as the HTTP status) is a refusal.

The API key is part of the URL path, so it would appear in requests' exception texts and urllib3's
debug log lines: every error is rebuilt from scrubbed parts (never chained to the original), and
urllib3's loggers get a filter that scrubs the key (integrations/redaction.py). Messages are sent
once per call (no HTTP-level retry): retrying is the delivery task's job, with its own delays.

Kavenegar's templated one-time-code endpoint (``/verify/lookup.json``) is not used: Mana composes
its texts itself, and ``send_sms`` takes a finished text.
"""

from __future__ import annotations

from urllib.parse import quote

import requests
from django.conf import settings

from integrations.redaction import describe_exception, protect_in_http_logs, scrub
from integrations.sms.backends.base import BaseSmsBackend
from integrations.sms.message import SmsMessage, SmsSendError

# return.status values after which sending the same message again cannot succeed.
_PERMANENT = {411}  # the receptor (mobile number) is not valid


class SmsBackend(BaseSmsBackend):
    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        sender: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.api_key = settings.SMS_KAVENEGAR_API_KEY if api_key is None else api_key
        self.base_url = (base_url or settings.SMS_KAVENEGAR_BASE_URL).rstrip("/")
        self.sender = settings.SMS_KAVENEGAR_SENDER if sender is None else sender
        self.timeout = (
            settings.SMS_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout,
            settings.SMS_READ_TIMEOUT if read_timeout is None else read_timeout,
        )
        protect_in_http_logs(self.api_key)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)

    def send(self, message: SmsMessage) -> str:
        if not self.api_key:
            raise SmsSendError("SMS_KAVENEGAR_API_KEY is not set")
        url = f"{self.base_url}/{quote(self.api_key, safe='')}/sms/send.json"
        data = {"receptor": message.mobile, "message": message.text}
        if self.sender:
            data["sender"] = self.sender
        try:
            with requests.Session() as session:
                # No redirects: a key-bearing request goes to the configured host or nowhere.
                response = session.post(
                    url, data=data, timeout=self.timeout, headers={"Accept": "application/json"}, allow_redirects=False
                )
        except requests.Timeout:
            # `from None` everywhere: the original exception's text holds the URL, hence the key.
            raise SmsSendError(
                f"Kavenegar did not answer in time (connect {self.timeout[0]} s, read {self.timeout[1]} s)"
            ) from None
        except requests.RequestException as exc:
            raise SmsSendError(f"could not reach Kavenegar: {describe_exception(exc, self.secrets)}") from None
        return self._message_id(response, message)

    def _message_id(self, response: requests.Response, message: SmsMessage) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        result = body.get("return") if isinstance(body, dict) else None
        status = _as_int(result.get("status")) if isinstance(result, dict) else None
        if status is None:
            raise SmsSendError(f"Kavenegar answered HTTP {response.status_code} without its JSON status")
        if status != 200:
            said = scrub(" ".join(str(result.get("message", "")).split()), [*self.secrets, message.text])[:200]
            raise SmsSendError(
                f"Kavenegar refused the message: status {status} ({said})", retryable=status not in _PERMANENT
            )
        entries = body.get("entries")
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            return str(entries[0].get("messageid", ""))[:64]
        return ""


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
