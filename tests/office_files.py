"""Office documents for the evidence tests, built here byte by byte so that each is exactly what it claims.

``olefile`` reads OLE2 compound files but cannot create one, so ``compound_file`` writes the
smallest valid one (CFB version 3: 512-byte sectors, one FAT, no mini stream, every stream
padded to the 4096-byte mini-stream cutoff so that it lives in regular sectors).
"""

from __future__ import annotations

import io
import struct
import zipfile

import olefile

SECTOR = 512
MINI_STREAM_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5
BLACK = 1

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
EXCEL_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_PROJECT = "application/vnd.ms-office.vbaProject"
EXCEL4_MACRO_SHEET = "application/vnd.ms-excel.macrosheet+xml"
OLE_OBJECT = "application/vnd.openxmlformats-officedocument.oleObject"


# --- OLE2 compound files -----------------------------------------------------------------------


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.children: dict[str, _Entry] = {}
        self.left = self.right = self.child = NOSTREAM
        self.start, self.size = ENDOFCHAIN, 0


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE2 file holding ``{"Storage/Sub/Stream": data}``; storages are made as the paths need them."""
    root = _Entry("Root Entry", ROOT)
    for path, data in streams.items():
        *storages, name = path.split("/")
        node = root
        for storage in storages:
            node = node.children.setdefault(storage, _Entry(storage, STORAGE))
        node.children[name] = _Entry(name, STREAM, data.ljust(MINI_STREAM_CUTOFF, b"\0"))
    entries = [root]
    _link(root, entries)
    streams_in_order = [entry for entry in entries if entry.kind == STREAM]
    dir_sectors = -(-len(entries) * 128 // SECTOR)
    data_sectors = sum(-(-len(entry.data) // SECTOR) for entry in streams_in_order)
    fat_sectors = 1
    while (fat_sectors + dir_sectors + data_sectors) > fat_sectors * SECTOR // 4:
        fat_sectors += 1
    fat = [FATSECT] * fat_sectors
    first_dir = len(fat)
    fat += [*range(first_dir + 1, first_dir + dir_sectors), ENDOFCHAIN]
    body = b""
    for entry in streams_in_order:
        count = -(-len(entry.data) // SECTOR)
        entry.start, entry.size = len(fat), len(entry.data)
        fat += [*range(entry.start + 1, entry.start + count), ENDOFCHAIN]
        body += entry.data.ljust(count * SECTOR, b"\0")
    fat += [FREESECT] * (fat_sectors * SECTOR // 4 - len(fat))
    directory = b"".join(_directory_entry(entry) for entry in entries).ljust(dir_sectors * SECTOR, b"\0")
    difat = list(range(fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        olefile.MAGIC, b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, fat_sectors, first_dir, 0, MINI_STREAM_CUTOFF, ENDOFCHAIN, 0, ENDOFCHAIN, 0, *difat,
    )  # fmt: skip
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + body


def _link(storage: _Entry, entries: list[_Entry]) -> None:
    """Children as a chain of right siblings, in the order CFB compares names (a valid, if unbalanced, tree)."""
    children = sorted(storage.children.values(), key=lambda entry: (len(entry.name), entry.name.upper()))
    indexes = []
    for child in children:
        indexes.append(len(entries))
        entries.append(child)
    if indexes:
        storage.child = indexes[0]
    for child, following in zip(children, indexes[1:], strict=False):
        child.right = following
    for child in children:
        _link(child, entries)


def _directory_entry(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le") + b"\0\0"
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, len(name), entry.kind, BLACK, entry.left, entry.right, entry.child, b"\0" * 16, 0, 0, 0,
        entry.start, entry.size,
    )  # fmt: skip


VBA_PROJECT_STREAMS = {"VBA/dir": b"\x01" * 64, "VBA/_VBA_PROJECT": b"\xcc\x61", "PROJECT": b'ID="{00000000}"'}


def vba_project() -> bytes:
    """What ``vbaProject.bin`` is: an OLE2 file with a VBA storage."""
    return compound_file(VBA_PROJECT_STREAMS)


def word_97(*, macros: bool = False, extra: dict[str, bytes] | None = None) -> bytes:
    """A Word 97-2003 document: a ``WordDocument`` stream (FIB magic 0xA5EC) and its table stream."""
    streams = {"WordDocument": b"\xec\xa5\xc1\x00", "1Table": b"\x00"}
    if macros:
        streams |= {f"Macros/{path}": data for path, data in VBA_PROJECT_STREAMS.items()}
    return compound_file(streams | (extra or {}))


def biff_workbook(*sheets: tuple[str, int]) -> bytes:
    """Workbook globals in BIFF8: BOF, a BoundSheet8 per ``(name, dt)`` (0 worksheet, 1 Excel 4 macro sheet), EOF."""

    def record(kind: int, body: bytes) -> bytes:
        return struct.pack("<HH", kind, len(body)) + body

    out = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    for name, dt in sheets:
        out += record(0x0085, struct.pack("<IBBBB", 0, 0, dt, len(name), 0) + name.encode("latin-1"))
    return out + record(0x000A, b"")


def excel_97(*, macros: bool = False, macro_sheet: bool = False) -> bytes:
    """An Excel 97-2003 workbook: a ``Workbook`` stream with BIFF8 globals."""
    sheets = [("Sheet1", 0)] + ([("Macro1", 1)] if macro_sheet else [])
    streams = {"Workbook": biff_workbook(*sheets)}
    if macros:
        streams |= {f"_VBA_PROJECT_CUR/{path}": data for path, data in VBA_PROJECT_STREAMS.items()}
    return compound_file(streams)


# --- Office Open XML ---------------------------------------------------------------------------


def content_types(overrides: dict[str, str], defaults: dict[str, str] | None = None) -> str:
    defaults = {"xml": "application/xml", "rels": "application/vnd.openxmlformats-package.relationships+xml"} | (
        defaults or {}
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + "".join(f'<Default Extension="{ext}" ContentType="{kind}"/>' for ext, kind in defaults.items())
        + "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
        + "</Types>"
    )


def package(parts: dict[str, bytes | str]) -> bytes:
    """A ZIP package with the parts in this order (``[Content_Types].xml`` first, as Office writes it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(*, main_type: str = WORD_MAIN, parts: dict[str, bytes | str] | None = None, types: str | None = None) -> bytes:
    return package(
        {
            "[Content_Types].xml": types or content_types({"word/document.xml": main_type}),
            "word/document.xml": '<?xml version="1.0"?><w:document xmlns:w="urn:w"/>',
            **(parts or {}),
        }
    )


def xlsx(
    *, main_type: str = EXCEL_MAIN, parts: dict[str, bytes | str] | None = None, types: str | None = None
) -> bytes:
    return package(
        {
            "[Content_Types].xml": types or content_types({"xl/workbook.xml": main_type}),
            "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="urn:x"/>',
            **(parts or {}),
        }
    )


def xlsx_expanding_to(size: int) -> bytes:
    """An XLSX whose one sheet is ``size`` zero bytes, written in chunks: ~1 KB of file per MB declared."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", content_types({"xl/workbook.xml": EXCEL_MAIN}))
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="urn:x"/>')
        chunk = b"\0" * (1024 * 1024)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for offset in range(0, size, len(chunk)):
                sheet.write(chunk[: size - offset])
    return buffer.getvalue()


def declare_size(data: bytes, part: str, size: int) -> bytes:
    """The package with ``part``'s uncompressed size rewritten (local and central headers): a lying ZIP."""
    out = bytearray(data)
    name = part.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(part).header_offset
    struct.pack_into("<I", out, local + 22, size)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 46)
    return bytes(out)
