"""Evidence downloads: the only way a stored file leaves the server, after a scope check."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest

from models.evidence_files import storage_path
from models.referrals import Evidence
from permissions import scope
from permissions.viewer import viewer_from_request
from schema.context import PASSWORD_CHANGE_REQUIRED_MESSAGE
from schema.errors import UNAUTHENTICATED_MESSAGE, ErrorCode, error_response
from schema.unavailable import unavailable_database_answers_503

NOT_FOUND_MESSAGE = "مستند پیدا نشد."


@unavailable_database_answers_503
def evidence_download(request: HttpRequest, pk: int, name: str):
    viewer = viewer_from_request(request)
    if not viewer.is_authenticated:
        return error_response(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE, 401)
    if viewer.user.must_change_password:
        return error_response(ErrorCode.PASSWORD_CHANGE_REQUIRED, PASSWORD_CHANGE_REQUIRED_MESSAGE, 403)
    # Out of scope and non-existent answer alike: 404 (in the API's error format, not a page).
    evidence = scope.restrict_evidence(Evidence.objects.filter(pk=pk, file_name=name), viewer).first()
    if evidence is None:
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)
    path = storage_path(evidence.storage_name)
    if not path.exists():
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, 404)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=evidence.file_name)
    response["Content-Type"] = evidence.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response
