"""The identity services over HTTP: JSON over HTTPS to the civil registry and Shahkar gateways.

Both are a POST of a JSON object to the configured URL (``MANA_CIVIL_REGISTRY_URL``,
``MANA_SHAHKAR_URL``, each the endpoint itself), with ``Authorization: Bearer <token>`` when
``MANA_CIVIL_REGISTRY_TOKEN`` / ``MANA_SHAHKAR_TOKEN`` is set. The person asked about travels in the
body, never in the URL (URLs end up in access logs and urllib3's retry warnings).

Civil registry::

    → {"national_code": "0010000011", "birth_date": "1986-07-03"}          (Gregorian, ISO)
    ← 200 {"result": "FOUND", "person": {"national_code": "0010000011", "first_name": "…",
                                          "last_name": "…", "birth_date": "1986-07-03"}}
    ← 200 {"result": "NOT_FOUND"}
    ← 200 {"result": "BIRTH_DATE_MISMATCH"}

Shahkar (is this mobile line registered to this national code?)::

    → {"national_code": "0010000011", "mobile": "09121234567"}
    ← 200 {"match": true}     or     {"match": false}

Connection errors, read timeouts and 500/502/503/504 are retried ``MANA_IDENTITY_RETRIES`` times
(urllib3 Retry, exponential backoff from ``MANA_IDENTITY_RETRY_BACKOFF`` seconds; lookups change
nothing, so repeating a POST is safe). Timeouts are ``MANA_IDENTITY_CONNECT_TIMEOUT`` and
``MANA_IDENTITY_READ_TIMEOUT`` per try. What is still failing afterwards, any other status, and any
answer not in the shapes above is an :class:`IdentityServiceError`. ``MANA_IDENTITY_CA_BUNDLE``
names a CA file for services whose certificates a private (government) CA signed.
"""

from __future__ import annotations

import datetime
import logging

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from integrations.identity.base import (
    BirthDateMismatch,
    IdentityServiceError,
    RegistryPerson,
    clean_mobile,
    clean_national_code,
    parse_birth_date,
)
from integrations.redaction import describe_exception

logger = logging.getLogger("integrations.identity")

_RETRIED_STATUSES = (500, 502, 503, 504)


def _post(service: str, url: str, token: str, payload: dict) -> dict:
    if not url:
        raise IdentityServiceError(f"{service}: its URL is not configured")
    retries = settings.MANA_IDENTITY_RETRIES
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        backoff_factor=settings.MANA_IDENTITY_RETRY_BACKOFF,
        backoff_max=5,
        status_forcelist=_RETRIED_STATUSES,
        allowed_methods=frozenset({"POST"}),
        # The last 5xx answer is returned rather than raised, and reported with its status below.
        raise_on_status=False,
        # A Retry-After of minutes would hold the person's request that long.
        respect_retry_after_header=False,
    )
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    timeout = (settings.MANA_IDENTITY_CONNECT_TIMEOUT, settings.MANA_IDENTITY_READ_TIMEOUT)
    try:
        with requests.Session() as session:
            session.mount("https://", HTTPAdapter(max_retries=retry))
            session.mount("http://", HTTPAdapter(max_retries=retry))
            # No redirects: the person's data and the token go to the configured URL or nowhere.
            response = session.post(
                url,
                json=payload,
                headers=headers,
                timeout=timeout,
                verify=settings.MANA_IDENTITY_CA_BUNDLE or True,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        if _timed_out(exc):
            error = IdentityServiceError(
                f"{service}: no answer in time after {retries + 1} tries "
                f"(connect {timeout[0]} s, read {timeout[1]} s each)"
            )
        else:
            error = IdentityServiceError(f"{service}: unreachable: {describe_exception(exc, [token])}")
        logger.warning("%s", error)
        raise error from None
    if response.status_code != 200:
        error = IdentityServiceError(f"{service}: answered HTTP {response.status_code}")
        logger.warning("%s", error)
        raise error
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _garbage(service, "not a JSON object")
    return body


def _timed_out(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    # A read timeout that outlived its retries comes back as a ConnectionError around MaxRetryError.
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, ReadTimeoutError)


def _garbage(service: str, what: str) -> IdentityServiceError:
    error = IdentityServiceError(f"{service}: unusable answer ({what})")
    logger.warning("%s", error)
    return error


class HttpCivilRegistry:
    service = "civil registry"

    def lookup(self, *, national_code: str, birth_date: datetime.date | str) -> RegistryPerson | None:
        code = clean_national_code(national_code)
        born = parse_birth_date(birth_date)
        if code is None:
            return None
        body = _post(
            self.service,
            settings.MANA_CIVIL_REGISTRY_URL,
            settings.MANA_CIVIL_REGISTRY_TOKEN,
            {"national_code": code, "birth_date": born.isoformat()},
        )
        result = body.get("result")
        if result == "NOT_FOUND":
            return None
        if result == "BIRTH_DATE_MISMATCH":
            raise BirthDateMismatch
        if result != "FOUND":
            raise _garbage(self.service, "no known result")
        person = body.get("person")
        try:
            answer = RegistryPerson(
                national_code=clean_national_code(str(person["national_code"])) or "",
                first_name=str(person["first_name"]).strip(),
                last_name=str(person["last_name"]).strip(),
                birth_date=datetime.date.fromisoformat(str(person["birth_date"])),
            )
        except (TypeError, KeyError, ValueError):
            raise _garbage(self.service, "person incomplete") from None
        if answer.national_code != code or answer.birth_date != born or not answer.first_name or not answer.last_name:
            raise _garbage(self.service, "person does not match the question")
        return answer


class HttpShahkar:
    service = "Shahkar"

    def matches(self, *, national_code: str, mobile: str) -> bool:
        code, number = clean_national_code(national_code), clean_mobile(mobile)
        if code is None or number is None:
            return False
        body = _post(
            self.service,
            settings.MANA_SHAHKAR_URL,
            settings.MANA_SHAHKAR_TOKEN,
            {"national_code": code, "mobile": number},
        )
        match = body.get("match")
        if not isinstance(match, bool):
            raise _garbage(self.service, "no boolean match")
        return match
