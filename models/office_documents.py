"""Office documents as evidence: is it what its extension says, does it carry macros, does it explode.

DOCX and XLSX are ZIP packages (Office Open XML): the main part must be there (``word/document.xml``,
``xl/workbook.xml``); a VBA project (``vbaProject.bin``) or a macro content type in
``[Content_Types].xml`` (``…macroEnabled…``, ``vbaProject``, ``vbaData``, Excel 4 ``macrosheet``)
means a macro-enabled document renamed, and is refused. The sizes the ZIP declares are checked
before anything is inflated (count, total, ratio); every part is then inflated once, in chunks and
thrown away, so that a central directory that lies about sizes is caught by ``zipfile``'s own
bounds (it never yields more than the declared size) and CRC check, and so that an embedded OLE2
object is checked for macros as well.

DOC and XLS are OLE2 compound files, read with ``olefile``: the main stream must be there
(``WordDocument``; ``Workbook`` or Excel 5's ``Book``), and a stream under a VBA storage
(``Macros`` in Word, ``_VBA_PROJECT_CUR`` in Excel, ``VBA``, anywhere, embedded objects included)
or an Excel 4 macro sheet in the workbook means macros.

Password-protected Office files are OLE2 containers whatever their extension and cannot be
inspected, so a protected DOCX or XLSX is refused as not being one.
"""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from xml.parsers import expat

import olefile
from django.conf import settings

from models.errors import DomainError
from models.sizes import readable_size

OLE2_MAGIC = olefile.MAGIC
OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
OLE2_MAIN_STREAMS = {"doc": {"worddocument"}, "xls": {"workbook", "book"}}
# Lower-case fragments of every content type that declares macros: macro-enabled documents,
# templates and add-ins (``…macroEnabled.main+xml``, ``…macroEnabled.12``), the VBA project and its
# signatures, Word's VBA data, Excel 4 macro sheets (``macrosheet``, ``intlmacrosheet``).
MACRO_CONTENT_TYPES = ("macroenabled", "vbaproject", "vbadata", "macrosheet")
VBA_STORAGES = {"macros", "_vba_project_cur", "vba"}
CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
CONTENT_TYPES_PART = "[content_types].xml"
# [Content_Types].xml is a few kilobytes; reading more than this of it is refused, whatever it declares.
CONTENT_TYPES_MAX_BYTES = 1024 * 1024
CHUNK = 64 * 1024
# An OLE2 part inside a package is copied to a temporary file past this size, not kept in memory.
SPOOL_IN_MEMORY = 1024 * 1024
# BIFF records of the workbook globals: BoundSheet8 declares each sheet with its type (dt).
BIFF_BOUNDSHEET, BIFF_EOF = 0x0085, 0x000A
BIFF_MACRO_SHEET_TYPES = {0x01, 0x06}  # Excel 4 macro sheet, Excel 5 VBA module sheet


def content_mismatch(extension: str) -> DomainError:
    return DomainError("FILE_CONTENT_MISMATCH", f"محتوای فایل با پسوند .{extension} آن هم‌خوانی ندارد.", "file")


def _macros(extension: str) -> DomainError:
    return DomainError(
        "FILE_MACROS_NOT_ALLOWED",
        f"این فایل .{extension} ماکرو (کد VBA) دارد؛ فایل را بدون ماکرو ذخیره و دوباره بارگذاری کنید.",
        "file",
    )


def _too_large(message: str) -> DomainError:
    return DomainError("FILE_ARCHIVE_TOO_LARGE", message, "file")


@contextmanager
def _unreadable_is_mismatch(extension: str) -> Iterator[None]:
    """Whatever a damaged or hostile container makes its reader raise, the answer is one code."""
    try:
        yield
    except DomainError:
        raise
    except Exception as error:  # zipfile, zlib, expat and olefile raise many kinds on bad input
        raise content_mismatch(extension) from error


# --- Office Open XML (DOCX, XLSX) ------------------------------------------------------------


def check_ooxml(extension: str, data: bytes) -> None:
    # Every entry zipfile parses starts with this signature, so counting it bounds the parse
    # (2 s and 270 MB for the 110,000 entries a 10 MB file can hold) before zipfile builds one object per entry.
    _check_entry_count(extension, data.count(CENTRAL_DIRECTORY_ENTRY))
    with _unreadable_is_mismatch(extension):
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    _check_expansion(extension, parts, len(data))
    by_name: dict[str, zipfile.ZipInfo] = {}
    for part in parts:
        name = part.filename.lower()  # part names are case-insensitive (OPC)
        if name in by_name:  # which of two equal names a reader takes is up to the reader
            raise content_mismatch(extension)
        by_name[name] = part
    if OOXML_MAIN_PART[extension] not in by_name or CONTENT_TYPES_PART not in by_name:
        raise content_mismatch(extension)
    if any("vbaproject" in name.rsplit("/", 1)[-1] for name in by_name):
        raise _macros(extension)
    with _unreadable_is_mismatch(extension):
        declared = _content_types(archive, by_name[CONTENT_TYPES_PART])
    if any(marker in content_type.lower() for content_type in declared for marker in MACRO_CONTENT_TYPES):
        raise _macros(extension)
    with _unreadable_is_mismatch(extension):
        for part in parts:
            _inflate(extension, archive, part)


def _check_entry_count(extension: str, count: int) -> None:
    if count > settings.EVIDENCE_ARCHIVE_MAX_ENTRIES:
        raise _too_large(f"فایل .{extension} بیش از {settings.EVIDENCE_ARCHIVE_MAX_ENTRIES} جزء دارد و پذیرفته نمی‌شود.")


def _check_expansion(extension: str, parts: list[zipfile.ZipInfo], size: int) -> None:
    """The sizes the central directory declares, before a byte is inflated."""
    _check_entry_count(extension, len(parts))
    total = sum(part.file_size for part in parts)
    limit, ratio = settings.EVIDENCE_ARCHIVE_MAX_BYTES, settings.EVIDENCE_ARCHIVE_MAX_RATIO
    if total > limit:
        raise _too_large(f"فایل .{extension} پس از باز شدن از {readable_size(limit)} بزرگ‌تر می‌شود و پذیرفته نمی‌شود.")
    if total > ratio * size:
        raise _too_large(f"فایل .{extension} پس از باز شدن بیش از {ratio:g} برابر حجم خود می‌شود و پذیرفته نمی‌شود.")


def _content_types(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> list[str]:
    """Every ContentType declared, read with a bounded inflate and an XML parser that takes no DTD."""
    with archive.open(part) as stream:
        raw = stream.read(CONTENT_TYPES_MAX_BYTES + 1)
    if len(raw) > CONTENT_TYPES_MAX_BYTES:
        raise _too_large("فهرست اجزای این سند بیش از اندازه بزرگ است و پذیرفته نمی‌شود.")
    declared: list[str] = []

    def element(name: str, attributes: dict) -> None:
        if "ContentType" in attributes:
            declared.append(attributes["ContentType"])

    def no_dtd(*args) -> None:  # OPC forbids DTDs; refusing them rules out entity expansion
        raise ValueError("DTD in [Content_Types].xml")

    parser = expat.ParserCreate()
    parser.StartElementHandler = element
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.Parse(raw, True)
    return declared


def _inflate(extension: str, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Inflate one part in chunks (zipfile stops at the declared size and checks the CRC)."""
    with archive.open(part) as stream:
        head = stream.read(CHUNK)
        if not head.startswith(OLE2_MAGIC):
            while stream.read(CHUNK):
                pass
            return
        # An embedded OLE2 object (or a VBA project under another name): its macros are macros too.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as copy:
            copy.write(head)
            while chunk := stream.read(CHUNK):
                copy.write(chunk)
            copy.seek(0)
            with olefile.OleFileIO(copy) as ole:
                if _has_vba(ole):
                    raise _macros(extension)


# --- OLE2 compound files (DOC, XLS) ----------------------------------------------------------


def check_ole2(extension: str, data: bytes) -> None:
    if not data.startswith(OLE2_MAGIC):
        raise content_mismatch(extension)
    with _unreadable_is_mismatch(extension), olefile.OleFileIO(io.BytesIO(data)) as ole:
        streams = ole.listdir(streams=True, storages=False)
        main = [path for path in streams if len(path) == 1 and path[0].lower() in OLE2_MAIN_STREAMS[extension]]
        if not main:
            raise content_mismatch(extension)
        if _has_vba(ole) or (extension == "xls" and _has_macro_sheet(ole, main[0])):
            raise _macros(extension)


def _has_vba(ole: olefile.OleFileIO) -> bool:
    """A stream under a VBA storage at any depth (embedded objects keep their own)."""
    return any(
        storage.lower() in VBA_STORAGES for path in ole.listdir(streams=True, storages=False) for storage in path[:-1]
    )


def _has_macro_sheet(ole: olefile.OleFileIO, workbook: list[str]) -> bool:
    """An Excel 4 (XLM) macro sheet or Excel 5 module sheet among the sheets the workbook declares."""
    stream = ole.openstream(workbook)
    while len(header := stream.read(4)) == 4:
        record, length = struct.unpack("<HH", header)
        body = stream.read(length)
        if record == BIFF_BOUNDSHEET and len(body) >= 6 and body[5] in BIFF_MACRO_SHEET_TYPES:
            return True
        if record == BIFF_EOF:  # the end of the globals, where every sheet is declared
            return False
    return False
