"""Evidence files that are not what they seem (issue 7 §5), through the real multipart endpoint.

Macro-enabled Office documents renamed .docx/.xlsx/.doc/.xls, ZIP bombs and lying ZIPs are
refused with their own code and leave no row and no file behind; people's real file names
(Persian, spaces, parentheses) are kept, normalized, and come back in the download.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from urllib.parse import unquote, urlsplit

import pytest

from models.evidence_names import clean_file_name
from models.referrals import Evidence
from schema.ids import decode_global_id
from tests.conftest import GraphQLClient
from tests.evidence_helpers import download, evidence_state, minimal_pdf, post_upload, stored_files, upload
from tests.office_files import (
    EXCEL4_MACRO_SHEET,
    EXCEL_MACRO_MAIN,
    EXCEL_MAIN,
    OLE_OBJECT,
    VBA_PROJECT,
    WORD_MACRO_MAIN,
    WORD_MAIN,
    biff_workbook,
    compound_file,
    content_types,
    declare_size,
    docx,
    excel_97,
    package,
    vba_project,
    word_97,
    xlsx,
    xlsx_expanding_to,
)
from tests.workflow_helpers import build_chain

pytestmark = pytest.mark.django_db

PERSIAN = re.compile(r"[\u0600-\u06FF]")
PDF = minimal_pdf()
MB = 1024 * 1024


@pytest.fixture
def chain(demo, settings, tmp_path):
    """Amir holds an open referral (Ali → Fatemeh → Amir); evidence goes to a private root of this test."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    built = build_chain()
    return {**built, "child": built["child"]["id"], "root": settings.PRIVATE_MEDIA_ROOT}


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """The issue's example: a ~400 KB XLSX whose sheet expands to 400 MB (built once, ~2 s)."""
    return xlsx_expanding_to(400 * MB)


def assert_refused(chain, name: str, content: bytes, code: str) -> str:
    """Refused with ``code`` on the file, in Persian, and nothing kept: no row, no file, no version bumped."""
    before = evidence_state(chain["root"])
    result = upload(chain["amir"], chain["child"], name, content)
    assert result["evidence"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "file")], result["errors"]
    assert PERSIAN.search(result["errors"][0]["message"]), result["errors"]
    assert evidence_state(chain["root"]) == before
    assert Evidence.objects.count() == 0
    assert stored_files(chain["root"]) == []
    return result["errors"][0]["message"]


def assert_accepted(chain, name: str, content: bytes) -> dict:
    result = upload(chain["amir"], chain["child"], name, content)
    assert result["errors"] == [], result["errors"]
    return result["evidence"]


# --- macros ----------------------------------------------------------------------------------

VBA_BIN = {"bin": VBA_PROJECT}

MACRO_FILES = {
    # A .docm renamed: the VBA project, its content type, and the macro-enabled main part.
    "docm renamed": (
        "narrative.docx",
        docx(
            parts={"word/vbaProject.bin": vba_project()},
            types=content_types({"word/document.xml": WORD_MACRO_MAIN}, VBA_BIN),
        ),
    ),
    "vbaProject.bin part only": ("narrative.docx", docx(parts={"word/vbaProject.bin": vba_project()})),
    "macro-enabled main content type only": ("narrative.docx", docx(main_type=WORD_MACRO_MAIN)),
    "VBA project under another name, declared by extension": (
        "narrative.docx",
        docx(
            parts={"word/media/image1.bin": vba_project()},
            types=content_types({"word/document.xml": WORD_MAIN}, VBA_BIN),
        ),
    ),
    "content type spelled with character references": (
        "narrative.docx",
        docx(types=content_types({"word/document.xml": WORD_MACRO_MAIN.replace("macro", "&#x6D;acro")})),
    ),
    "embedded OLE object holding a VBA project": (
        "narrative.docx",
        docx(
            parts={"word/embeddings/oleObject1.bin": vba_project()},
            types=content_types({"word/document.xml": WORD_MAIN}, {"bin": OLE_OBJECT}),
        ),
    ),
    "xlsm renamed": (
        "figures.xlsx",
        xlsx(
            parts={"xl/vbaProject.bin": vba_project()},
            types=content_types({"xl/workbook.xml": EXCEL_MACRO_MAIN}, VBA_BIN),
        ),
    ),
    "Excel 4 macro sheet": (
        "figures.xlsx",
        xlsx(
            parts={"xl/macrosheets/sheet1.xml": "<xm:macrosheet xmlns:xm='urn:xm'/>"},
            types=content_types({"xl/workbook.xml": EXCEL_MAIN, "xl/macrosheets/sheet1.xml": EXCEL4_MACRO_SHEET}),
        ),
    ),
    "Word 97 with a Macros storage": ("old_report.doc", word_97(macros=True)),
    "Word 97 with an embedded workbook's VBA": (
        "old_report.doc",
        word_97(extra={"ObjectPool/_1234/_VBA_PROJECT_CUR/VBA/dir": b"\x01"}),
    ),
    "Excel 97 with a _VBA_PROJECT_CUR storage": ("old_figures.xls", excel_97(macros=True)),
    "Excel 97 with an Excel 4 macro sheet": ("old_figures.xls", excel_97(macro_sheet=True)),
}


@pytest.mark.parametrize("name, content", MACRO_FILES.values(), ids=MACRO_FILES.keys())
def test_macro_enabled_office_files_are_refused(chain, name, content):
    message = assert_refused(chain, name, content, "FILE_MACROS_NOT_ALLOWED")
    assert "ماکرو" in message


CLEAN_FILES = {
    "docx with an embedded Word 97 object": (
        "narrative.docx",
        docx(
            parts={"word/embeddings/oleObject1.bin": word_97()},
            types=content_types({"word/document.xml": WORD_MAIN}, {"bin": OLE_OBJECT}),
        ),
    ),
    "xlsx with a worksheet": ("figures.xlsx", xlsx(parts={"xl/worksheets/sheet1.xml": "<worksheet/>" * 100})),
    "Word 97": ("old_report.doc", word_97()),
    "Excel 97 with a worksheet and a chart sheet": (
        "old_figures.xls",
        compound_file({"Workbook": biff_workbook(("Sheet1", 0), ("Chart1", 2))}),
    ),
}


@pytest.mark.parametrize("name, content", CLEAN_FILES.values(), ids=CLEAN_FILES.keys())
def test_the_same_files_without_macros_are_kept(chain, name, content):
    """The macro is what is refused, not the container or the embedded object."""
    evidence = assert_accepted(chain, name, content)
    assert download(chain["amir"], evidence["url"])[1] == content


# --- not what the extension says ------------------------------------------------------------


def _duplicate_parts() -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        archive.writestr("[Content_Types].xml", content_types({"word/document.xml": WORD_MAIN}))
        archive.writestr("word/document.xml", "<w:document xmlns:w='urn:w'/>")
        archive.writestr("WORD/Document.xml", "<w:document xmlns:w='urn:w'/>")
    return buffer.getvalue()


MISMATCHED_FILES = {
    "ZIP with a Word folder but no word/document.xml": (
        "narrative.docx",
        package({"[Content_Types].xml": content_types({}), "word/styles.xml": "<w:styles xmlns:w='urn:w'/>"}),
    ),
    "no [Content_Types].xml": ("narrative.docx", package({"word/document.xml": "<w:document xmlns:w='urn:w'/>"})),
    "a DTD in [Content_Types].xml (entity expansion)": (
        "narrative.docx",
        docx(types='<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">]><Types>&a;</Types>'),
    ),
    "malformed [Content_Types].xml": ("narrative.docx", docx(types="<Types><Default")),
    "two parts of one name": ("narrative.docx", _duplicate_parts()),
    "truncated (no central directory)": ("narrative.docx", docx()[:-40]),
    "Word 97 named .xls": ("old_figures.xls", word_97()),
    "compound file without a main stream": ("old_report.doc", compound_file({"Data": b"\x00"})),
}


@pytest.mark.parametrize("name, content", MISMATCHED_FILES.values(), ids=MISMATCHED_FILES.keys())
def test_office_files_that_are_not_what_they_claim_are_refused(chain, name, content):
    assert_refused(chain, name, content, "FILE_CONTENT_MISMATCH")


# --- ZIP bombs -------------------------------------------------------------------------------


def test_zip_bomb_from_the_issue_is_refused(chain, bomb):
    assert len(bomb) < 500 * 1024  # what travels is small...
    assert (
        sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 400 * MB
    )  # ...what it holds is not
    message = assert_refused(chain, "figures.xlsx", bomb, "FILE_ARCHIVE_TOO_LARGE")
    assert "100 مگابایت" in message, message


def test_a_zip_that_lies_about_its_sizes_is_refused(chain, bomb):
    """Its central directory declares 1 KB for the 400 MB sheet: zipfile inflates no further and the CRC fails."""
    liar = declare_size(bomb, "xl/worksheets/sheet1.xml", 1000)
    assert sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(liar)).infolist()) < 2000
    assert_refused(chain, "figures.xlsx", liar, "FILE_CONTENT_MISMATCH")


def test_expansion_ratio_is_limited(chain, settings):
    """5 MB of zeros in a file of a few KB: under the total, over 100 to 1."""
    dense = xlsx_expanding_to(5 * MB)
    assert len(dense) * 100 < 5 * MB < settings.EVIDENCE_ARCHIVE_MAX_BYTES
    message = assert_refused(chain, "figures.xlsx", dense, "FILE_ARCHIVE_TOO_LARGE")
    assert "100 برابر" in message, message
    settings.EVIDENCE_ARCHIVE_MAX_RATIO = 10_000  # the setting opens it
    assert_accepted(chain, "figures.xlsx", dense)


def test_expansion_limits_are_inclusive_and_configurable(chain, settings):
    content = xlsx(parts={f"xl/worksheets/sheet{n}.xml": "<worksheet/>" for n in range(1, 4)})  # 5 parts
    total = sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(content)).infolist())
    settings.EVIDENCE_ARCHIVE_MAX_ENTRIES = 4
    message = assert_refused(chain, "figures.xlsx", content, "FILE_ARCHIVE_TOO_LARGE")
    assert "4 جزء" in message, message
    settings.EVIDENCE_ARCHIVE_MAX_ENTRIES, settings.EVIDENCE_ARCHIVE_MAX_BYTES = 5, total - 1
    assert_refused(chain, "figures.xlsx", content, "FILE_ARCHIVE_TOO_LARGE")
    settings.EVIDENCE_ARCHIVE_MAX_BYTES = total
    assert_accepted(chain, "figures.xlsx", content)


# --- people's file names ---------------------------------------------------------------------

KEPT_NAMES = {
    "Persian with a space": ("گزارش عملکرد.pdf", "گزارش عملکرد.pdf"),
    "Persian digits, parentheses, a dash": (
        "گزارش عملکرد ۱۴۰۲ (نهایی) - نسخه ۲.pdf",
        "گزارش عملکرد ۱۴۰۲ (نهایی) - نسخه ۲.pdf",
    ),
    "Arabic yeh and kaf": ("گزارش يك.pdf", "گزارش يك.pdf"),
    "Latin with a space and parentheses": ("my report (final).pdf", "my report (final).pdf"),
    "decomposed (NFD) letters stored composed": (unicodedata.normalize("NFD", "آمار مؤسسه.pdf"), "آمار مؤسسه.pdf"),
    "percent and hash, which an address must escape": ("50% of target #1.pdf", "50% of target #1.pdf"),
    "characters Windows cannot save": ("گزارش: نهایی?.pdf", "گزارش_ نهایی_.pdf"),
    "a right-to-left override hiding nothing": ("report\u202efdp.pdf", "reportfdp.pdf"),
    "too long: shortened, the extension kept": ("گزارش " * 40 + "نهایی.pdf", ("گزارش " * 40)[:146].rstrip() + ".pdf"),
}


def disposition_file_name(header: str) -> str:
    """The name a browser saves under: RFC 6266 ``filename*=utf-8''…`` (RFC 5987) or a quoted ``filename``."""
    if match := re.fullmatch(r"attachment; filename\*=utf-8''([!#$&+^`|~%\w.-]+)", header):
        return unquote(match.group(1), errors="strict")
    match = re.fullmatch(r'attachment; filename="((?:[^"\\]|\\.)*)"', header)
    assert match, header
    return re.sub(r"\\(.)", r"\1", match.group(1))


@pytest.mark.parametrize("sent, kept", KEPT_NAMES.values(), ids=KEPT_NAMES.keys())
def test_real_file_names_are_kept_normalized_and_downloadable(chain, sent, kept):
    assert unicodedata.is_normalized("NFC", kept) and len(kept) <= 150
    evidence = assert_accepted(chain, sent, PDF)
    assert evidence["fileName"] == kept
    _, pk = decode_global_id(evidence["id"], "Evidence")
    row = Evidence.objects.get(pk=pk)
    assert row.file_name == kept
    assert stored_files(chain["root"]) == [row.storage_name]  # still stored under the generated name
    # The address is ASCII (percent-encoded UTF-8) and names the file.
    url = evidence["url"]
    assert url.isascii() and " " not in url, url
    assert unquote(url, errors="strict") == f"http://testserver/evidence/{pk}/{kept}"
    for person in ("amir", "fatemeh", "ali"):
        response, body = download(chain[person], url)
        assert response.status_code == 200, person
        assert body == PDF
        assert disposition_file_name(response["Content-Disposition"]) == kept


def test_persian_download_header_is_rfc_5987(chain):
    evidence = assert_accepted(chain, "گزارش عملکرد.pdf", PDF)
    response, _ = download(chain["amir"], evidence["url"])
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4%20%D8%B9%D9%85%D9%84%DA%A9%D8%B1%D8%AF.pdf"
    )
    assert evidence["url"].endswith("/%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4%20%D8%B9%D9%85%D9%84%DA%A9%D8%B1%D8%AF.pdf")
    # Another name for the same id is not found, Persian or not.
    pk = urlsplit(evidence["url"]).path.split("/")[2]
    assert download(chain["amir"], f"/evidence/{pk}/%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4.pdf")[0].status_code == 404


REFUSED_NAMES = {
    "an executable behind a second extension": ("report.exe.pdf", "FILE_NAME_INVALID"),
    "the same in Persian and capitals": ("گزارش.EXE.pdf", "FILE_NAME_INVALID"),
    "a script, with a space before the last dot": ("invoice.js .docx", "FILE_NAME_INVALID"),
    "a screensaver in the middle": ("report.scr.final.pdf", "FILE_NAME_INVALID"),
    "a macro-enabled workbook's extension": ("figures.xlsm.xlsx", "FILE_NAME_INVALID"),
    "reserved device name": ("CON.pdf", "FILE_NAME_INVALID"),
    "reserved device name, any case": ("com1.docx", "FILE_NAME_INVALID"),
    "reserved device name with more dots": ("Nul.report.pdf", "FILE_NAME_INVALID"),
    "reserved printer port": ("LPT9.xlsx", "FILE_NAME_INVALID"),
    "only an extension": (".pdf", "FILE_NAME_INVALID"),
    "only dots": ("....pdf", "FILE_NAME_INVALID"),
    "no extension": ("گزارش عملکرد", "FILE_NAME_INVALID"),
    # A right-to-left override shows «photoexe.pdf»; the name is cleaned and the .exe seen.
    "bidi override disguising an executable": ("photo\u202efdp.exe", "FILE_TYPE_NOT_ALLOWED"),
    "bidi override disguising a double extension": ("report\u202efdp.exe.pdf", "FILE_NAME_INVALID"),
}


@pytest.mark.parametrize("name, code", REFUSED_NAMES.values(), ids=REFUSED_NAMES.keys())
def test_dangerous_file_names_are_refused(chain, name, code):
    assert_refused(chain, name, PDF, code)


def test_zwnj_survives_the_multipart_parser(chain):
    """Django's parser drops non-printable characters; schema/multipart_names.py keeps the half-space."""
    assert assert_accepted(chain, "گزارش‌ها.pdf", PDF)["fileName"] == "گزارش‌ها.pdf"
    assert assert_accepted(chain, "گزارش\u00a0عملکرد.pdf", PDF)["fileName"] == "گزارش عملکرد.pdf"


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("گزارش‌ها.pdf", "گزارش‌ها.pdf"),  # ZWNJ is Persian spelling: kept
        ("C:\\Users\\amir\\گزارش.pdf", "گزارش.pdf"),  # a path: its last component (as Django's parser does)
        ("../../etc/report.pdf", "report.pdf"),
        ("گزارش\tعملکرد.pdf\n", "گزارش عملکرد.pdf"),  # control whitespace is a space, trailing space dropped
        ("گزارش\u00a0عملکرد.pdf", "گزارش عملکرد.pdf"),  # no-break space
        ("re\x00port\u200b\u2066.pdf", "report.pdf"),  # NUL, zero-width space, bidi isolate: removed
        ("report.pdf...", "report.pdf"),  # Windows drops trailing dots
        (unicodedata.normalize("NFD", "résumé.pdf"), "résumé.pdf"),
    ],
)
def test_name_normalization_in_the_domain(raw, kept):
    """What Django's multipart parser already removes before HTTP uploads reach the domain, handled there too."""
    assert clean_file_name(raw) == kept


def test_anonymous_multipart_is_still_unauthenticated(chain):
    """The new checks run after the sign-in check: an anonymous bomb costs nothing."""
    body = post_upload(GraphQLClient(), chain["child"], "figures.xlsx", xlsx_expanding_to(MB))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert stored_files(chain["root"]) == []
