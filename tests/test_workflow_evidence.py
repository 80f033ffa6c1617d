"""Evidence files (مستندات) through the real endpoints: multipart upload, scope-checked download."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from urllib.parse import urlsplit

import filetype
import pytest

from models.evidence_files import check_file_name
from models.evidence_names import clean_file_name
from models.referrals import Evidence
from schema.ids import decode_global_id
from tests.conftest import GraphQLClient
from tests.evidence_helpers import download, minimal_pdf, post_upload, stored_files, upload
from tests.evidence_helpers import evidence_state as _state
from tests.office_files import excel_97, word_97
from tests.workflow_helpers import (
    AMIR,
    FINISH,
    HASAN,
    REFERRAL,
    SAVE,
    build_chain,
    client_for,
    mutate,
)

pytestmark = pytest.mark.django_db

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIDENCE_NODE = "query($id: ID!) { node(id: $id) { ... on Evidence { id fileName contentType size url } } }"
PERSIAN = re.compile(r"[\u0600-\u06FF]")
GENERATED_NAME = re.compile(r"^[0-9a-f]{32}$")


def ooxml(main_part: str) -> bytes:
    """A minimal Office Open XML package: ``[Content_Types].xml`` first, then the main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        package.writestr(main_part, '<?xml version="1.0" encoding="UTF-8"?><root/>')
    return buffer.getvalue()


def ole2_header_only() -> bytes:
    """The OLE2 signature and padding, not a compound file: a renamed file that only starts like one."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


PDF = minimal_pdf()
DOCX = ooxml("word/document.xml")
XLSX = ooxml("xl/workbook.xml")
DOC = word_97()  # Word and Excel 97-2003 as real compound files: the main stream is checked
XLS = excel_97()


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def chain(demo, private_root):
    """Ali (main leader) refers MOE-02 to Fatemeh, who refers it to Amir (IN_PROGRESS)."""
    built = build_chain()
    return {**built, "top": built["top"]["id"], "child": built["child"]["id"], "root": private_root}


def _referral(client: GraphQLClient, referral_id: str) -> dict:
    return client.data(REFERRAL, {"id": referral_id})["node"]


def _submit(chain) -> None:
    """Amir registers a value and presses finish: his referral is SUBMITTED."""
    amir, child = chain["amir"], chain["child"]
    assert mutate(amir, SAVE, {"referral": child, "version": 0, "value": "37"})["errors"] == []
    finished = mutate(amir, FINISH, {"referral": child, "version": _referral(amir, child)["version"]})
    assert finished["errors"] == []
    assert finished["referral"]["status"] == "SUBMITTED"


def test_the_test_documents_are_what_they_claim():
    assert filetype.guess(PDF).extension == "pdf"
    assert filetype.guess(DOCX).extension == "docx"
    assert filetype.guess(XLSX).extension == "xlsx"
    assert PDF.startswith(b"%PDF-1.4") and PDF.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("report-1402_Q4.pdf", PDF, PDF_TYPE),
        ("narrative.docx", DOCX, DOCX_TYPE),
        ("figures.xlsx", XLSX, XLSX_TYPE),
        ("old_report.doc", DOC, "application/msword"),
        ("OLD-FIGURES.XLS", XLS, "application/vnd.ms-excel"),
    ],
)
def test_assignee_uploads_each_allowed_type(chain, name, content, content_type):
    result = upload(chain["amir"], chain["child"], name, content)
    assert result["errors"] == []
    evidence = result["evidence"]
    _, pk = decode_global_id(evidence["id"], "Evidence")
    assert evidence == {
        "id": evidence["id"],
        "fileName": name,
        "contentType": content_type,
        "size": len(content),
        "url": f"http://testserver/evidence/{pk}/{name}",  # absolute: usable from another host as it is
    }
    # Kept under a generated name in the private root, byte for byte.
    row = Evidence.objects.get(pk=pk)
    files = stored_files(chain["root"])
    assert files == [row.storage_name]
    assert GENERATED_NAME.match(row.storage_name)
    assert name not in files
    assert (chain["root"] / "evidence" / row.storage_name).read_bytes() == content
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert row.uploaded_by.national_code == AMIR
    # And it is on the performance of Amir's referral.
    performance = _referral(chain["amir"], chain["child"])["performance"]
    assert performance["evidence"] == [{"fileName": name, "url": evidence["url"]}]


def test_two_uploads_of_the_same_name_are_kept_apart(chain):
    first = upload(chain["amir"], chain["child"], "report.pdf", PDF)["evidence"]
    second = upload(chain["amir"], chain["child"], "report.pdf", PDF + b"\n% v2\n")["evidence"]
    assert first["url"] != second["url"]
    assert len(stored_files(chain["root"])) == 2
    assert download(chain["amir"], second["url"])[1] == PDF + b"\n% v2\n"
    assert download(chain["amir"], first["url"])[1] == PDF


def test_size_limit_is_inclusive(chain, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    exact = PDF + b"%" * (1024 - len(PDF))
    assert len(exact) == 1024
    assert upload(chain["amir"], chain["child"], "exact.pdf", exact)["errors"] == []


@pytest.mark.parametrize(
    "name, content, code",
    [
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "FILE_CONTENT_MISMATCH"),  # a renamed .exe
        ("notes.txt", PDF, "FILE_TYPE_NOT_ALLOWED"),
        ("report.exe", b"MZ\x90\x00" + b"\x00" * 200, "FILE_TYPE_NOT_ALLOWED"),
        ("report", PDF, "FILE_NAME_INVALID"),
        ("report.exe.pdf", PDF, "FILE_NAME_INVALID"),  # an executable's name behind a second extension
        ("CON.pdf", PDF, "FILE_NAME_INVALID"),  # a device name Windows will not save
        ("oversize.pdf", PDF + b"%" * 64 * 1024, "FILE_TOO_LARGE"),
        ("empty.pdf", b"", "FILE_EMPTY"),
        ("narrative.xlsx", DOCX, "FILE_CONTENT_MISMATCH"),  # a DOCX named .xlsx
        ("figures.docx", XLSX, "FILE_CONTENT_MISMATCH"),
        ("old_report.docx", DOC, "FILE_CONTENT_MISMATCH"),  # an OLE2 file is not an OOXML one
        ("figures.xls", PDF, "FILE_CONTENT_MISMATCH"),
        ("old_report.doc", ole2_header_only(), "FILE_CONTENT_MISMATCH"),  # only the signature of one
        ("old_report.doc", XLS, "FILE_CONTENT_MISMATCH"),  # an Excel 97 workbook named .doc
        ("archive.pdf", ooxml("other/part.xml"), "FILE_CONTENT_MISMATCH"),  # a plain ZIP
    ],
)
def test_refused_files_change_nothing(chain, settings, name, content, code):
    settings.EVIDENCE_MAX_BYTES = 64 * 1024  # above the real DOC and XLS, below "oversize.pdf"
    before = _state(chain["root"])
    result = upload(chain["amir"], chain["child"], name, content)
    assert result["evidence"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "file")]
    assert PERSIAN.search(result["errors"][0]["message"]), result["errors"]
    assert _state(chain["root"]) == before
    assert Evidence.objects.count() == 0
    assert stored_files(chain["root"]) == []


def test_size_message_names_the_limit(chain, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    (error,) = upload(chain["amir"], chain["child"], "oversize.pdf", PDF + b"%" * 2048)["errors"]
    assert error["code"] == "FILE_TOO_LARGE"
    assert "1 کیلوبایت" in error["message"], error["message"]
    settings.EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    big = PDF + b"%" * (10 * 1024 * 1024)
    (error,) = upload(chain["amir"], chain["child"], "big.pdf", big)["errors"]
    assert error["code"] == "FILE_TOO_LARGE"
    assert "10 مگابایت" in error["message"], error["message"]


@pytest.mark.parametrize(
    "name, kept",
    [
        ("report.pdf\n", "report.pdf"),
        ("report.pdf ", "report.pdf"),
        (" report.pdf", "report.pdf"),
        ("report.v2.pdf", "report.v2.pdf"),
        ("a" * 146 + ".pdf", "a" * 146 + ".pdf"),  # 150 characters: the limit itself
        ("a" * 147 + ".pdf", "a" * 146 + ".pdf"),  # longer: shortened, the extension kept
    ],
)
def test_file_names_are_normalized_not_refused(name, kept):
    """Names were once Latin letters, digits, - and _ only; now they are cleaned (tests/test_evidence_files.py)."""
    assert check_file_name(name) == "pdf"
    assert clean_file_name(name) == kept


def test_upload_by_others_is_refused_and_changes_nothing(chain):
    before = _state(chain["root"])
    # Fatemeh sees Amir's referral (she referred it) but it is not hers to register on.
    result = upload(chain["fatemeh"], chain["child"], "report.pdf", PDF)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_ASSIGNEE", "referral")]
    assert PERSIAN.search(result["errors"][0]["message"])
    assert result["evidence"] is None
    # Ali, further up, neither.
    result = upload(chain["ali"], chain["child"], "report.pdf", PDF)
    assert [e["code"] for e in result["errors"]] == ["NOT_ASSIGNEE"]
    # Hasan, another ministry's leader: the referral does not exist for him.
    result = upload(client_for(HASAN), chain["child"], "report.pdf", PDF)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", "referral")]
    assert PERSIAN.search(result["errors"][0]["message"])
    assert result["evidence"] is None
    # Amir cannot attach to the referral above his.
    result = upload(chain["amir"], chain["top"], "report.pdf", PDF)
    assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"]
    assert _state(chain["root"]) == before
    assert stored_files(chain["root"]) == []


def test_upload_after_submission_is_refused(chain):
    _submit(chain)
    before = _state(chain["root"])
    result = upload(chain["amir"], chain["child"], "late.pdf", PDF)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID_STATE", "referral")]
    assert PERSIAN.search(result["errors"][0]["message"])
    assert result["evidence"] is None
    assert _state(chain["root"]) == before
    assert stored_files(chain["root"]) == []


def test_anonymous_upload_is_unauthenticated(chain):
    before = _state(chain["root"])
    body = post_upload(GraphQLClient(), chain["child"], "report.pdf", PDF)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert _state(chain["root"]) == before
    assert stored_files(chain["root"]) == []


@pytest.mark.parametrize(
    "name, content, content_type",
    [("report.pdf", PDF, PDF_TYPE), ("narrative.docx", DOCX, DOCX_TYPE), ("figures.xlsx", XLSX, XLSX_TYPE)],
)
def test_download_up_the_chain_only(chain, name, content, content_type):
    url = upload(chain["amir"], chain["child"], name, content)["evidence"]["url"]
    for person in ("amir", "fatemeh", "ali"):
        response, body = download(chain[person], url)
        assert response.status_code == 200, person
        assert body == content, person
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Length"] == str(len(content))

    # Another ministry's leader: as if it did not exist.
    response, _ = download(client_for(HASAN), url)
    assert response.status_code == 404
    # Not signed in: 401 with the GraphQL error shape.
    response = GraphQLClient().http.get(url)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert PERSIAN.search(response.json()["errors"][0]["message"])
    # The name is part of the address: another name, or another id, is not found.
    pk = urlsplit(url).path.split("/")[2]
    for wrong in (f"/evidence/{pk}/other.pdf", f"/evidence/{int(pk) + 1}/{name}"):
        assert download(chain["amir"], wrong)[0].status_code == 404, wrong
    # The stored file gone (e.g. storage lost): 404, not a server error.
    (chain["root"] / "evidence" / Evidence.objects.get().storage_name).unlink()
    assert download(chain["amir"], url)[0].status_code == 404


def test_evidence_goes_up_the_chain_with_the_approval(chain):
    url = upload(chain["amir"], chain["child"], "report.pdf", PDF)["evidence"]["url"]
    _submit(chain)
    approved = mutate(
        chain["fatemeh"],
        FINISH,
        {"referral": chain["child"], "version": _referral(chain["fatemeh"], chain["child"])["version"]},
    )
    assert approved["errors"] == []
    assert approved["referral"]["status"] == "APPROVED"

    top = _referral(chain["ali"], chain["top"])
    assert top["status"] == "SUBMITTED"
    (carried,) = top["performance"]["evidence"]
    assert carried["fileName"] == "report.pdf"
    assert carried["url"] != url  # an evidence of Fatemeh's performance, not Amir's
    assert _referral(chain["fatemeh"], chain["top"])["performance"]["evidence"] == [carried]
    for person in ("ali", "fatemeh"):
        response, body = download(chain[person], carried["url"])
        assert response.status_code == 200, person
        assert body == PDF
        assert response["Content-Type"] == PDF_TYPE
    # Amir's own copy stays on his referral, and the level above his is not his to read.
    assert _referral(chain["amir"], chain["child"])["performance"]["evidence"] == [
        {"fileName": "report.pdf", "url": url}
    ]
    assert download(chain["amir"], carried["url"])[0].status_code == 404
    assert download(client_for(HASAN), carried["url"])[0].status_code == 404
    # No file was copied: both evidence rows point to the one stored file.
    assert len(stored_files(chain["root"])) == 1


def test_evidence_node_is_scoped(chain):
    evidence = upload(chain["amir"], chain["child"], "report.pdf", PDF)["evidence"]
    for person in ("amir", "fatemeh", "ali"):
        assert chain[person].data(EVIDENCE_NODE, {"id": evidence["id"]}) == {"node": evidence}, person
    assert client_for(HASAN).data(EVIDENCE_NODE, {"id": evidence["id"]}) == {"node": None}
    assert GraphQLClient().error_codes(EVIDENCE_NODE, {"id": evidence["id"]}) == ["UNAUTHENTICATED"]
