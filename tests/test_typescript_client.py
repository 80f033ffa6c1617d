"""A TypeScript client generated from the committed schema.graphql needs no hand-written scalar
mappings (issue 11 §3): GraphQL Code Generator (typescript-operations) with no ``scalars``
configuration, then ``tsc --strict`` on its output and on a client's code using it
(tests/conformance/codegen/). Needs node and npm, as the other conformance tests: without them it
FAILS; the packages come from that directory's package-lock.json (``npm ci`` on first run).
"""

from __future__ import annotations

import shutil
import subprocess

from tests.live_server import ROOT, npm_packages, tool

CODEGEN = ROOT / "tests" / "conformance" / "codegen"


def run(*command: str, cwd) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_a_generated_client_compiles_under_strict_with_no_scalar_mappings(tmp_path):
    npm_packages(CODEGEN, "@graphql-codegen/core")
    generated = tmp_path / "generated.ts"
    run(tool("node"), "codegen.mjs", str(ROOT / "schema.graphql"), "operations.graphql", str(generated), cwd=CODEGEN)
    source = generated.read_text(encoding="utf-8")
    # The custom scalars reach the client as the generator's safe default, not as a mapping.
    assert "target: unknown" in source and "deadline: unknown" in source and "file: unknown" in source
    # Enums are unions a client can switch on exhaustively (usage.ts does).
    assert "export type InboxAction =" in source and "export type RollupRule =" in source
    shutil.copy(CODEGEN / "usage.ts", tmp_path / "usage.ts")
    tsc = CODEGEN / "node_modules" / ".bin" / "tsc"
    flags = ["--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom", "--module", "esnext"]
    output = run(str(tsc), *flags, "--moduleResolution", "bundler", "generated.ts", "usage.ts", cwd=tmp_path)
    assert "error" not in output, output
