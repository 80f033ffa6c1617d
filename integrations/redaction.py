"""Keeping secrets out of logs and error messages.

SMS texts carry one-time codes and passwords, and the Kavenegar API key travels in the URL path,
where requests' exceptions and urllib3's debug lines would repeat it. Everything that may end up in
a log line, an exception or the admin console passes through here first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "***"


def mask_mobile(mobile: str) -> str:
    """0912***4567: enough to tell messages apart in a log, not enough to call anyone."""
    if len(mobile) < 8:
        return REDACTED
    return f"{mobile[:4]}{REDACTED}{mobile[-4:]}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced, also in the percent-encoded form a URL gives it."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, REDACTED)
    return text


def describe_exception(exc: BaseException, secrets: Iterable[str], limit: int = 300) -> str:
    """A one-line, scrubbed description of an exception, short enough for a log line or a column."""
    detail = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    text = scrub(text, list(secrets))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SecretScrubbingFilter(logging.Filter):
    """Rewrites a record so that none of the registered secrets appears in its message.

    Attached to urllib3's loggers: at DEBUG they log every request line, and the Kavenegar URL
    carries the API key in its path.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            scrubbed = scrub(message, self.secrets)
            if scrubbed != message:
                record.msg, record.args = scrubbed, ()
        return True


_url_filter = SecretScrubbingFilter()
_FILTERED_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")


def protect_in_http_logs(secret: str) -> None:
    """Keeps ``secret`` out of every line the HTTP libraries log (idempotent)."""
    if not secret:
        return
    _url_filter.secrets.add(secret)
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _url_filter not in logger.filters:
            logger.addFilter(_url_filter)
