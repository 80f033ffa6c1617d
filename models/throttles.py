"""Throttles on what costs money or invites guessing (SMS sends), counted in the shared cache.

django-ratelimit's fixed windows, keyed by a value we choose (a national code, an address). With
REDIS_URL set the cache is Redis, so every worker process counts against the same limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django_ratelimit.core import get_usage


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # seconds until the window that refused this ends


def take(request: HttpRequest, group: str, value: str, rate: str) -> Throttled | None:
    """Count one use of ``group`` by ``value``; Throttled when that is over ``rate`` ("3/10m")."""
    usage = get_usage(request, group=f"mana.{group}", key=lambda _group, _request: value, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return Throttled(retry_after=max(1, usage["time_left"]))


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"
