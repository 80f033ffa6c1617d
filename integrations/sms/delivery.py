"""Queueing and delivering SMS: the outbox row, the background task, retries.

* :func:`queue_sms` (``send_sms``) writes a PENDING row and enqueues the delivery task with the
  row's id only, in ``transaction.on_commit``: a request that rolls back sends nothing, and the
  text never enters the task queue (a database table of its own, with its own admin page).
* :func:`deliver` (the task's body) sends through ``settings.SMS_BACKEND``. Success: SENT, text
  emptied. Failure: logged at WARNING and retried, up to ``SMS_MAX_ATTEMPTS`` attempts in all; with
  a task backend that can defer (the database queue) each retry is a new task due
  ``SMS_RETRY_DELAY`` × 2ⁿ seconds later, with the immediate backend it follows at once in the
  same task. The last failure is logged at ERROR and the row marked FAILED, text kept, so that
  ``manage.py retry_failed_sms`` can send it again.
* Every attempt first claims the row (attempts n → n+1 where it is still n), so a message enqueued
  twice (a retry command run twice, two workers) is still sent once per claimed attempt.

Log lines carry the row id, the masked mobile (0912***4567), the purpose and the state, never the
text; errors are scrubbed of the text and of the backend's secrets.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.models import OutgoingSms, SmsStatus
from integrations.redaction import describe_exception, mask_mobile
from integrations.sms import get_backend
from integrations.sms.message import SmsMessage, SmsSendError
from models.identity import normalize_mobile, validate_mobile

logger = logging.getLogger("integrations.sms")

_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# However many attempts, a retry never waits longer than this.
_MAX_DELAY = datetime.timedelta(hours=1)


def queue_sms(*, mobile: str, text: str, purpose: str) -> OutgoingSms:
    number = normalize_mobile(mobile)
    try:
        validate_mobile(number)
    except ValidationError:
        raise ValueError(f"send_sms: not a mobile number: {mask_mobile(number)}") from None
    if not _PURPOSE.match(purpose):
        raise ValueError(f"send_sms: purpose must be a short lowercase slug, not {purpose!r}")
    if not text.strip():
        raise ValueError("send_sms: empty text")
    row = OutgoingSms.objects.create(mobile=number, purpose=purpose, text=text)
    logger.info("SMS #%s to %s (%s): queued", row.pk, mask_mobile(number), purpose)
    transaction.on_commit(functools.partial(_enqueue_after_commit, row.pk))
    return row


def enqueue(outgoing_id: int, *, run_after: datetime.datetime | None = None) -> None:
    """Puts the delivery of row ``outgoing_id`` on the task queue (now, or not before ``run_after``)."""
    from integrations.sms.tasks import deliver_sms

    task = deliver_sms.using(run_after=run_after) if run_after is not None else deliver_sms
    task.enqueue(outgoing_id)


def _enqueue_after_commit(outgoing_id: int) -> None:
    try:
        enqueue(outgoing_id)
    except Exception as exc:
        # The request has committed: failing it now would not unsend anything. The row stays
        # PENDING, and `retry_failed_sms --stale` finds it.
        logger.error(
            "SMS #%s: could not enqueue its delivery (%s); it stays PENDING until retry_failed_sms --stale",
            outgoing_id,
            describe_exception(exc, ()),
        )


def retry_delay(attempt: int) -> datetime.timedelta:
    """The wait after failed attempt ``attempt`` (1-based): SMS_RETRY_DELAY, doubled each time."""
    seconds = settings.SMS_RETRY_DELAY * 2 ** (attempt - 1)
    return min(datetime.timedelta(seconds=seconds), _MAX_DELAY)


def deliver(outgoing_id: int) -> str:
    """Sends row ``outgoing_id``; returns its state afterwards (or why nothing was done)."""
    from integrations.sms.tasks import deliver_sms

    deferrable = deliver_sms.get_backend().supports_defer
    backend = get_backend()
    backend_path = settings.SMS_BACKEND
    max_attempts = settings.SMS_MAX_ATTEMPTS
    while True:
        row = OutgoingSms.objects.filter(pk=outgoing_id).first()
        if row is None:
            logger.warning("SMS #%s: no such outbox row, nothing sent", outgoing_id)
            return "MISSING"
        if row.status != SmsStatus.PENDING:
            # Enqueued twice (e.g. retry_failed_sms run twice): the first task already finished it.
            return row.status
        attempt = row.attempts + 1
        claimed = OutgoingSms.objects.filter(pk=row.pk, status=SmsStatus.PENDING, attempts=row.attempts).update(
            attempts=attempt, next_attempt_at=None, backend=backend_path, updated_at=timezone.now()
        )
        if not claimed:
            return "CLAIMED_ELSEWHERE"
        where = f"SMS #{row.pk} to {mask_mobile(row.mobile)} ({row.purpose})"
        try:
            message_id = backend.send(SmsMessage(mobile=row.mobile, text=row.text, purpose=row.purpose))
        except Exception as exc:
            # Any exception, not only SmsSendError: a broken backend must not lose the message either.
            error = describe_exception(exc, [row.text, *backend.secrets])
            retryable = exc.retryable if isinstance(exc, SmsSendError) else True
            now = timezone.now()
            if attempt >= max_attempts or not retryable:
                OutgoingSms.objects.filter(pk=row.pk).update(status=SmsStatus.FAILED, last_error=error, updated_at=now)
                logger.error("%s: FAILED after %s attempt(s): %s", where, attempt, error)
                return SmsStatus.FAILED
            if deferrable:
                run_after = now + retry_delay(attempt)
                OutgoingSms.objects.filter(pk=row.pk).update(
                    last_error=error, next_attempt_at=run_after, updated_at=now
                )
                logger.warning(
                    "%s: attempt %s/%s failed: %s; retrying at %s",
                    where,
                    attempt,
                    max_attempts,
                    error,
                    run_after.isoformat(timespec="seconds"),
                )
                enqueue(row.pk, run_after=run_after)
                return SmsStatus.PENDING
            OutgoingSms.objects.filter(pk=row.pk).update(last_error=error, updated_at=now)
            logger.warning("%s: attempt %s/%s failed: %s; retrying now", where, attempt, max_attempts, error)
            continue
        now = timezone.now()
        # The text goes the moment the gateway has it: it held a code or a password.
        OutgoingSms.objects.filter(pk=row.pk).update(
            status=SmsStatus.SENT,
            text="",
            sent_at=now,
            provider_message_id=str(message_id or "")[:64],
            updated_at=now,
        )
        logger.info("%s: SENT (attempt %s)", where, attempt)
        return SmsStatus.SENT


def requeue(rows) -> int:
    """Sends FAILED (or stale PENDING) rows again with a fresh allowance of attempts; returns how many.

    Rows whose text is gone (sent, or discarded) cannot be sent again and are skipped.
    """
    count = 0
    for row in rows:
        if not row.text:
            continue
        updated = OutgoingSms.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
            status=SmsStatus.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
        )
        if updated:
            transaction.on_commit(functools.partial(_enqueue_after_commit, row.pk))
            logger.info("SMS #%s to %s (%s): queued again", row.pk, mask_mobile(row.mobile), row.purpose)
            count += 1
    return count
