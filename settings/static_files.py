"""WhiteNoise for the admin console's static files, without making every request synchronous.

WhiteNoise's middleware is synchronous only. Anywhere in an ASGI middleware chain, it makes
Django run the chain in a worker thread and hop back to the event loop for the view: two thread
switches on every GraphQL request, for a lookup that only static paths need. This async
middleware asks WhiteNoise's file table directly and hands it only the requests it will serve.
"""

from __future__ import annotations

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # tells Django's handler to await this middleware
        # Never called: WhiteNoise here only finds and serves files.
        self.whitenoise = WhiteNoiseMiddleware(get_response=lambda request: None)

    def find(self, request: HttpRequest):
        if not request.path_info.startswith(self.whitenoise.static_prefix):
            return None
        if self.whitenoise.autorefresh:
            return self.whitenoise.find_file(request.path_info)
        return self.whitenoise.files.get(request.path_info)

    async def __call__(self, request: HttpRequest):
        static_file = self.find(request)
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self.whitenoise.serve)(static_file, request)
