from __future__ import annotations

from collections.abc import Iterable

from integrations.sms.message import SmsMessage


class BaseSmsBackend:
    """Sends one message. Subclasses implement :meth:`send`."""

    def __init__(self, **kwargs) -> None:
        pass

    def send(self, message: SmsMessage) -> str:
        """Hands ``message`` to the gateway; returns its message id ("" if it gives none).

        Raises :class:`~integrations.sms.SmsSendError` when the gateway did not accept it.
        """
        raise NotImplementedError

    @property
    def secrets(self) -> Iterable[str]:
        """Strings (API keys…) that must be scrubbed from any error this backend causes."""
        return ()
