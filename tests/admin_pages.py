"""What a person reads on an admin console page, and the rules it keeps (tests/test_admin_persian.py,
tests/test_admin_browser.py): Persian digits only, Jalali months only, no English label left."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Words a Persian reader may meet in Latin letters: acronyms, key names, a library's own Persian
# with its English term in brackets («عامل کاربر (User Agent)»).
ALLOWED_LATIN = {"API", "SHA-256", "IP", "HTTP", "User", "Agent", "Control", "Command", "Mac", "GET", "POST"}
# Labels, column names, statuses and words that were left in English before (issue 11, §7).
ENGLISH_LABELS = [
    "Version",
    "Created at",
    "Updated at",
    "Updated by",
    "Actor",
    "From status",
    "To status",
    "Reason",
    "Referral",
    "Performance",
    "Content type",
    "Content object",
    "Uploaded by",
    "Uploaded at",
    "Storage name",
    "Sha256",
    "Size",
    "Permission",
    "IN_PROGRESS",
    "SUBMITTED",
    "Model name",
    "View history",
    "Change history",
    "Object permissions",
    "Manage user",
    "Manage group",
    "Changed by",
    "Change reason",
    "Changes",
    "Comment",
    "Object",
    "Created",
    "Changed",
    "None",
    "True",
    "False",
    "entries",
    "historical",
    "Historical",
    "Can add",
    "Can change",
    "Can delete",
    "Can view",
    "Task Result",
    "Tasks Database Backend",
    "Axes",
    "Guardian",
    "Status",
    "Expiration",
    "Password-based",
    "Reset password",
    "Enabled",
    "Disabled",
    "Mana",
]
# Gregorian month names as Django writes them in Persian («۲۹ نوامبر ۲۰۲۶»).
GREGORIAN_MONTHS = [
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "ژوئن",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
]
# Where only the console's own words stand (not a record's name or data): form labels, column
# headers, filter titles, buttons.
LABEL_TAGS = {"label", "thead", "h3", "caption", "legend", "button"}
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_LATIN_DIGIT = re.compile(r"[0-9]")


class PageText(HTMLParser):
    """The text of a page a person reads, and separately that of its labels (headers, titles)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.labels: list[str] = []
        self._skip = 0
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag in {"script", "style", "textarea", "pre", "code", "template"}:
            self._skip += 1
        if tag not in {"input", "img", "br", "hr", "meta", "link"}:
            self._stack.append(tag)
        for name in ("title", "placeholder", "alt", "aria-label"):
            if attributes.get(name) and not self._skip:
                self.text.append(attributes[name])
        if tag == "input" and attributes.get("type") in {"submit", "button"} and attributes.get("value"):
            self.labels.append(attributes["value"])

    def handle_endtag(self, tag) -> None:
        if tag in {"script", "style", "textarea", "pre", "code", "template"} and self._skip:
            self._skip -= 1
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data) -> None:
        if self._skip or not data.strip():
            return
        self.text.append(data.strip())
        if LABEL_TAGS & set(self._stack):
            self.labels.append(data.strip())


def read(html: str) -> PageText:
    page = PageText()
    page.feed(html)
    return page


def problems(html: str, *, values_too: bool = True) -> list[str]:
    """What breaks the console's rules on this page: Latin digits in a number or date, a Gregorian
    month, an English label. A word that holds Latin letters (a code «IR-23», a file name) may
    hold Latin digits: that is the rule of models/persian_digits.py."""
    page = read(html)
    found = []
    for text in page.text:
        for word in text.split():
            if _LATIN_DIGIT.search(word) and not _LATIN_LETTER.search(word):
                found.append(f"Latin digits: {word!r} in {text[:80]!r}")
        for month in GREGORIAN_MONTHS:
            if re.search(rf"(?<!\w){month}(?!\w)", text):
                found.append(f"Gregorian month: {text[:80]!r}")
        for label in ENGLISH_LABELS:
            if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text):
                found.append(f"English: {label!r} in {text[:80]!r}")
    for label in page.labels:
        latin = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_-]*", label) if w not in ALLOWED_LATIN]
        if latin:
            found.append(f"Latin label: {label[:80]!r}")
    return found
