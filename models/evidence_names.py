"""Evidence file names: people's real names are kept for display and download, not for storage.

Files are stored under a generated name (``models.evidence_files``), so the name a person gave
(«گزارش عملکرد ۱۴۰۲ (نهایی).pdf») is only ever shown and sent back in ``Content-Disposition``.
It is normalized, not policed: Unicode NFC (a macOS client sends decomposed letters), no
control or bidirectional-override characters (U+202E turns «photo‮fdp.exe» into what looks like
«photoexe.pdf»), only the last path component, a length cap that keeps the extension. What is
refused is what can hurt the person who downloads it: an executable hidden behind a second
extension (``report.exe.pdf``) and the device names Windows will not save (``CON``, ``COM1``).
"""

from __future__ import annotations

import re
import unicodedata

from models.errors import DomainError

MAX_NAME = 150
ZWNJ = "\u200c"  # نیم‌فاصله: part of Persian spelling («گزارش‌ها»), so not removed with the other format characters
# Unicode categories that are never part of a readable name: controls, format characters
# (bidirectional overrides, zero-width marks), surrogates, private use, unassigned, line breaks.
INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters Windows cannot save in a name; browsers replace them on download anyway, so the
# name shown is the name saved.
WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
SPACES = re.compile(r"\s+")
# Device names Windows reserves whatever the extension ("con.pdf" cannot be saved).
RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{device}{n}" for device in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")
}
# Extensions that run when opened (Windows, scripts, installers, macro-enabled Office): a name
# with one of these before its last extension is a disguise («report.exe.pdf»).
EXECUTABLE = {
    "app", "appref-ms", "application", "bash", "bat", "cmd", "com", "command", "cpl", "csh", "dll", "docm",
    "dotm", "exe", "gadget", "hta", "inf", "ins", "isp", "jar", "js", "jse", "ksh", "lnk", "msc", "msi", "msp",
    "ocx", "pif", "potm", "ppam", "ppsm", "pptm", "ps1", "ps1xml", "ps2", "psc1", "psd1", "psm1", "reg", "scf",
    "scr", "sct", "sh", "shb", "sys", "url", "vb", "vbe", "vbs", "ws", "wsc", "wsf", "wsh", "xlam", "xlsm",
    "xltm", "zsh",
}  # fmt: skip


def clean_file_name(raw: str | None) -> str:
    """The name to keep for display and download; ``FILE_NAME_INVALID`` for a dangerous or empty one."""
    name = unicodedata.normalize("NFC", raw or "")
    # Only the last path component, as Django's multipart parser already does for HTTP uploads
    # (old browsers send «C:\Users\...\report.pdf»): a separator is never part of a name.
    name = re.split(r"[/\\]", name)[-1]
    name = SPACES.sub(" ", name)  # a tab or a no-break space between words is a space, not nothing
    name = "".join(c for c in name if c == ZWNJ or unicodedata.category(c) not in INVISIBLE)
    name = WINDOWS_FORBIDDEN.sub("_", name)
    # Windows drops trailing dots and spaces when saving; leading and repeated spaces are noise.
    name = SPACES.sub(" ", name).strip(" " + ZWNJ).rstrip(". ")
    stem, dot, extension = name.rpartition(".")
    if len(name) > MAX_NAME:  # shortened, not refused: the extension is what must survive
        stem = stem[: max(MAX_NAME - len(extension) - 1, 0)].rstrip(" " + ZWNJ)
        name = f"{stem}.{extension}"[:MAX_NAME]
    if not dot or not stem.strip(". " + ZWNJ):
        raise _invalid("نام فایل باید نام و پسوندی مانند .pdf داشته باشد.")
    _check_not_dangerous(name)
    return name


def _check_not_dangerous(name: str) -> None:
    parts = name.split(".")
    device = parts[0].strip(" " + ZWNJ).upper()
    if device in RESERVED:
        raise _invalid(f"«{parts[0]}» نام رزروشده‌ی ویندوز است و نمی‌تواند نام فایل باشد.")
    for inner in parts[1:-1]:
        if inner.strip(" " + ZWNJ).lower() in EXECUTABLE:
            raise _invalid(f"نام فایل پسوند دوگانه‌ای دارد که یک فایل اجرایی (.{inner.strip()}) را پنهان می‌کند.")


def extension_of(name: str) -> str:
    return name.rpartition(".")[2].lower()


def _invalid(message: str) -> DomainError:
    return DomainError("FILE_NAME_INVALID", message, "file")
