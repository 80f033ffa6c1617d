"""Mana's HTTP application without the body limits, for bench/oversized_uploads.py to compare against.

Plain Django ASGI, as settings/asgi.py served HTTP before the limits: no ``BodyLimitMiddleware``,
and daphne's own request class (settings/asgi.py is never imported, so ``daphne_body_limit`` is not
installed). Never serve this.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
application = get_asgi_application()
