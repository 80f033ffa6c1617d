"""Uploaded file names as people write them in Persian.

Django's multipart parser drops every non-printable character from a file name, and so the
zero-width non-joiner (U+200C, «نیم‌فاصله»), which is part of Persian spelling: «گزارش‌ها.pdf»
would reach the domain as «گزارشها.pdf». This parser keeps it and turns other whitespace
(tab, no-break space) into a space; everything else is left to Django and then to the domain's
own cleaning (models/evidence_names.py), which decides what is kept and what is refused.
"""

from __future__ import annotations

import html

import django.http.request
from django.http.multipartparser import MultiPartParser

ZWNJ = "\u200c"


class PersianFileNameParser(MultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        file_name = html.unescape(file_name)
        file_name = file_name.rsplit("/")[-1].rsplit("\\")[-1]
        file_name = "".join(_kept(char) for char in file_name)
        if file_name in {"", ".", ".."}:
            return None
        return file_name


def _kept(char: str) -> str:
    if char.isprintable() or char == ZWNJ:
        return char
    return " " if char.isspace() else ""


def install() -> None:
    # HttpRequest.parse_file_upload names the parser class through its module's global, for
    # every request class (ASGI, WSGI, the test client): replacing that global is the one hook.
    django.http.request.MultiPartParser = PersianFileNameParser
