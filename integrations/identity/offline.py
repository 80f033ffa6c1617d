"""The offline identity services: answers from a JSON file of people (``MANA_IDENTITY_FIXTURE``).

The file is a list of ``{"national_code", "birth_date", "first_name", "last_name", "mobile"}``;
``birth_date`` Jalali («1365/04/12») or ISO («1986-07-03»), digits Persian or Latin, ``mobile``
optional. It is read again whenever it changes. People not in it are unknown.
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from integrations.identity.base import (
    BirthDateMismatch,
    IdentityServiceError,
    RegistryPerson,
    clean_mobile,
    clean_national_code,
    parse_birth_date,
)


@dataclass(frozen=True)
class _Entry:
    person: RegistryPerson
    mobile: str | None


_cache: dict[Path, tuple[tuple[int, int], dict[str, _Entry]]] = {}
_cache_lock = threading.Lock()


def _people(path: Path) -> dict[str, _Entry]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise IdentityServiceError(f"identity fixture {path} cannot be read: {exc.strerror}") from None
    version = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached and cached[0] == version:
            return cached[1]
    people = _load(path)
    with _cache_lock:
        _cache[path] = (version, people)
    return people


def _load(path: Path) -> dict[str, _Entry]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise ValueError("not a JSON list")
        people = {}
        for number, row in enumerate(rows, start=1):
            code = clean_national_code(str(row["national_code"]))
            if code is None:
                raise ValueError(f"entry {number}: invalid national code")
            mobile = clean_mobile(str(row["mobile"])) if row.get("mobile") else None
            person = RegistryPerson(
                national_code=code,
                first_name=str(row["first_name"]),
                last_name=str(row["last_name"]),
                birth_date=parse_birth_date(row["birth_date"]),
            )
            people[code] = _Entry(person=person, mobile=mobile)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IdentityServiceError(f"identity fixture {path} is not usable: {exc}") from None
    return people


def _fixture() -> dict[str, _Entry]:
    return _people(Path(settings.MANA_IDENTITY_FIXTURE))


class OfflineCivilRegistry:
    def lookup(self, *, national_code: str, birth_date: datetime.date | str) -> RegistryPerson | None:
        code = clean_national_code(national_code)
        born = parse_birth_date(birth_date)
        entry = _fixture().get(code) if code else None
        if entry is None:
            return None
        if entry.person.birth_date != born:
            raise BirthDateMismatch
        return entry.person


class OfflineShahkar:
    def matches(self, *, national_code: str, mobile: str) -> bool:
        code, number = clean_national_code(national_code), clean_mobile(mobile)
        entry = _fixture().get(code) if code else None
        return entry is not None and number is not None and entry.mobile == number
