"""The database could not be reached: 503 SERVICE_UNAVAILABLE with a retry hint, never Django's 500 page.

Every endpoint that reads the database before GraphQL runs (the session, the viewer's role, an
evidence download's scope check) answers the same way, in development (DEBUG on) as in production.
"""

from __future__ import annotations

import functools
import logging
import sys
from inspect import iscoroutinefunction

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse

from schema.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, ErrorCode, error_response

RETRY_AFTER_SECONDS = 5
logger = logging.getLogger("mana.graphql")


def service_unavailable() -> JsonResponse:
    """Log the cause (the caller is inside its ``except``) and answer 503 with Retry-After."""
    logger.error("database unavailable: answered 503", exc_info=True)
    response = error_response(ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_database_answers_503(view):
    """Decorate a plain Django view (sync or async) so an unreachable database is a coded 503."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            try:
                return await view(request, *args, **kwargs)
            except OperationalError:
                return service_unavailable()

        return async_wrapper

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except OperationalError:
            return service_unavailable()

    return wrapper


SERVER_ERROR_PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>سکوی معنا</title></head>
<body style="font-family: Tahoma, sans-serif; margin: 3em;"><h1>{title}</h1><p>{message}</p></body></html>
"""
SERVER_ERROR_TITLE = "خطای داخلی"


def server_error(request) -> HttpResponse:
    """Django's last resort (``handler500``, DEBUG off): the admin console and any other page.

    An unreachable database is a 503 with Retry-After, like the GraphQL endpoint answers it;
    anything else a 500. Persian either way, and without touching the database or a template
    that might (the page must render while the database is down).
    """
    unavailable = isinstance(sys.exc_info()[1], OperationalError)
    status, message = (503, UNAVAILABLE_MESSAGE) if unavailable else (500, INTERNAL_MESSAGE)
    if not request.path.startswith("/admin/"):
        response = error_response(
            ErrorCode.SERVICE_UNAVAILABLE if unavailable else ErrorCode.INTERNAL_ERROR, message, status
        )
    else:
        title = "سامانه در دسترس نیست" if unavailable else SERVER_ERROR_TITLE
        response = HttpResponse(SERVER_ERROR_PAGE.format(title=title, message=message), status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
