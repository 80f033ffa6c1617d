"""Evidence files (مستندات): what may be uploaded, and where it is kept.

Only PDF, DOC, DOCX, XLS and XLSX. The content must match the extension — a PDF and the ZIP
container of DOCX/XLSX by their signature with the ``filetype`` library, so a renamed .exe or a
.txt that starts like a PDF is refused; Office documents are then opened and checked for what
they are, for macros and for what they expand to (``models.office_documents``). The name people
gave is kept, normalized, for display and download (``models.evidence_names``); files are stored
under a generated name in ``PRIVATE_MEDIA_ROOT``, outside every public path, and are served only
by ``resolvers.downloads.evidence_download`` after a scope check.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import filetype
from django.conf import settings

from models.errors import DomainError
from models.evidence_names import clean_file_name, extension_of
from models.office_documents import check_ole2, check_ooxml, content_mismatch
from models.referrals import Evidence, Performance
from models.sizes import readable_size

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def storage_path(storage_name: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "evidence" / storage_name


def check_file_name(name: str) -> str:
    """The lower-case extension of an acceptable file name; DomainError otherwise."""
    extension = extension_of(clean_file_name(name))
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
    return DomainError("FILE_TOO_LARGE", f"حجم فایل نباید از {readable_size(limit)} بیشتر باشد.", "file")


def check_content(extension: str, data: bytes) -> None:
    if not data:
        raise DomainError("FILE_EMPTY", "فایل خالی است.", "file")
    if extension in ("doc", "xls"):
        # Word and Excel 97-2003 are both OLE2 compound files, told apart by their main stream.
        check_ole2(extension, data)
        return
    kind = filetype.guess(data)
    if kind is None or kind.extension != extension:
        raise content_mismatch(extension)
    if extension in ("docx", "xlsx"):
        check_ooxml(extension, data)


def write_private_file(data: bytes) -> str:
    """Keep checked content under a generated name (what the row stores as ``storage_name``)."""
    storage_name = uuid.uuid4().hex
    path = storage_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return storage_name


def store_evidence(*, actor, performance: Performance, file_name: str, extension: str, data: bytes) -> Evidence:
    storage_name = write_private_file(data)
    path = storage_path(storage_name)
    try:
        return Evidence.objects.create(
            performance=performance,
            # check_file_name accepted it; the same normalization gives the name kept.
            file_name=clean_file_name(file_name),
            content_type=CONTENT_TYPES[extension],
            size=len(data),
            storage_name=storage_name,
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor,
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
