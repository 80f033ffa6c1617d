"""Fetch GraphiQL's files from the npm registry into static/graphiql/, as the page pins them.

The page (templates/graphql/graphiql.html) names each file as
``{% static 'graphiql/<package>@<version>/<path>' %}`` with its ``integrity`` hash; this reads
those, downloads each package's tarball with ``npm pack`` (which checks the tarball against the
registry's own hash), takes the file out, refuses it unless its SHA-384 is the pinned one, and
writes it, with the package's LICENSE and package.json beside it. Everything else in
static/graphiql/ is removed, so the folder holds exactly what the page loads.

Run it (``make graphiql``) after changing a version and its hash in the page — for instance to
follow strawberry's own page (strawberry/static/graphiql.html) after upgrading strawberry. The
files are committed: `make run` never needs npm or the internet.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE / "templates" / "graphql" / "graphiql.html"
STATIC = HERE / "static" / "graphiql"
PINNED = re.compile(
    r"""(?:src|href)="\{% static 'graphiql/"""
    r"""(?P<package>(?:@[^/@']+/)?[^/@']+)@(?P<version>[^/']+)/(?P<path>[^']+)' %\}"\s*"""
    r"""integrity="(?P<integrity>sha384-[A-Za-z0-9+/=]+)\""""
)
NOTICES = ("LICENSE", "package.json")


def pinned_files(page: str) -> dict[tuple[str, str], dict[str, str]]:
    """{(package, version): {path in the package: integrity}} as the page names them."""
    files: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for match in PINNED.finditer(page):
        files[(match["package"], match["version"])][match["path"]] = match["integrity"]
    return dict(files)


def integrity_of(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def fetch(package: str, version: str, workdir: Path) -> tarfile.TarFile:
    completed = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(workdir), "--silent"],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = workdir / completed.stdout.strip().splitlines()[-1]
    return tarfile.open(tarball)


def vendor() -> None:
    files = pinned_files(PAGE.read_text())
    if not files:
        sys.exit(f"no pinned file found in {PAGE}")
    if STATIC.exists():
        shutil.rmtree(STATIC)
    with tempfile.TemporaryDirectory() as workdir:
        for (package, version), paths in sorted(files.items()):
            target = STATIC / f"{package}@{version}"
            with fetch(package, version, Path(workdir)) as tarball:
                for path, integrity in sorted(paths.items()):
                    content = tarball.extractfile(f"package/{path}").read()
                    if integrity_of(content) != integrity:
                        sys.exit(f"{package}@{version}/{path}: {integrity_of(content)}, not the pinned {integrity}")
                    (target / path).parent.mkdir(parents=True, exist_ok=True)
                    (target / path).write_bytes(content)
                    print(f"{package}@{version}/{path}: {len(content):,} bytes, {integrity}")
                members = set(tarball.getnames())
                for notice in NOTICES:
                    if f"package/{notice}" in members:
                        (target / notice).write_bytes(tarball.extractfile(f"package/{notice}").read())


if __name__ == "__main__":
    vendor()
