"""XLSX downloads: the import templates, an organization's results and the dashboard.

Checked as evidence downloads are (resolvers/downloads.py): the session cookie or an API token, 401 without one,
403 while a temporary password must be changed; what is out of the viewer's scope answers 404
exactly like what does not exist. Ids in the address are the API's global ids.

    GET /imports/template/organizations.xlsx          the senior leader
    GET /imports/template/assignments.xlsx            the senior leader and main leaders
    GET /exports/results/<period>/<organization>.xlsx whoever sees the organization
    GET /exports/dashboard/<period>.xlsx              the dashboard of the role's unit (leaders)
    GET /exports/dashboard/<period>/<organization>.xlsx
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from models import excel_export
from models.errors import DomainError
from models.excel_import import may_import
from models.excel_templates import FILE_NAMES, TEMPLATE_SLUGS, template_workbook
from models.organization import Organization
from models.periods import EvaluationPeriod
from permissions import scope
from resolvers.downloads import download_viewer
from schema.errors import ErrorCode, ManaError, error_response
from schema.ids import decode_global_id
from schema.unavailable import unavailable_database_answers_503

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_OF_SLUG = {slug: kind for kind, slug in TEMPLATE_SLUGS.items()}
NOT_FOUND_MESSAGE = "پیدا نشد."
TEMPLATE_NOT_ALLOWED = "این قالب ویژه کسانی است که می‌توانند این نوع داده را از اکسل وارد کنند."


def _not_found():
    return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)


def _xlsx(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _pk(value: str, type_name: str) -> int | None:
    try:
        return decode_global_id(value, type_name)[1]
    except ManaError:
        return None


@unavailable_database_answers_503
def import_template(request: HttpRequest, kind: str):
    viewer, refused = download_viewer(request)
    if refused is not None:
        return refused
    import_kind = KIND_OF_SLUG.get(kind)
    if import_kind is None:
        return _not_found()
    if not may_import(viewer, import_kind):
        return error_response(ErrorCode.FORBIDDEN, TEMPLATE_NOT_ALLOWED, 403)
    return _xlsx(template_workbook(import_kind), FILE_NAMES[import_kind])


@unavailable_database_answers_503
def results_export(request: HttpRequest, period: str, organization: str):
    viewer, refused = download_viewer(request)
    if refused is not None:
        return refused
    period_pk, organization_pk = _pk(period, "EvaluationPeriod"), _pk(organization, "Organization")
    if period_pk is None or organization_pk is None:
        return _not_found()
    found_period = EvaluationPeriod.objects.filter(pk=period_pk).first()
    found_organization = scope.restrict_organizations(Organization.objects.filter(pk=organization_pk), viewer).first()
    if found_period is None or found_organization is None:
        # Out of scope and missing answer alike.
        return _not_found()
    content = excel_export.results_workbook(viewer, found_organization, found_period)
    return _xlsx(content, excel_export.export_file_name("نتایج", found_organization, found_period))


@unavailable_database_answers_503
def dashboard_export(request: HttpRequest, period: str, organization: str | None = None):
    viewer, refused = download_viewer(request)
    if refused is not None:
        return refused
    period_pk = _pk(period, "EvaluationPeriod")
    organization_pk = None if organization is None else _pk(organization, "Organization")
    if period_pk is None or (organization is not None and organization_pk is None):
        return _not_found()
    try:
        content, board = excel_export.dashboard_workbook(viewer, period_pk, organization_pk)
    except DomainError as error:
        if error.code == "FORBIDDEN":
            return error_response(ErrorCode.FORBIDDEN, error.message, 403)
        return _not_found()
    return _xlsx(content, excel_export.export_file_name("داشبورد", board.organization, board.period))
