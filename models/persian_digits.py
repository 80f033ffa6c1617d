"""One digit style in the admin console: Persian digits (۰-۹) in everything a person reads.

Numbers and dates reach a console page from many hands — Django's list cells and read-only fields,
paginators («۲ ارجاع»), messages («۳ توکن باطل شد»), simple-history's and guardian's templates,
people's own data — and each writes Latin digits. Rather than chase each one, the page is shaped
once on its way out (``PersianDigitsMiddleware``): the Latin digits of its *text* become Persian.
Left as they are:

* markup: tags and their attributes (links, ids, form values sent back) — but for the ones a
  person reads: title, placeholder, alt, aria-label; comments;
* what is code or typed text: ``<script>``, ``<style>``, ``<textarea>``, ``<pre>``, ``<code>``;
* a word that also holds Latin letters — a code «IR-23», a token prefix, a hash, a file name
  «report2.pdf», an address «https://…» — where Persian digits would make a different string.

Inputs accept both styles (models/admin_forms.py turns what is typed back into Latin digits);
their values are shown in Persian by the widgets themselves. Text that the console's scripts write
after the page loaded (the «۰ از ۳ انتخاب شده‌اند» counter) is shaped by the same rule in
static/mana_admin/persian_digits.js.
"""

from __future__ import annotations

import json
import re

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.urls import reverse

_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"\S+")
# An entity is markup: «&nbsp;12» is the word «12» after a space, «&#39;» holds no number.
_ENTITY = re.compile(r"(&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]\w*);)")
_TAG = r"<[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>"
_NOT_TEXT = re.compile(
    r"<!--.*?-->"
    rf"|<(script|style|textarea|pre|code)\b{_TAG[1:]}.*?</\1\s*>"
    rf"|{_TAG}",
    re.S | re.I,
)
_OPENING_TAG = re.compile(r"<[A-Za-z]" + _TAG[1:])
# Attributes a person reads: a tooltip, a placeholder, an image's or a control's name.
_READ_ATTRIBUTE = re.compile(r"(\s(?:title|placeholder|alt|aria-label)=)(\"[^\"]*\"|'[^']*')", re.I)


def _shape_word(match: re.Match) -> str:
    word = match.group()
    return word if _LATIN_LETTER.search(word) else word.translate(_TO_PERSIAN)


def persian_digits(text: str) -> str:
    """``text`` with the digits of its letter-free words in Persian: «1402/10/10» → «۱۴۰۲/۱۰/۱۰»."""
    parts = _ENTITY.split(text)
    # split() with a group: even items are text, odd ones the entities between them.
    return "".join(part if i % 2 else _WORD.sub(_shape_word, part) for i, part in enumerate(parts))


def _shape_markup(markup: str) -> str:
    """A tag (or a kept element: only its opening tag) with the attributes people read shaped."""
    opening = _OPENING_TAG.match(markup)
    if opening is None or markup.startswith(("<script", "<style")):
        return markup
    tag = _READ_ATTRIBUTE.sub(lambda m: m.group(1) + persian_digits(m.group(2)), opening.group())
    return tag + markup[opening.end() :]


def persian_digits_in_html(html: str) -> str:
    """``persian_digits`` applied to the text of an HTML page, its markup and code untouched."""
    shaped = []
    position = 0
    for match in _NOT_TEXT.finditer(html):
        shaped.append(persian_digits(html[position : match.start()]))
        shaped.append(_shape_markup(match.group()))
        position = match.end()
    shaped.append(persian_digits(html[position:]))
    return "".join(shaped)


class PersianDigitsMiddleware:
    """Persian digits in the admin console's pages and in its autocomplete answers (their «text»).

    Sync and async alike (Django's pattern for both), so that the GraphQL views, which are async,
    are not moved to a thread because of it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._admin_prefix: str | None = None
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._shape(request, self.get_response(request))

    async def _acall(self, request):
        return self._shape(request, await self.get_response(request))

    def _shape(self, request, response):
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        if not request.path.startswith(self._admin_prefix) or not self._can_rewrite(response):
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html"):
            self._replace(response, persian_digits_in_html(response.content.decode(response.charset)))
        elif content_type.startswith("application/json") and request.path.endswith("/autocomplete/"):
            answer = json.loads(response.content)
            for result in answer.get("results", []):
                result["text"] = persian_digits(str(result.get("text", "")))
            self._replace(response, json.dumps(answer, ensure_ascii=False))
        return response

    @staticmethod
    def _can_rewrite(response) -> bool:
        # A server error's page (DEBUG's traceback) is for whoever reads the code: left as it is.
        return response.status_code < 500 and not response.streaming and not response.has_header("Content-Encoding")

    @staticmethod
    def _replace(response, text: str) -> None:
        response.content = text.encode(response.charset)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
