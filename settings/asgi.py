"""ASGI entry point for daphne: HTTP through Django, WebSocket through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from settings import daphne_body_limit  # noqa: E402
from settings.body_limits import BodyLimitMiddleware  # noqa: E402
from settings.websocket_origin import BrowserOriginValidator  # noqa: E402
from subscriptions.routing import websocket_urlpatterns  # noqa: E402

# A body over the limit is refused before Django spools it (settings/body_limits.py); under daphne
# already while it arrives, before daphne buffers it (settings/daphne_body_limit.py).
daphne_body_limit.install()

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Load the URLconf (and with it the GraphQL schema) now rather than on the first request, then
# take everything loaded so far out of the garbage collector's sight: it lives as long as the
# process, and walking it on every collection cost ~20 ms a request. The first generation's
# threshold goes up too, so the many short-lived objects of one response do not set off several
# collections each; cycles are still collected (a worker's memory stays flat: bench/country.py).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
gc.set_threshold(int(os.environ.get("MANA_GC_THRESHOLD", "20000")), 20, 20)
