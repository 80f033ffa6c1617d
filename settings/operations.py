"""The operators' endpoints — ``/healthz``, ``/readyz`` and the metrics — answered first of all.

First in MIDDLEWARE, before the host check and the HTTPS redirect: a load balancer or an
orchestrator probes a worker at its own address, over plain HTTP, with a Host header that
ALLOWED_HOSTS does not list; answered later, a probe would get 400 or a redirect instead of the
worker's state. Nothing here reads the session or the user, and probes are not written to the
request log (a failing readiness check logs why, once per probe).
"""

from __future__ import annotations

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from settings import health, metrics

PROBE_METHODS = {"GET", "HEAD"}


class OperationsMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # tells Django's handler to await this middleware

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in PROBE_METHODS:
            path = request.path_info
            if path == "/healthz":
                return health.alive()
            if path == "/readyz":
                return await health.ready()
            if path == settings.MANA_METRICS_PATH:
                # Collecting reads files in multiprocess mode: off the event loop.
                return await sync_to_async(metrics.metrics, thread_sensitive=False)(request)
        return await self.get_response(request)
