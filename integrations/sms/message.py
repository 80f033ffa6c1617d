"""What a backend is given to send, and what it raises when it could not."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.redaction import mask_mobile


@dataclass(frozen=True)
class SmsMessage:
    mobile: str
    text: str
    purpose: str

    def __repr__(self) -> str:
        # A message ends up in tracebacks and debug output; its text must not.
        return f"SmsMessage(mobile={mask_mobile(self.mobile)!r}, purpose={self.purpose!r})"


class SmsSendError(Exception):
    """The gateway did not accept the message. Its text never contains the message or an API key.

    ``retryable`` is False when sending the same message again cannot succeed (e.g. the gateway
    says the number does not exist): the message is marked FAILED at once.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
