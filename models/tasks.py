"""Background tasks of the domain, on the project's one queue (django-tasks, settings.TASKS): the
same as the SMS outbox's (integrations/sms/tasks.py). Only ids travel through the queue."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_task(job_id: int, role_id: int) -> str:
    """An Excel import job (models/excel_import.py): check every row, then write all or nothing."""
    from models.excel_import import run_import

    return str(run_import(job_id, role_id))


@task()
def send_deadline_reminders_task(today: str | None = None) -> dict:
    """Deadline reminders due now (models/deadline_reminders.py); ``today`` (ISO) for a rerun of a day."""
    import datetime

    from models.deadline_reminders import send_deadline_reminders

    day = datetime.date.fromisoformat(today) if today else None
    return send_deadline_reminders(today=day).as_dict()
