"""``importProgress(id)``: an Excel import job as it goes, until it ends.

The job announces itself after each chunk it checks or writes (models.excel_import.announce_progress:
one message to the job's group, ids and counts only). The subscription first answers the job as it
stands — a client that subscribes late still hears where it is — then once per message, re-reading
the job with the socket's viewer now (the uploader, or the senior leader: permissions/scope.py);
it completes once the job is DONE, REFUSED or FAILED. While rows are being written they are not
committed yet, so the counts come from the messages until the commit makes the row say DONE; as
sends may overtake one another, an answer is never behind the one before it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from asgiref.sync import sync_to_async
from strawberry import Info

from models.excel_import import FINAL_STATUSES, IMPORT_MESSAGE, import_group
from models.imports import ImportJob, ImportStatus
from permissions import scope
from permissions.viewer import Viewer
from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError
from schema.ids import decode_global_id
from subscriptions.live import fresh_item, listen_on_socket, socket_consumer

JOB_NOT_FOUND = "کار ورود از اکسل پیدا نشد."
COUNTS = ("rows_total", "rows_checked", "rows_written")
# The order a running job goes through (the final ones come from the row itself).
STEPS = [ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.WRITING]


def visible_job(viewer: Viewer, pk: int) -> ImportJob | None:
    return scope.restrict_import_jobs(ImportJob.objects.filter(pk=pk), viewer).first()


async def import_progress(info: Info, id: str) -> AsyncGenerator[ImportJob, None]:
    viewer = require_viewer(info)
    consumer = socket_consumer(info)
    _, pk = decode_global_id(id, "ImportJob")
    # Out of scope and missing look the same, as for node(id); an error for this subscription only.
    if await sync_to_async(visible_job)(viewer, pk) is None:
        raise ManaError(ErrorCode.NOT_FOUND, JOB_NOT_FOUND)
    messages, stop = await listen_on_socket(consumer, IMPORT_MESSAGE, (import_group(pk),))
    return _progress(info, consumer, pk, messages, stop)


async def _progress(info: Info, consumer, pk: int, messages, stop) -> AsyncGenerator[ImportJob, None]:
    try:
        job = await fresh_item(info, consumer, lambda viewer: visible_job(viewer, pk))
        if job is None:
            return
        yield job
        if job.status in FINAL_STATUSES:
            return
        shown = job
        async for message in messages:
            # The socket's messages of this type come from every job it listens to.
            if message.get("job") != pk:
                continue
            job = await fresh_item(info, consumer, lambda viewer: visible_job(viewer, pk))
            if job is None:
                continue
            if job.status not in FINAL_STATUSES:
                job = _ahead(job, message, shown)
            shown = job
            yield job
            if job.status in FINAL_STATUSES:
                return
    finally:
        await stop()


def _ahead(job: ImportJob, message: dict, shown: ImportJob) -> ImportJob:
    """The job as far as anything has told: its row, the message (rows written but not committed
    yet), and what was already answered — sends may overtake one another on the channel layer,
    and an answer never goes back."""
    statuses = [job.status, shown.status]
    if message.get("status") in STEPS:
        statuses.append(message["status"])
    job.status = max(statuses, key=STEPS.index)
    for name in COUNTS:
        setattr(job, name, max(getattr(job, name), getattr(shown, name), int(message.get(name) or 0)))
    return job
