"""Evidence downloads: the only way a stored file leaves the server, after a scope check."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest

from models.evidence_files import storage_path
from models.referrals import Evidence
from models.requests import NonApplicabilityRequest
from permissions import scope
from permissions.viewer import viewer_from_request
from schema import bearer
from schema.context import PASSWORD_CHANGE_REQUIRED_MESSAGE
from schema.errors import UNAUTHENTICATED_MESSAGE, ErrorCode, error_response
from schema.unavailable import unavailable_database_answers_503

NOT_FOUND_MESSAGE = "مستند پیدا نشد."


def download_viewer(request: HttpRequest):
    """(viewer, refusal) of a download: an integrator's «Authorization: Bearer …» API token, as on
    /graphql/ (a bad or throttled token is refused as there), else the session cookie."""
    presented = bearer.bearer_token(request.headers.get("Authorization"))
    if presented is None:
        viewer = viewer_from_request(request)
        return viewer, refusal_for(viewer)
    outcome = bearer.authenticate_request(request, presented)
    if isinstance(outcome, bearer.Refusal):
        return None, outcome.response()
    return outcome, refusal_for(outcome)


def refusal_for(viewer):
    """The answer to a download asked without a usable sign-in (None: go on). Every permission-
    checked download (evidence, XLSX exports) refuses the same way."""
    if not viewer.is_authenticated:
        return error_response(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE, 401)
    if viewer.user.must_change_password:
        return error_response(ErrorCode.PASSWORD_CHANGE_REQUIRED, PASSWORD_CHANGE_REQUIRED_MESSAGE, 403)
    return None


def _file(storage_name: str, file_name: str, content_type: str):
    path = storage_path(storage_name)
    if not storage_name or not path.exists():
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=file_name)
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


@unavailable_database_answers_503
def evidence_download(request: HttpRequest, pk: int, name: str):
    viewer, refused = download_viewer(request)
    if refused is not None:
        return refused
    # Out of scope and non-existent answer alike: 404 (in the API's error format, not a page).
    evidence = scope.restrict_evidence(Evidence.objects.filter(pk=pk, file_name=name), viewer).first()
    if evidence is None:
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)
    return _file(evidence.storage_name, evidence.file_name, evidence.content_type)


@unavailable_database_answers_503
def non_applicability_evidence_download(request: HttpRequest, pk: int, name: str):
    """The evidence of a non-applicability request, to whoever sees the request."""
    viewer, refused = download_viewer(request)
    if refused is not None:
        return refused
    requests = NonApplicabilityRequest.objects.filter(pk=pk, evidence_file_name=name)
    found = scope.restrict_non_applicability_requests(requests, viewer).first()
    if found is None:
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)
    return _file(found.evidence_storage_name, found.evidence_file_name, found.evidence_content_type)
