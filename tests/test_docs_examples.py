"""The documentation stands alone and tells the truth about the schema.

* Every ```graphql block of README.md and docs/*.md is valid against the schema the server runs
  (graphql-core's validation, every specified rule). A block may hold several operations — each is
  checked as its own document, with the fragments it uses. Placeholders («<assignment id>») are
  allowed only inside string literals, where an ID or a String accepts them; anywhere else they are
  a syntax error.
* The named operations of docs/api.md run on the demo as ``seed_demo`` leaves it, as the people the
  guide names, without an error: the guide's examples are not only valid but true.
* Every relative link of README.md and docs/*.md names a file of this repository (and, with an
  anchor into a Markdown file, one of its headings); nothing points outside it (../shared).
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.utils import timezone
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)
from graphql.language import Visitor, visit

from schema.schema import schema

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```graphql[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# [text](target) and [text](target "title"), and reference definitions «[name]: target».
INLINE_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.MULTILINE | re.DOTALL)

# README blocks that are not valid documents, until README.md is corrected (docs/ has none).
README_KNOWN_INVALID: set[int] = set()


def graphql_examples() -> list:
    examples = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            name = f"{path.relative_to(ROOT)}:{line}"
            marks = ()
            if path.name == "README.md" and path.parent == ROOT and line in README_KNOWN_INVALID:
                marks = pytest.mark.xfail(strict=True, reason="README.md example not valid against the schema")
            examples.append(pytest.param(match.group(1), id=name, marks=marks))
    return examples


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_):
        self.names.add(node.name.value)


def _used_fragments(node, fragments: dict[str, FragmentDefinitionNode]) -> list[FragmentDefinitionNode]:
    """The fragments ``node`` spreads, directly or through other fragments."""
    seen: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names - set(seen):
            if name in fragments:
                seen[name] = fragments[name]
                pending.append(fragments[name])
    return list(seen.values())


def operation_documents(source: str) -> list[DocumentNode]:
    """One document per operation of the block, each with the fragments it uses."""
    document = parse(source)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) <= 1:
        return [document]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return [DocumentNode(definitions=(op, *_used_fragments(op, fragments))) for op in operations]


@pytest.mark.parametrize("source", graphql_examples())
def test_graphql_example_is_valid(source):
    for document in operation_documents(source):
        errors = validate(schema._schema, document)
        assert errors == [], "\n".join(error.message for error in errors) + "\n\n" + source


def test_the_documentation_has_examples():
    # A fence renamed by mistake (```GraphQL, ```gql) would silently drop its examples.
    names = {param.id.split(":")[0] for param in graphql_examples()}
    assert {"README.md", "docs/api.md"} <= names
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^```(?:gql|GraphQL|graphqls)\s*$", text, re.MULTILINE), path


def named_operations(path: Path) -> dict[str, str]:
    """The named operations of a page's ```graphql blocks, each as a document of its own."""
    found = {}
    for match in FENCE.finditer(path.read_text(encoding="utf-8")):
        for document in operation_documents(match.group(1)):
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and definition.name:
                    found[definition.name.value] = print_ast(document)
    return found


def test_the_api_guide_examples_run_on_the_demo(db):
    from models.indicators import Assignment
    from models.jalali import format_jalali
    from models.organization import Organization
    from models.periods import EvaluationPeriod
    from models.referrals import Referral
    from models.users import RoleAssignment
    from schema.ids import encode_global_id as gid
    from tests.conftest import PASSED_CAPTCHA, GraphQLClient
    from tests.workflow_helpers import ALI, AMIR, FATEMEH, NARGES, SARA, client_for, user_id

    call_command("seed_demo", stdout=io.StringIO())
    ops = named_operations(ROOT / "docs" / "api.md")
    period = EvaluationPeriod.objects.order_by("-start_date").first()
    current = gid("EvaluationPeriod", period.pk)

    def ok(client, name: str, variables: dict | None = None) -> dict:
        result = client.execute(ops[name], variables)
        assert "errors" not in result, (name, result)
        (payload,) = result["data"].values()
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], (name, payload)
        return payload

    anonymous = GraphQLClient()
    assert ok(anonymous, "Captcha")["imageUrl"].startswith("http")
    login = {"nationalCode": AMIR, "password": "mana-demo-1402", "captcha": PASSED_CAPTCHA}
    assert ok(anonymous, "Login", login)["me"]["user"]["lastName"] == "صادقی"
    amir, ali, fatemeh, narges = (client_for(code) for code in (AMIR, ALI, FATEMEH, NARGES))
    assert ok(amir, "Periods")[0]["id"] == current
    assert [e["node"]["inboxAction"] for e in ok(amir, "Inbox", {"period": current})["edges"]] == [
        "REGISTER_OR_REFER",
        "CORRECT",
    ]
    assert ok(ali, "Units", {"period": current})["edges"]
    assert ok(ali, "Dashboard", {"period": current})["totals"]["finalized"] == 1
    hq = gid("Organization", Organization.objects.get(code="MOE-HQ").pk)
    assert ok(ali, "Assignments", {"unit": hq, "period": current})["assignments"]["totalCount"] == 7
    ali_role = RoleAssignment.objects.get(user__national_code=ALI)
    assert ok(ali, "Token", {"role": gid("RoleAssignment", ali_role.pk)})["secret"].startswith("mana_")
    tavanir = RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-TAVANIR")
    ok(client_for(SARA), "SwitchRole", {"role": gid("RoleAssignment", tavanir.pk)})
    # The writing examples, on the current period's work.
    pending = Assignment.objects.get(period=period, indicator__code="MOE-07")
    deadline = format_jalali(timezone.localdate() + datetime.timedelta(days=10))
    refer = {"source": gid("Assignment", pending.pk), "assignee": user_id(FATEMEH), "deadline": deadline}
    assert ok(ali, "Refer", {"input": refer})["referral"]["status"] == "IN_PROGRESS"
    isfahan = Referral.objects.get(assignment__period=period, province__code="IR-10")
    slice_id = gid("Referral", isfahan.pk)
    saved = ok(narges, "Save", {"input": {"referral": slice_id, "version": 0, "value": "1100", "comments": "—"}})
    assert saved["performance"]["value"] == "1100"
    submitted = ok(narges, "Finish", {"referral": slice_id, "version": isfahan.version})["referral"]
    reason = "سند پیوست نیست"
    returned = ok(fatemeh, "Return", {"referral": slice_id, "version": submitted["version"], "reason": reason})
    assert returned["referral"]["status"] == "RETURNED"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*|_(?=\W)|(?<=\W)_", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = CODE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        anchor, n = github_anchor(heading), 0
        while (anchor if n == 0 else f"{anchor}-{n}") in found:
            n += 1
        found.add(anchor if n == 0 else f"{anchor}-{n}")
    return found


def links(path: Path) -> list[str]:
    text = CODE.sub("", path.read_text(encoding="utf-8"))
    return [*INLINE_LINK.findall(text), *IMAGE_LINK.findall(text), *REFERENCE.findall(text)]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file_of_this_repository(path):
    broken = []
    for target in links(path):
        if "../shared" in target or "/shared/" in target:
            broken.append(f"{target}: outside this repository")
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto:, …: not a file of the repository
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        if ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{target}: outside this repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert broken == [], f"{path.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_docs_never_send_readers_outside_the_repository():
    for path in sorted((ROOT / "docs").glob("*.md")):
        assert "../shared" not in path.read_text(encoding="utf-8"), path


def test_the_readme_never_sends_readers_outside_the_repository():
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")
