"""The HTTP endpoint: strawberry's async Django view with Mana's context, credentials and error format.

Who is asking, and when a CSRF token is needed:

* «Authorization: Bearer mana_…» (an API token, schema/bearer.py): the token's owner in the token's
  role; the session and its cookie are ignored, no cookie is set, and no CSRF token is needed — a
  browser cannot attach an Authorization header to a cross-site request without a CORS preflight.
  A token that does not authenticate is a 401, never an anonymous request.
* A request that carries the session cookie: Django's CSRF check, always (X-CSRFToken, from the
  csrftoken cookie this endpoint hands out).
* No cookie and a JSON body: no CSRF token needed. A cross-site page can send application/json
  only after a CORS preflight, which Mana does not answer for foreign origins, and without a
  cookie the request carries no ambient authority to abuse. (Integrators, code generators and the
  graphql-http audit are such clients.)
* No cookie and a form or multipart body: the CSRF check still applies — such a body is exactly
  what a cross-site form can send, and a forged sign-in (login CSRF) needs no cookie.

Media types (GraphQL over HTTP): application/graphql-response+json when the client's Accept prefers
it, with 400 and no ``data`` entry for a request error (unparsable or invalid document, variables
that do not fit); application/json otherwise, where a GraphQL result is always a 200, as before.
Either way the body is UTF-8 JSON with Persian unescaped (schema/json_encoding.py), and says so:
``charset=utf-8``.
"""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import AsyncGraphQLView

from permissions.viewer import Viewer, viewer_from_request
from schema import bearer
from schema.context import ManaContext
from schema.errors import ErrorCode, error_response, format_error
from schema.json_encoding import CHARSET, encode_json
from schema.loaders import Loaders
from schema.schema import schema
from schema.transport_rules import http_subscription_refusal
from schema.unavailable import service_unavailable
from settings.body_limits import too_large_message
from settings.request_log import note

BAD_REQUEST_MESSAGE = "درخواست GraphQL معتبر نیست؛ بدنه باید JSON با کلید «query» باشد."
TOO_MANY_PARTS_MESSAGE = "درخواست بیش از حد مجاز بخش یا فایل دارد."

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# A request error's status under application/graphql-response+json, where its code says more than 400.
REQUEST_ERROR_STATUS = {
    ErrorCode.SERVICE_UNAVAILABLE.value: 503,
    ErrorCode.STATEMENT_TIMEOUT.value: 503,
    ErrorCode.INTERNAL_ERROR.value: 500,
}

def csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """Django's own check, run by hand for the requests that need it (the view itself is exempt
    from the middleware's blanket check): csrf_protect's mechanism, without its all-or-nothing.
    A new instance each time: one keeps the trusted origins it first read from the settings."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})


def csrf_applies(request: HttpRequest) -> bool:
    """For a request without a Bearer token: whether Django's CSRF check applies."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    return request.content_type.lower() != JSON


class ManaGraphQLView(AsyncGraphQLView):
    # One view instance per request (Django's as_view): these describe the request being served.
    media_type = JSON
    token_viewer: Viewer | None = None
    request_error_status: int | None = None

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        refusal = http_subscription_refusal(request_data.query, request_data.operation_name)
        if refusal is not None:
            return refusal
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )

    async def dispatch(self, request: HttpRequest, *args, **kwargs):
        self.media_type = request.get_preferred_type([JSON, GRAPHQL_RESPONSE_JSON]) or JSON
        try:
            refusal = await self.admit(request)
            if refusal is not None:
                return self.in_media_type(refusal)
            return await self.run(request=request)
        except HTTPException as error:
            # Unparsable body, no query, mutation over GET…: answered in the GraphQL error format
            # (strawberry's default is a bare text/plain line without a code).
            return self.in_media_type(
                error_response(ErrorCode.BAD_USER_INPUT, BAD_REQUEST_MESSAGE, error.status_code, reason=error.reason)
            )
        except RequestDataTooBig:
            # Django refuses a body (or a multipart request's form fields) over
            # DATA_UPLOAD_MAX_MEMORY_SIZE when it is read; left alone that is a logged
            # SuspiciousOperation and a 400 HTML page. (The ASGI guard, settings/body_limits.py,
            # refuses most such bodies before they are even received.)
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return self.in_media_type(
                error_response(ErrorCode.REQUEST_TOO_LARGE, too_large_message(limit), 413, maxBytes=limit)
            )
        except (TooManyFieldsSent, TooManyFilesSent):
            return self.in_media_type(error_response(ErrorCode.REQUEST_TOO_LARGE, TOO_MANY_PARTS_MESSAGE, 413))
        except OperationalError:
            # Reading the session, the token and the viewer's role happens before GraphQL runs:
            # when no pooled connection frees up in time (or the database is down), say so with a
            # code and a retry hint instead of Django's 500 page.
            return service_unavailable()

    async def admit(self, request: HttpRequest) -> HttpResponse | None:
        """The refusal of a request not to be served (bad token, throttled, CSRF), else None."""
        presented = bearer.bearer_token(request.headers.get("Authorization"))
        if presented is not None:
            outcome = await sync_to_async(bearer.authenticate_request)(request, presented)
            if isinstance(outcome, bearer.Refusal):
                return outcome.response()
            self.token_viewer = outcome
            return None
        if csrf_applies(request):
            refused = await sync_to_async(csrf_refusal)(request)
            if refused is not None:
                return refused
        # Hands out the token cookie-session clients send back in X-CSRFToken (GraphiQL, or a
        # browser client's first GET). Token requests get no cookie at all.
        get_token(request)
        return None

    async def parse_http_body(self, request):
        data = await super().parse_http_body(request)
        # strawberry checks query, variables and extensions; an operationName that is not a string
        # reached graphql-core (GraphQL over HTTP: a 400, like the others).
        if not isinstance(getattr(data, "operation_name", None), str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return data

    async def get_context(self, request: HttpRequest, response) -> ManaContext:
        viewer = self.token_viewer or await sync_to_async(viewer_from_request)(request)
        if viewer.user is not None:
            note(request, user_id=viewer.user.pk)
        return ManaContext(request=request, response=response, viewer=viewer, loaders=Loaders(viewer))

    async def process_result(self, request: HttpRequest, result):
        data: dict = {"data": result.data}
        if result.errors:
            data["errors"] = [format_error(error) for error in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        if self.media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            # Nothing was executed: under this media type there is no data entry, and the status
            # says it (GraphQL over HTTP, «application/graphql-response+json»).
            del data["data"]
            codes = [error["extensions"]["code"] for error in data["errors"]]
            self.request_error_status = max(REQUEST_ERROR_STATUS.get(code, 400) for code in codes)
        return data

    def encode_json(self, data: object) -> bytes:
        return encode_json(data)

    def create_response(self, response_data, sub_response):
        response = super().create_response(response_data, sub_response)
        response["Content-Type"] = f"{self.media_type}; charset={CHARSET}"
        if self.media_type == GRAPHQL_RESPONSE_JSON and self.request_error_status is not None:
            response.status_code = self.request_error_status
        return response

    def in_media_type(self, response: HttpResponse) -> HttpResponse:
        """A refusal made before GraphQL ran (error_response), in the negotiated media type."""
        if self.media_type != GRAPHQL_RESPONSE_JSON or not isinstance(response, JsonResponse):
            return response
        body = json.loads(response.content)
        if body.get("data") is None:
            # Nothing was executed: no data entry under this media type.
            body.pop("data", None)
        response.content = json.dumps(body, ensure_ascii=False).encode()
        response["Content-Type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        return response


def is_request_error(result) -> bool:
    """An unparsable or invalid document, or variables that do not fit: errors and no execution
    (a field error, even one that nulls the whole data, has a path)."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(
        ErrorCode.FORBIDDEN,
        "درخواست بدون توکن CSRF معتبر فرستاده شده است؛ صفحه را دوباره بارگذاری کنید.",
        403,
        reason="CSRF",
    )


# Exempt from the middleware's blanket CSRF check: ManaGraphQLView.admit runs Django's check itself
# for the requests that need it (see the module's docstring).
graphql_view = csrf_exempt(
    ManaGraphQLView.as_view(
        schema=schema,
        graphql_ide="graphiql" if settings.MANA["GRAPHIQL"] else None,
        multipart_uploads_enabled=True,
    )
)
