"""The HTTP endpoint: strawberry's async Django view with Mana's context and error format."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import AsyncGraphQLView

from permissions.viewer import viewer_from_request
from schema.context import ManaContext
from schema.errors import ErrorCode, error_response, format_error
from schema.loaders import Loaders
from schema.schema import schema
from schema.unavailable import service_unavailable
from settings.body_limits import too_large_message

BAD_REQUEST_MESSAGE = "درخواست GraphQL معتبر نیست؛ بدنه باید JSON با کلید «query» باشد."
TOO_MANY_PARTS_MESSAGE = "درخواست بیش از حد مجاز بخش یا فایل دارد."


class ManaGraphQLView(AsyncGraphQLView):
    async def dispatch(self, request: HttpRequest, *args, **kwargs):
        try:
            return await self.run(request=request)
        except HTTPException as error:
            # Unparsable body, no query, mutation over GET…: answered in the GraphQL error format
            # (strawberry's default is a bare text/plain line without a code).
            return error_response(ErrorCode.BAD_USER_INPUT, BAD_REQUEST_MESSAGE, error.status_code, reason=error.reason)
        except RequestDataTooBig:
            # Django refuses a body (or a multipart request's form fields) over
            # DATA_UPLOAD_MAX_MEMORY_SIZE when it is read; left alone that is a logged
            # SuspiciousOperation and a 400 HTML page. (The ASGI guard, settings/body_limits.py,
            # refuses most such bodies before they are even received.)
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return error_response(ErrorCode.REQUEST_TOO_LARGE, too_large_message(limit), 413, maxBytes=limit)
        except (TooManyFieldsSent, TooManyFilesSent):
            return error_response(ErrorCode.REQUEST_TOO_LARGE, TOO_MANY_PARTS_MESSAGE, 413)
        except OperationalError:
            # Reading the session and the viewer's role happens before GraphQL runs: when no pooled
            # connection frees up in time (or the database is down), say so with a code and a
            # retry hint instead of Django's 500 page.
            return service_unavailable()

    async def get_context(self, request: HttpRequest, response) -> ManaContext:
        viewer = await sync_to_async(viewer_from_request)(request)
        return ManaContext(request=request, response=response, viewer=viewer, loaders=Loaders(viewer))

    async def process_result(self, request: HttpRequest, result):
        data: dict = {"data": result.data}
        if result.errors:
            data["errors"] = [format_error(error) for error in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(
        ErrorCode.FORBIDDEN,
        "درخواست بدون توکن CSRF معتبر فرستاده شده است؛ صفحه را دوباره بارگذاری کنید.",
        403,
        reason="CSRF",
    )


# ensure_csrf_cookie: a GET (GraphiQL, or a client's first call) hands out the token that
# cookie-session clients send back in X-CSRFToken.
graphql_view = ensure_csrf_cookie(
    ManaGraphQLView.as_view(
        schema=schema,
        graphql_ide="graphiql" if settings.MANA["GRAPHIQL"] else None,
        multipart_uploads_enabled=True,
    )
)
