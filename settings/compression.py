"""gzip for the responses worth it, honouring Accept-Encoding — and not where it would leak.

Django's GZipMiddleware does the work: it compresses only for a client whose Accept-Encoding
names gzip, only a body of 200 bytes or more that comes out smaller, adds «Vary: Accept-Encoding»,
and pads each compressed body with up to 100 random bytes (the «Heal the Breach» mitigation). On
top of it:

* Only text: JSON (GraphQL answers), HTML, CSS, JavaScript, SVG. Evidence files, Excel workbooks
  and images are compressed already.
* Not a response to a request that another site's page could have made with the person's
  session cookie. BREACH recovers a secret from a compressed response's size when the attacker
  can have the victim's browser send many requests that reflect text of the attacker's choosing
  next to that secret. Such a request carries the session cookie and is not «Sec-Fetch-Site:
  same-origin» (the person's own pages) or «none» (typed or bookmarked): it is answered
  uncompressed. Requests with a Bearer token or without a cookie carry no one else's secrets —
  an attacker could read those answers by asking himself — and are always compressed.

Native async, like the static files middleware: a body under COMPRESS_INLINE_BYTES is compressed
on the event loop (well under a millisecond), a larger one in a worker thread (zlib lets go of
the GIL), neither with a thread hop for every request.
"""

from __future__ import annotations

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers

COMPRESSIBLE_TYPES = (
    "application/json",
    "application/graphql-response+json",
    "text/",
    "application/javascript",
    "image/svg+xml",
)
# Sec-Fetch-Site values of requests only the person's own pages (or the person) can make.
OWN_REQUESTS = {"same-origin", "none"}
COMPRESS_INLINE_BYTES = 64 * 1024


def compressible_type(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type.startswith(COMPRESSIBLE_TYPES)


def could_be_forged_with_cookie(request: HttpRequest) -> bool:
    """A request carrying the session cookie that another site's page may have sent."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.headers.get("Sec-Fetch-Site", "").lower() not in OWN_REQUESTS


class CompressionMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # tells Django's handler to await this middleware
        # Never called: Django's middleware here only compresses.
        self.gzip = GZipMiddleware(get_response=lambda request: None)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        if not compressible_type(response):
            return response
        if could_be_forged_with_cookie(request):
            # Compressed for other requests: a cache must still tell the two apart.
            patch_vary_headers(response, ("Accept-Encoding",))
            return response
        if not response.streaming and len(response.content) > COMPRESS_INLINE_BYTES:
            return await sync_to_async(self.gzip.process_response, thread_sensitive=False)(request, response)
        return self.gzip.process_response(request, response)
