"""importAssignments, importOrganizations and importJobs: Excel uploads become background jobs
(models/excel_import.py); the resolvers only decode ids and answer refusals in the payload."""

from __future__ import annotations

from django.db.models import QuerySet
from strawberry import Info

from models import excel_import
from models.imports import ImportJob, ImportKind
from permissions.viewer import Viewer
from resolvers.workflow import decode_id, run_mutation
from schema.context import require_viewer
from schema.types import imports as io


def _start(viewer: Viewer, kind: str, period_id: int | None, file) -> dict:
    job = excel_import.start_import(
        viewer=viewer, kind=kind, period_id=period_id, file_name=getattr(file, "name", ""), uploaded=file
    )
    # With the immediate task backend (the embedded default) the job has already run by now:
    # answer it as it stands, not as it was queued.
    return {"job": ImportJob.objects.get(pk=job.pk)}


async def import_assignments(info: Info, input: io.ImportAssignmentsInput) -> io.ImportAssignmentsPayload:
    def work(viewer: Viewer) -> dict:
        period = decode_id(input.period, "EvaluationPeriod", "period")
        return _start(viewer, ImportKind.ASSIGNMENTS, period, input.file)

    return await run_mutation(info, io.ImportAssignmentsPayload, work)


async def import_organizations(info: Info, input: io.ImportOrganizationsInput) -> io.ImportOrganizationsPayload:
    def work(viewer: Viewer) -> dict:
        return _start(viewer, ImportKind.ORGANIZATIONS, None, input.file)

    return await run_mutation(info, io.ImportOrganizationsPayload, work)


def import_jobs(info: Info, kind: str | None = None, status: str | None = None) -> QuerySet[ImportJob]:
    require_viewer(info)
    # Scope: ImportJobNode.get_queryset (one's own jobs; the senior leader's: all) is applied on top.
    jobs = ImportJob.objects.order_by("-created_at", "-id")
    if kind is not None:
        jobs = jobs.filter(kind=kind)
    if status is not None:
        jobs = jobs.filter(status=status)
    return jobs
