"""Sends the deadline reminders due now (models/deadline_reminders.py): safe to run at any time and
as often as one likes — a reminder already sent is never sent again.

manage.py send_deadline_reminders                  # once (cron: e.g. every hour)
manage.py send_deadline_reminders --today 1402/11/17   # as if it were that day (a missed day)
manage.py send_deadline_reminders --every 3600     # keep running: once an hour (no cron needed)

The work is a task on the project's queue (settings.TASKS), as SMS sending is: with the immediate
backend (the embedded default) it runs here, now; with MANA_TASKS_BACKEND=database it is queued and
a ``manage.py db_worker`` runs it (and the SMS it queues).
"""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from models.jalali import parse_jalali
from models.tasks import send_deadline_reminders_task


class Command(BaseCommand):
    help = "Sends the deadline reminders due now (in-app and SMS), each once; --every N repeats every N seconds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--today", help="the day to act as, Jalali (1402/11/17); default: today in Tehran")
        parser.add_argument("--every", type=int, metavar="SECONDS", help="repeat every SECONDS seconds until stopped")
        parser.add_argument("--times", type=int, metavar="N", help="with --every: stop after N runs")

    def handle(self, *, today, every, times, **options) -> None:
        day = None
        if today:
            try:
                day = parse_jalali(today).isoformat()
            except ValidationError as error:
                raise CommandError(error.messages[0]) from None
        if every is not None and every < 1:
            raise CommandError("--every must be at least 1 second")
        runs = 0
        while True:
            self._run_once(day)
            runs += 1
            if every is None or (times is not None and runs >= times):
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return

    def _run_once(self, day: str | None) -> None:
        result = send_deadline_reminders_task.enqueue(day)
        if result.is_finished:
            if result.status != "SUCCESSFUL":
                raise CommandError(
                    f"sending the reminders failed: {result.errors[-1].traceback if result.errors else ''}"
                )
            report = result.return_value
            self.stdout.write(
                f"{report['near']} near, {report['passed']} passed reminder(s) sent "
                f"({report['sms']} SMS queued, {report['already_sent']} sent by another run)."
            )
        else:
            self.stdout.write(f"Queued as task {result.id}; a db_worker will send them.")
