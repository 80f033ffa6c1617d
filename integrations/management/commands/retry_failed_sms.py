"""Sends FAILED SMS again (each with a fresh allowance of SMS_MAX_ATTEMPTS attempts).

manage.py retry_failed_sms                 # every FAILED message
manage.py retry_failed_sms --id 12 --id 15 # only these
manage.py retry_failed_sms --purpose otp
manage.py retry_failed_sms --stale 30      # also PENDING ones untouched for 30 minutes (lost tasks)
manage.py retry_failed_sms --discard       # give up: empty the texts of FAILED messages instead
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from integrations.models import OutgoingSms, SmsStatus
from integrations.sms.delivery import requeue


class Command(BaseCommand):
    help = "Sends FAILED SMS again; with --stale also PENDING ones whose task was lost; --discard gives up on them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--id", type=int, action="append", dest="ids", help="only this outbox row (repeatable)")
        parser.add_argument("--purpose", help="only messages of this purpose (otp, password…)")
        parser.add_argument(
            "--stale",
            type=int,
            metavar="MINUTES",
            help="also PENDING messages neither attempted nor due within the last MINUTES minutes",
        )
        parser.add_argument(
            "--discard", action="store_true", help="do not send: empty the texts of the FAILED messages selected"
        )

    def handle(self, *, ids, purpose, stale, discard, **options) -> None:
        selected = Q(status=SmsStatus.FAILED)
        if stale is not None and not discard:
            cutoff = timezone.now() - datetime.timedelta(minutes=stale)
            selected |= Q(status=SmsStatus.PENDING, updated_at__lt=cutoff) & (
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff)
            )
        rows = OutgoingSms.objects.filter(selected)
        if ids:
            rows = rows.filter(pk__in=ids)
        if purpose:
            rows = rows.filter(purpose=purpose)
        if discard:
            count = rows.exclude(text="").update(text="", updated_at=timezone.now())
            self.stdout.write(f"{count} failed message(s) discarded (texts emptied).")
            return
        rows = list(rows.order_by("created_at", "id"))
        queued = requeue(rows)
        skipped = len(rows) - queued
        self.stdout.write(
            f"{queued} message(s) queued again" + (f"; {skipped} skipped (text gone)." if skipped else ".")
        )
