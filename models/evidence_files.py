"""Evidence files (مستندات): what may be uploaded, and where it is kept.

Only PDF, DOC, DOCX, XLS and XLSX, with file names of Latin letters, digits, ``-`` and ``_`` (the
user guide's rule). The content must match the extension — detected by its signature with the
``filetype`` library, so a renamed .exe or a .txt that starts like a PDF is refused. Files are
stored under a generated name in ``PRIVATE_MEDIA_ROOT``, outside every public path, and are
served only by ``schema.views.evidence_download`` after a scope check.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import filetype
from django.conf import settings

from models.errors import DomainError
from models.referrals import Evidence, Performance

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILE_NAME = re.compile(r"[A-Za-z0-9_-]+\.([A-Za-z]+)")  # used with fullmatch: ``$`` would let "x.pdf\n" through
# Word 97-2003 and Excel 97-2003 files are both OLE2 compound files; filetype tells them apart
# only by a few internal markers that some producers do not write, so for these two the
# container signature is what is required.
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_NAME = 150


def storage_path(storage_name: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "evidence" / storage_name


def check_file_name(name: str) -> str:
    """The lower-case extension of an acceptable file name; DomainError otherwise."""
    match = FILE_NAME.fullmatch(name or "")
    if not match or len(name) > MAX_NAME:
        raise DomainError(
            "FILE_NAME_INVALID",
            "نام فایل تنها می‌تواند شامل حروف و اعداد لاتین و نویسه‌های - و _ باشد (بدون فاصله).",
            "file",
        )
    extension = match.group(1).lower()
    if extension not in CONTENT_TYPES:
        raise DomainError(
            "FILE_TYPE_NOT_ALLOWED", "تنها فایل‌هایی با قالب PDF، DOC، DOCX، XLS و XLSX پذیرفته می‌شود.", "file"
        )
    return extension


def read_limited(uploaded) -> bytes:
    limit = settings.EVIDENCE_MAX_BYTES
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise _too_large(limit)
    chunks, total = [], 0
    for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]:
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> DomainError:
    return DomainError("FILE_TOO_LARGE", f"حجم فایل نباید از {_readable_size(limit)} بیشتر باشد.", "file")


def _readable_size(size: int) -> str:
    """``10 مگابایت``, ``1.5 مگابایت``, ``512 کیلوبایت``: never a limit rounded down to «0 مگابایت»."""
    for unit, name in ((1024 * 1024, "مگابایت"), (1024, "کیلوبایت")):
        if size >= unit:
            return f"{round(size / unit, 1):g} {name}"
    return f"{size} بایت"


def check_content(extension: str, data: bytes) -> None:
    if not data:
        raise DomainError("FILE_EMPTY", "فایل خالی است.", "file")
    if extension in ("doc", "xls"):
        matches = data.startswith(OLE2)
    else:
        kind = filetype.guess(data)
        matches = kind is not None and kind.extension == extension
    if not matches:
        raise DomainError("FILE_CONTENT_MISMATCH", f"محتوای فایل با پسوند .{extension} آن هم‌خوانی ندارد.", "file")


def store_evidence(*, actor, performance: Performance, file_name: str, extension: str, data: bytes) -> Evidence:
    storage_name = uuid.uuid4().hex
    path = storage_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        return Evidence.objects.create(
            performance=performance,
            file_name=file_name,
            content_type=CONTENT_TYPES[extension],
            size=len(data),
            storage_name=storage_name,
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor,
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
