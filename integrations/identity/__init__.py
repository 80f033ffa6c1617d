"""Identity services: the civil registry (ثبت احوال) and Shahkar (شاهکار, who owns a mobile line).

    from integrations.identity import civil_registry, shahkar, BirthDateMismatch, IdentityServiceError

    try:
        person = civil_registry().lookup(national_code="0010000011", birth_date=datetime.date(1981, 4, 5))
    except BirthDateMismatch:
        ...  # the registry knows this national code, under another birth date
    except IdentityServiceError:
        ...  # the service is unreachable or answered garbage (after retries): try again later
    if person is None:
        ...  # no such national code (also: one that fails the check digit; no service is asked)
    person.first_name, person.last_name, person.birth_date  # RegistryPerson

    shahkar().matches(national_code="0010000011", mobile="09120000011")  # bool; IdentityServiceError too

So ``lookup`` tells its three outcomes apart as: a :class:`RegistryPerson` (found, birth date
matches), ``None`` (no such person), :class:`BirthDateMismatch` raised (known, other birth date).
``birth_date`` is a ``datetime.date`` or text, Jalali («1365/04/12») or ISO (a year from 1700 on),
and text that is neither raises ValueError (check the person's input before asking); national
codes and mobiles may be typed with Persian digits, mobiles as +98…/0098…/9… too.

``MANA_IDENTITY_BACKEND`` chooses the implementation: ``offline`` (the development default) answers
from the JSON file ``MANA_IDENTITY_FIXTURE`` (integrations/identity/offline.py; the default file
demo_people.json holds the demo's people and three applicants with no account yet); ``http`` (the production default)
asks the real services (wire format, timeouts and retries: integrations/identity/http_services.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations.identity.base import BirthDateMismatch, IdentityServiceError, RegistryPerson

__all__ = ["BirthDateMismatch", "IdentityServiceError", "RegistryPerson", "civil_registry", "shahkar"]


def _backend() -> str:
    backend = settings.MANA_IDENTITY_BACKEND
    if backend not in {"offline", "http"}:
        raise ImproperlyConfigured(f"MANA_IDENTITY_BACKEND must be 'offline' or 'http', not {backend!r}")
    return backend


def civil_registry():
    """The civil registry chosen by settings: ``.lookup(national_code=…, birth_date=…)``."""
    if _backend() == "http":
        from integrations.identity.http_services import HttpCivilRegistry

        return HttpCivilRegistry()
    from integrations.identity.offline import OfflineCivilRegistry

    return OfflineCivilRegistry()


def shahkar():
    """Shahkar as chosen by settings: ``.matches(national_code=…, mobile=…) -> bool``."""
    if _backend() == "http":
        from integrations.identity.http_services import HttpShahkar

        return HttpShahkar()
    from integrations.identity.offline import OfflineShahkar

    return OfflineShahkar()
