"""Prometheus metrics at ``MANA_METRICS_PATH`` (``/metrics``), for those allowed to read them.

What is measured: GraphQL operations and errors (schema/metrics.py), HTTP requests
(settings/request_log.py), and the process (CPU, memory, open files, garbage collector: the
client library's defaults).

Who may read them: a request from an address in ``MANA_METRICS_ALLOWED_IPS`` (addresses or
networks; in development the loopback addresses, in production none), or one presenting
``Authorization: Bearer <MANA_METRICS_TOKEN>`` (Prometheus' ``authorization`` setting). Anyone
else gets 403 FORBIDDEN. Operation names and error counts tell an outsider what is used and what
fails; they are for the operators.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder shared by them
(emptied before they start); every worker then answers with the sum of all (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client.django import PrometheusDjangoView

from schema.bearer import bearer_token
from schema.errors import ErrorCode, error_response

FORBIDDEN_MESSAGE = "خواندن سنجه‌ها (metrics) فقط از نشانی‌های مجاز یا با توکن سنجه‌ها ممکن است."

# One per process: it keeps the registry (the multiprocess one with PROMETHEUS_MULTIPROC_DIR).
_export = PrometheusDjangoView()


def allowed_networks(addresses: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """MANA_METRICS_ALLOWED_IPS parsed (raises ValueError for an entry that is not an address)."""
    return [ipaddress.ip_network(address, strict=False) for address in addresses]


def may_read(request: HttpRequest) -> bool:
    token = settings.MANA_METRICS_TOKEN
    presented = bearer_token(request.headers.get("Authorization"))
    if token and presented is not None:
        return hmac.compare_digest(presented.encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks(settings.MANA_METRICS_ALLOWED_IPS))


def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        return error_response(ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, 403)
    return _export.get(request)
