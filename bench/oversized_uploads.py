"""A daphne worker's memory while 10 oversized uploads arrive at once (issue 7, §2).

One command, rerunnable: ``.venv/bin/python bench/oversized_uploads.py`` (needs the bench extra:
httpx, and PostgreSQL on 127.0.0.1:5432, user postgres, trust). It builds a fresh database
(``mana_bench_uploads``, created anew and dropped at the end, migrated and given the demo data; ``--sqlite``
takes a temporary SQLite file instead), serves Mana under daphne as in production, signs Amir in through
the real endpoint with a referral he may attach evidence to, and then, sampling the worker's
resident memory (VmRSS) every 20 ms:

1. baseline: 10 small valid evidence uploads at once (they must all be stored);
2. 10 uploads of 400 MB at once, each with its ``Content-Length``;
3. the same 10 without a length (``Transfer-Encoding: chunked``);
4. for comparison, one 50 MB upload to the same application without the body limits
   (``bench/unguarded_asgi.py``; only one, and smaller: unguarded, a worker grows by about ten
   times the upload; ``--no-unguarded`` skips it).

Upload bodies are generated while they are sent (one 1 MiB buffer, reused), never held by the
client. It writes bench/results/oversized_uploads.md and prints it. Only loopback traffic; every
request has a timeout; the servers it started are stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    import httpx
    import psycopg
except ImportError as missing:  # pragma: no cover
    raise SystemExit(f"{missing}: install the bench extra into the venv: .venv/bin/pip install httpx")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from country_http import ManaSession, Server, free_port, mana_env  # noqa: E402

PG_BASE = "postgres://postgres@127.0.0.1:5432"
ALI, FATEMEH, AMIR = "0010000021", "0032054009", "0010000100"
MIB = 1024 * 1024
BOUNDARY = "mana-bench-boundary"
REFERRAL_FIELDS = "id status version"
REFER = f"""mutation($input: ReferInput!) {{ refer(input: $input) {{
  errors {{ field code message }} referral {{ {REFERRAL_FIELDS} }} }} }}"""
UPLOAD = """mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) {
  errors { field code message } evidence { id size } } }"""
IDS = """
import json
from models.indicators import Assignment
from models.users import User
from schema.ids import encode_global_id
print(json.dumps({
    "assignment": encode_global_id("Assignment", Assignment.objects.get(indicator__code="MOE-02").pk),
    "fatemeh": encode_global_id("User", User.objects.get(national_code="FATEMEH").pk),
    "amir": encode_global_id("User", User.objects.get(national_code="AMIR").pk),
}))
""".replace("FATEMEH", FATEMEH).replace("AMIR", AMIR)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"), help="the venv's python")
    parser.add_argument("--database", default="mana_bench_uploads", help="PostgreSQL database (dropped, created)")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--uploads", type=int, default=10, help="concurrent uploads per phase (default 10)")
    parser.add_argument("--size-mb", type=int, default=400, help="size of an oversized upload in MB (default 400)")
    parser.add_argument("--no-unguarded", action="store_true", help="skip the comparison without the body limits")
    parser.add_argument(
        "--unguarded-size-mb", type=int, default=50, help="size of the one upload without the limits (default 50)"
    )
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "oversized_uploads.md")
    return parser.parse_args(argv)


# --- the server's memory ----------------------------------------------------------------------------


class RssSampler:
    """Samples a process's VmRSS every ``interval`` seconds in a thread; keeps the peak."""

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.server, self.interval = server, interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.start_kib = self.server.rss_kib()
        self.peak_kib = self.start_kib
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.end_kib = self.server.rss_kib()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kib = max(self.peak_kib, self.server.rss_kib())
            except (OSError, RuntimeError):
                return
            time.sleep(self.interval)


# --- uploads ----------------------------------------------------------------------------------------


def minimal_pdf() -> bytes:
    """A tiny well-formed one-page PDF (what the evidence check accepts)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@dataclass
class Upload:
    """One multipart upload (the GraphQL multipart request spec), its body produced while it is sent."""

    referral: str
    file_bytes: int
    small_file: bytes | None = None
    sent: int = 0

    def _parts(self) -> tuple[bytes, bytes]:
        operations = json.dumps({"query": UPLOAD, "variables": {"input": {"referral": self.referral, "file": None}}})
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.input.file"]}}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="report.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        return head, f"\r\n--{BOUNDARY}--\r\n".encode()

    @property
    def length(self) -> int:
        head, tail = self._parts()
        return len(head) + self.file_bytes + len(tail)

    async def body(self):
        head, tail = self._parts()
        for piece in self._pieces(head, tail):
            self.sent += len(piece)
            yield piece

    def _pieces(self, head: bytes, tail: bytes):
        yield head
        if self.small_file is not None:
            yield self.small_file
        else:
            # A PDF's first bytes, then filler: two 1 MiB buffers, however large the file.
            buffer, filler = b"%PDF-1.4\n" + b"0" * (MIB - 9), b"0" * MIB
            remaining = self.file_bytes
            while remaining > 0:
                piece = buffer if remaining >= MIB else buffer[:remaining]
                remaining -= len(piece)
                yield piece
                buffer = filler
        yield tail


@dataclass
class Answer:
    status: int | None
    code: str | None
    seconds: float
    sent: int
    error: str | None = None


async def send_upload(client: httpx.AsyncClient, session: ManaSession, upload: Upload, with_length: bool) -> Answer:
    headers = {**session._headers(), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if with_length:
        headers["Content-Length"] = str(upload.length)
    started = time.perf_counter()
    try:
        response = await client.post(
            session.base + "/graphql/", content=upload.body(), headers=headers, timeout=httpx.Timeout(120)
        )
    except httpx.HTTPError as error:
        return Answer(None, None, time.perf_counter() - started, upload.sent, f"{type(error).__name__}: {error}"[:120])
    seconds = time.perf_counter() - started
    try:
        payload = response.json()
    except ValueError:
        return Answer(response.status_code, None, seconds, upload.sent, response.text[:120])
    errors = payload.get("errors") or []
    code = errors[0]["extensions"]["code"] if errors else None
    if code is None:
        data = (payload.get("data") or {}).get("uploadEvidence") or {}
        user_errors = data.get("errors") or []
        code = user_errors[0]["code"] if user_errors else ("stored" if data.get("evidence") else None)
    return Answer(response.status_code, code, seconds, upload.sent)


@dataclass
class Phase:
    name: str
    uploads: int
    each: str
    answers: list[Answer] = field(default_factory=list)
    start_kib: int = 0
    peak_kib: int = 0
    end_kib: int = 0
    seconds: float = 0.0


async def run_phase(server: Server, base: str, cookies: dict, phase: Phase, make_upload, with_length: bool) -> Phase:
    log(f"{phase.name}: {phase.uploads} × {phase.each} …")
    limits = httpx.Limits(max_connections=phase.uploads + 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        session = ManaSession(client, base, 120)
        session.cookies = dict(cookies)
        started = time.perf_counter()
        with RssSampler(server) as sampler:
            phase.answers = await asyncio.gather(
                *(send_upload(client, session, make_upload(), with_length) for _ in range(phase.uploads))
            )
            await asyncio.sleep(1.0)  # what the worker still holds right after the answers
        phase.seconds = time.perf_counter() - started
    phase.start_kib, phase.peak_kib, phase.end_kib = sampler.start_kib, sampler.peak_kib, sampler.end_kib
    log(f"  RSS {phase.start_kib // 1024} → peak {phase.peak_kib // 1024} MiB; {summary(phase.answers)}")
    return phase


def summary(answers: list[Answer]) -> str:
    counts: dict[str, int] = {}
    for answer in answers:
        key = f"{answer.status} {answer.code}" if answer.status else (answer.error or "?").split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} × {key}" for key, n in sorted(counts.items()))


# --- setup ------------------------------------------------------------------------------------------


def prepare_database(python: str, env: dict) -> dict:
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        log(f"manage.py {' '.join(command)}")
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    result = subprocess.run(
        [python, "manage.py", "shell", "-c", IDS], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_server(python: str, env: dict, application: str, log_dir: Path, name: str) -> Server:
    port = free_port()
    argv = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]
    server = Server(name, argv, env=env, cwd=ROOT, port=port, log_dir=log_dir)

    def probe(url: str) -> bool:
        response = httpx.get(f"{url}/graphql/", headers={"X-Forwarded-Proto": "https", "Accept": "text/html"})
        return response.status_code < 500

    server.start(probe)
    return server


async def signed_in_amir(base: str, ids: dict, database_url: str) -> tuple[dict, str]:
    """Ali refers MOE-02 to Fatemeh, she refers it to Amir: Amir's cookies and his referral."""
    async with httpx.AsyncClient(trust_env=False) as client:
        sessions = {}
        for name, code in (("ali", ALI), ("fatemeh", FATEMEH), ("amir", AMIR)):
            sessions[name] = ManaSession(client, base, 60, database_url=database_url)
            outcome = await sessions[name].login(code, "mana-demo-1402")
            if not outcome.ok:
                raise RuntimeError(f"login {name}: {outcome.error}")
        top = await sessions["ali"].post(
            REFER, {"input": {"source": ids["assignment"], "assignee": ids["fatemeh"], "deadline": "1402/11/18"}}
        )
        if not top.ok:
            raise RuntimeError(f"refer to Fatemeh: {top.error}")
        top_id = top.body["data"]["refer"]["referral"]["id"]
        child = await sessions["fatemeh"].post(
            REFER, {"input": {"source": top_id, "assignee": ids["amir"], "deadline": "1402/11/10"}}
        )
        if not child.ok:
            raise RuntimeError(f"refer to Amir: {child.error}")
        return sessions["amir"].cookies, child.body["data"]["refer"]["referral"]["id"]


# --- report -----------------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + (" + uncommitted changes" if dirty.strip() else "")
    except OSError:
        return "?"


def report(phases: list[Phase], args: argparse.Namespace, database: str) -> str:
    mib = 1024
    lines = [
        "# A daphne worker's memory while oversized uploads arrive at once",
        "",
        f"{datetime.date.today().isoformat()}, commit {git_commit()}; `bench/oversized_uploads.py` "
        f"(`--uploads {args.uploads} --size-mb {args.size_mb}`). One daphne worker as in production "
        f"(`MANA_ENV=production`, DEBUG off), {database}; Python {platform.python_version()}, "
        f"{os.cpu_count()} cores. Evidence limit 10 MB (`MANA_EVIDENCE_MAX_BYTES`), so a multipart body "
        "may have 12.5 MB (the file and 2.5 MB for its `operations` and `map` parts).",
        "",
        "The worker's resident memory (VmRSS, sampled every 20 ms) before the uploads, at its highest while they "
        "arrived, and one second after the last answer; the answers the clients got, and how much of each body "
        "they had sent when the answer came.",
        "",
        "| phase | uploads | RSS before | RSS peak | growth | RSS after | answers | sent per upload | wall time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        sent = sorted(answer.sent for answer in phase.answers)
        sent_text = f"{sent[0] / MIB:,.1f}–{sent[-1] / MIB:,.1f} MiB" if sent[-1] >= MIB else f"{sent[-1]:,} B"
        lines.append(
            f"| {phase.name} | {phase.uploads} × {phase.each} | {phase.start_kib / mib:,.0f} MiB | "
            f"{phase.peak_kib / mib:,.0f} MiB | **+{(phase.peak_kib - phase.start_kib) / mib:,.0f} MiB** | "
            f"{phase.end_kib / mib:,.0f} MiB | {summary(phase.answers)} | {sent_text} | {phase.seconds:.1f} s |"
        )
    lines += [
        "",
        "What the rows show:",
        "",
        "- **With `Content-Length`**, daphne's request (`settings/daphne_body_limit.py`) answers 413 "
        "`REQUEST_TOO_LARGE` as soon as the headers are in. The client, which writes its whole body before it reads "
        "(httpx), goes on sending; the worker drops those bytes as they come (at most 30 s), then closes.",
        "- **Chunked**, the body is counted as it arrives and answered 413 once it passes 12.5 MB; what follows is "
        "dropped the same way. Before 12.5 MB the bytes go to a temporary file (Twisted), not to memory.",
        "- **Without the limits** (Django's ASGI application alone under daphne), Twisted parses the whole multipart "
        "body in memory and daphne puts all of it on the application's queue at once "
        "([django/daphne#483](https://github.com/django/daphne/issues/483)) before Mana's `FILE_TOO_LARGE` check "
        "runs: one upload costs the worker about ten times its size (so only one, of 50 MB, is sent here).",
        "",
        "Rerun: `.venv/bin/python bench/oversized_uploads.py` (PostgreSQL database `mana_bench_uploads`, "
        "dropped and created anew; `--sqlite` for a temporary SQLite file).",
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, work: Path) -> str:
    if args.sqlite:
        database_url = f"sqlite:///{work / 'mana.sqlite3'}"
    else:
        database_url = f"{PG_BASE}/{args.database}"
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
    env = mana_env(dict(os.environ), database_url, work / "var", {"MANA_EVIDENCE_MAX_BYTES": str(10 * MIB)})
    ids = prepare_database(args.python, env)
    big = args.size_mb * 1_000_000
    phases: list[Phase] = []
    servers: list[Server] = []
    try:
        server = start_server(args.python, env, "settings.asgi:application", work, "mana-daphne")
        servers.append(server)
        cookies, referral = await signed_in_amir(server.url, ids, database_url)
        pdf = minimal_pdf()
        small = Phase("baseline: small valid uploads", args.uploads, f"{len(pdf)} B PDF")
        phases.append(
            await run_phase(
                server, server.url, cookies, small, lambda: Upload(referral, len(pdf), small_file=pdf), True
            )
        )
        stored = [a for a in small.answers if a.code == "stored"]
        if len(stored) != args.uploads:
            raise RuntimeError(f"baseline uploads not stored: {summary(small.answers)}")
        for name, with_length in (("oversized, with Content-Length", True), ("oversized, chunked", False)):
            phase = Phase(name, args.uploads, f"{args.size_mb} MB")
            phases.append(
                await run_phase(server, server.url, cookies, phase, lambda: Upload(referral, big), with_length)
            )
        server.stop()
        if not args.no_unguarded:
            unguarded = start_server(args.python, env, "bench.unguarded_asgi:application", work, "mana-unguarded")
            servers.append(unguarded)
            size = args.unguarded_size_mb * 1_000_000
            phase = Phase("without the limits (before), with Content-Length", 1, f"{args.unguarded_size_mb} MB")
            phases.append(
                await run_phase(unguarded, unguarded.url, cookies, phase, lambda: Upload(referral, size), True)
            )
    finally:
        for server in servers:
            server.stop()
        if not args.sqlite:
            with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return report(phases, args, "PostgreSQL" if database_url.startswith("postgres") else "SQLite")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mana-uploads-") as work:
        text = asyncio.run(measure(args, Path(work)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    log(f"written to {args.output}")


if __name__ == "__main__":
    main()
