"""The dashboard at country scale: Mana's endpoint against one hand-written SQL statement.

``.venv/bin/python bench/dashboard.py`` (see bench/README.md, «Dashboards»). On a database seeded by
``manage.py seed_scale`` (20,000 units by default), it serves Mana under daphne as in production,
signs the senior leader and the main leader of the largest ministry in through the real ``login``
mutation, and times their ``dashboard`` — the national one and the ministry's — against the same
figures computed by one hand-written SQL statement sent with psycopg to the same database: median
and 95th percentile of interleaved requests, the ratio, and whether every figure agrees (totals,
each unit's rolled-up figures and rank). It writes a markdown report to bench/results/ and prints
it. Only loopback traffic; every loop is bounded; the server it starts is stopped at the end, also
on Ctrl-C or an error.

The scale data has no evaluations and no assignment found not applicable: unless ``--no-prepare``,
a database without evaluations first gets some (see ``prepare``), so that those figures are
computed over real rows too. That writes to the database: it is meant for the benchmark's own copy
(``mana_dash_20k`` by default), not for ``mana_bench_20k``, whose PostGraphile comparison
(bench/country.py) reads assignments without looking at their applicability.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

try:
    import httpx  # noqa: F401 (country_http's client)
    import psycopg
except ImportError as missing:  # pragma: no cover
    raise SystemExit(f"{missing}: install the bench extra into the venv: .venv/bin/pip install httpx uvicorn")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from country_http import ManaSession, Outcome, Side, interleaved_latency, mana_env, mana_server, new_client  # noqa: E402

PG_BASE = "postgres://postgres@127.0.0.1:5432"
SCALE_PASSWORD = "mana-scale-1402"  # models.scale.SCALE_PASSWORD: everyone's, in the seeded data
# country.py's 20k database: 20,000 units, 100,000 users, 1,000,000 referrals, seed 1402.
SEED = {"orgs": 20_000, "users": 100_000, "referrals": 1_000_000, "seed": 1402}

FIGURES = "assignments referred submitted finalized overdue notApplicable selfScore evaluated evaluatedScore"
DOCUMENT = f"""query($period: ID!) {{ dashboard(period: $period) {{
  organization {{ code }} totals {{ {FIGURES} }} own {{ {FIGURES} }}
  units {{ rank organization {{ code }} totals {{ {FIGURES} }} }} }} }}"""

# The same figures, by hand: the dashboard root's subtree, each assignment of the period with its
# top referral, the value registered there (scored as models/scoring.py does) and the average of its
# published evaluations, grouped by the root's child whose range holds the assignment's unit (none:
# the root's own), with a total; the children ranked by self-registered then evaluated score.
HAND_WRITTEN = """
WITH root AS (
    SELECT id, tree_id, lft, rght FROM mana_organization WHERE id = %(root)s
), children AS (
    SELECT c.code, c.lft, c.rght FROM mana_organization c JOIN root ON c.parent_id = root.id
), rows AS (
    SELECT child.code AS unit, a.is_applicable AS applicable,
           a.status IN ('FINALIZED', 'SENT_FOR_EVALUATION', 'EVALUATED') AS finalized,
           COALESCE(a.deadline, pe.end_date) < (now() AT TIME ZONE 'Asia/Tehran')::date AS past_deadline,
           top.id IS NOT NULL AS referred, top.status AS top_status,
           CASE
             WHEN p.value IS NULL OR top.target <= 0 THEN NULL
             WHEN p.value < 0 THEN 0
             WHEN i.nature = 'HIGHER_IS_BETTER' THEN
               CASE WHEN p.value < a.lower_bound THEN 0
                    ELSE ROUND(LEAST(a.score_cap, GREATEST(0,
                         a.weight * LEAST(p.value, COALESCE(a.upper_bound, p.value)) / top.target)), 2) END
             WHEN p.value > a.upper_bound THEN 0
             WHEN GREATEST(p.value, COALESCE(a.lower_bound, p.value)) = 0 THEN a.score_cap
             ELSE ROUND(LEAST(a.score_cap, GREATEST(0,
                  a.weight * top.target / GREATEST(p.value, COALESCE(a.lower_bound, p.value)))), 2)
           END AS score,
           ev.score AS evaluated
    FROM root
    JOIN mana_organization o ON o.tree_id = root.tree_id AND o.lft BETWEEN root.lft AND root.rght
    JOIN mana_assignment a ON a.organization_id = o.id AND a.period_id = %(period)s
    JOIN mana_evaluationperiod pe ON pe.id = a.period_id
    JOIN mana_indicator i ON i.id = a.indicator_id
    LEFT JOIN children child ON o.lft BETWEEN child.lft AND child.rght
    LEFT JOIN mana_referral top ON top.assignment_id = a.id AND top.parent_id IS NULL
    LEFT JOIN mana_performance p ON p.referral_id = top.id
    LEFT JOIN (
        SELECT assignment_id, ROUND(AVG(score), 2) AS score FROM mana_evaluation
        WHERE published_at IS NOT NULL GROUP BY assignment_id
    ) ev ON ev.assignment_id = a.id
), figures AS (
    SELECT unit, GROUPING(unit) = 1 AS total,
           count(*) FILTER (WHERE applicable) AS assignments,
           count(*) FILTER (WHERE applicable AND referred) AS referred,
           count(*) FILTER (WHERE applicable AND (finalized OR top_status IN ('SUBMITTED', 'APPROVED'))) AS submitted,
           count(*) FILTER (WHERE applicable AND finalized) AS finalized,
           count(*) FILTER (WHERE applicable AND past_deadline AND NOT finalized) AS overdue,
           count(*) FILTER (WHERE NOT applicable) AS not_applicable,
           COALESCE(sum(score) FILTER (WHERE applicable), 0) AS self_score,
           count(evaluated) FILTER (WHERE applicable) AS evaluated,
           sum(evaluated) FILTER (WHERE applicable) AS evaluated_score
    FROM rows GROUP BY GROUPING SETS ((unit), ())
)
SELECT *, CASE WHEN unit IS NOT NULL THEN
         RANK() OVER (PARTITION BY unit IS NOT NULL ORDER BY self_score DESC, COALESCE(evaluated_score, 0) DESC)
       END AS rank
FROM figures
"""
COLUMNS = (
    "assignments",
    "referred",
    "submitted",
    "finalized",
    "overdue",
    "notApplicable",
    "selfScore",
    "evaluated",
    "evaluatedScore",
)


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="mana_dash_20k", help="the seeded database (default mana_dash_20k)")
    parser.add_argument(
        "--seed", action="store_true", help="seed it first when it does not exist (20,000 units, as country.py)"
    )
    parser.add_argument("--no-prepare", action="store_true", help="do not add evaluations to a database without any")
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per side and case (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="requests per side not counted (default 5)")
    parser.add_argument("--budget", type=float, default=60, help="seconds per case before stopping early")
    parser.add_argument("--timeout", type=float, default=60, help="a request is cut off after this (s)")
    parser.add_argument("--python", default=sys.executable, help="the Python that serves Mana")
    parser.add_argument("--output", type=Path, help="the report (default bench/results/dashboard-<date>.md)")
    return parser.parse_args(argv)


# --- the database ------------------------------------------------------------------------------------


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{PG_BASE}/postgres", autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def manage(args: argparse.Namespace, url: str, *command: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "settings"}
    subprocess.run([args.python, "manage.py", *command], cwd=ROOT, env=env, check=True)


def ensure_database(args: argparse.Namespace, url: str) -> None:
    if not database_exists(args.database):
        if not args.seed:
            raise SystemExit(f"database {args.database} does not exist: run with --seed (a few minutes)")
        log(f"{args.database}: seeding {SEED['orgs']:,} units …")
        with admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{args.database}"')
        manage(args, url, "migrate", "--noinput", "-v", "0")
        manage(args, url, "seed_scale", *(f"--{key}={value}" for key, value in SEED.items()), "--flush")
    else:
        # Columns and indexes added by later migrations, so that the database is this code's.
        manage(args, url, "migrate", "--noinput", "-v", "0")


def prepare(conn: psycopg.Connection, period: int) -> str:
    """Evaluations and non-applicable assignments for a database that has none (the scale data).

    Every 50th assignment of the period is found not applicable; every finalized one (or sent for
    evaluation) is evaluated by two evaluators with scores spread over its cap, one in four
    evaluations left unpublished. Deterministic (ids only). Returns what was done."""
    if conn.execute("SELECT EXISTS (SELECT 1 FROM mana_evaluation)").fetchone()[0]:
        ours, not_applicable = conn.execute(
            "SELECT (SELECT count(*) FROM mana_evaluation WHERE feedback = 'bench'),"
            " (SELECT count(*) FROM mana_assignment WHERE period_id = %s AND NOT is_applicable)",
            [period],
        ).fetchone()
        if ours:
            return (
                f"as an earlier run of this script prepared them: {ours:,} evaluations of the period's finalized "
                f"assignments (a quarter unpublished), {not_applicable:,} assignments not applicable"
            )
        return "the database's own (none added)"
    with conn.transaction():
        not_applicable = conn.execute(
            "UPDATE mana_assignment SET is_applicable = false WHERE period_id = %s AND id %% 50 = 0", [period]
        ).rowcount
        evaluations = conn.execute(
            """
            INSERT INTO mana_evaluation (assignment_id, evaluator_id, score, feedback, created_at, updated_at,
                                         published_at)
            SELECT a.id, ev.user_id, ROUND(a.score_cap * ((a.id * 7 + ev.n * 13) %% 100) / 100.0, 2), 'bench',
                   now(), now(), CASE WHEN (a.id + ev.n) %% 4 = 0 THEN NULL ELSE now() END
            FROM mana_assignment a
            CROSS JOIN (
                SELECT user_id, row_number() OVER (ORDER BY user_id) AS n FROM (
                    SELECT DISTINCT user_id FROM mana_roleassignment WHERE role = 'EVALUATOR' ORDER BY user_id LIMIT 2
                ) e
            ) ev
            WHERE a.period_id = %s AND a.is_applicable AND a.status IN ('FINALIZED', 'SENT_FOR_EVALUATION')
            """,
            [period],
        ).rowcount
    conn.execute("ANALYZE mana_evaluation")
    conn.execute("ANALYZE mana_assignment")
    return (
        f"prepared by this script: {not_applicable:,} assignments of the period marked not applicable, "
        f"{evaluations:,} evaluations of its finalized assignments (a quarter unpublished)"
    )


def personas(conn: psycopg.Connection) -> dict:
    """The senior leader at ARO and the main leader of the largest first-level organization (as
    models.scale.personas() chooses them), their units, and the open period."""

    def one(sql: str) -> tuple:
        row = conn.execute(sql).fetchone()
        if row is None:
            raise SystemExit(f"nothing for: {sql}")
        return row

    leader = """SELECT u.national_code, o.id, o.code, (o.rght - o.lft + 1) / 2 FROM mana_roleassignment ra
      JOIN mana_user u ON u.id = ra.user_id JOIN mana_organization o ON o.id = ra.organization_id
      WHERE ra.role = '{}' ORDER BY o.rght - o.lft DESC, o.code, u.id LIMIT 1"""
    senior = one(leader.format("SENIOR_LEADER"))
    main = one(leader.format("MAIN_LEADER"))
    (period,) = one("SELECT id FROM mana_evaluationperiod WHERE status = 'OPEN' ORDER BY start_date DESC, id LIMIT 1")
    return {
        "period": period,
        "cases": [
            {"name": "national (senior leader)", "code": senior[0], "root": senior[1], "unit": senior[2],
             "units": senior[3]},
            {"name": "ministry (main leader)", "code": main[0], "root": main[1], "unit": main[2], "units": main[3]},
        ],
    }  # fmt: skip


def global_id(type_name: str, pk: int) -> str:
    """A Relay global id, as schema.ids encodes it."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- comparing -----------------------------------------------------------------------------------------


def normalized(figures: dict) -> tuple:
    def value(name: str):
        raw = figures[name]
        if raw is None:
            return None
        return Decimal(str(raw)).quantize(Decimal("0.01")) if name in ("selfScore", "evaluatedScore") else int(raw)

    return tuple(value(name) for name in COLUMNS)


def from_sql(row: dict) -> dict:
    names = dict(zip(COLUMNS, ("assignments", "referred", "submitted", "finalized", "overdue", "not_applicable",
                               "self_score", "evaluated", "evaluated_score"), strict=True))  # fmt: skip
    figures = {column: row[name] for column, name in names.items()}
    if not figures["evaluated"]:
        figures["evaluatedScore"] = None
    return figures


def differences(mana: dict, rows: list[dict]) -> tuple[int, list[str]]:
    """(figures compared, the differences) between Mana's answer and the statement's rows."""
    dashboard = mana["data"]["dashboard"]
    found: list[str] = []
    compared = 0
    by_unit = {row["unit"]: row for row in rows if not row["total"]}
    total = next(row for row in rows if row["total"])
    pairs = [("totals", dashboard["totals"], from_sql(total))]
    own = by_unit.get(None)
    nothing = {**dict.fromkeys(COLUMNS, 0), "evaluatedScore": None}
    pairs.append(("own", dashboard["own"], from_sql(own) if own else nothing))
    for unit in dashboard["units"]:
        code = unit["organization"]["code"]
        row = by_unit.get(code)
        # A unit without assignments has no row: all its figures are 0 (and its rank that of the zeros).
        expected = from_sql(row) if row else nothing
        pairs.append((code, unit["totals"], expected))
        if row is not None:
            compared += 1
            if unit["rank"] != row["rank"]:
                found.append(f"{code} rank: Mana {unit['rank']}, SQL {row['rank']}")
    missing = set(by_unit) - {u["organization"]["code"] for u in dashboard["units"]} - {None}
    found += [f"{code}: in the SQL only" for code in sorted(missing)]
    for name, got, expected in pairs:
        compared += len(COLUMNS)
        for column, a, b in zip(COLUMNS, normalized(got), normalized(expected), strict=True):
            if a != b:
                found.append(f"{name} {column}: Mana {a}, SQL {b}")
    return compared, found


# --- the run ------------------------------------------------------------------------------------------


async def sql_side(url: str, root: int, period: int, timeout: float):
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")

    async def send() -> Outcome:
        started = time.perf_counter()
        try:
            cursor = await conn.execute(HAND_WRITTEN, {"root": root, "period": period}, prepare=True)
            columns = [c.name for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in await cursor.fetchall()]
        except psycopg.Error as error:
            return Outcome(False, (time.perf_counter() - started) * 1000, error=f"{type(error).__name__}: {error}")
        return Outcome(True, (time.perf_counter() - started) * 1000, body={"rows": rows})

    return conn, send


async def measure_case(args: argparse.Namespace, client, url: str, server_url: str, period: int, case: dict) -> dict:
    session = ManaSession(client, server_url, args.timeout, database_url=url)
    signed_in = await session.login(case["code"], SCALE_PASSWORD)
    if not signed_in.ok:
        raise RuntimeError(f"sign-in of {case['name']} ({case['code']}) failed: {signed_in.error}")
    variables = {"period": global_id("EvaluationPeriod", period)}
    conn, send_sql = await sql_side(url, case["root"], period, args.timeout)
    last: dict = {}

    async def send_mana() -> Outcome:
        outcome = await session.post(DOCUMENT, variables)
        if outcome.ok:
            last["mana"] = outcome.body
        return outcome

    async def send_hand() -> Outcome:
        outcome = await send_sql()
        if outcome.ok:
            last["sql"] = outcome.body["rows"]
        return outcome

    sides = [Side("Mana (HTTP, daphne)", send_mana), Side("one SQL statement (psycopg)", send_hand)]
    log(f"{case['name']}: {case['unit']}, {case['units']:,} units …")
    try:
        await interleaved_latency(sides, repeat=args.repeat, warmup=args.warmup, budget=args.budget)
    finally:
        await conn.close()
    compared, found = differences(last["mana"], last["sql"]) if len(last) == 2 else (0, ["no answer"])
    dashboard = last.get("mana", {}).get("data", {}).get("dashboard", {})
    for side in sides:
        log(
            f"  {side.name}: p50 {fmt_ms(side.median())}, p95 {fmt_ms(side.p95())}, {len(side.samples)} samples, "
            f"{len(side.errors)} errors"
        )
    log(f"  figures {'agree' if not found else 'DIFFER'} ({compared} compared)")
    return {
        **case,
        "sides": sides,
        "compared": compared,
        "differences": found,
        "listed": len(dashboard.get("units", [])),
        "assignments": (dashboard.get("totals") or {}).get("assignments") or 0,
    }


async def measure(args: argparse.Namespace, url: str, server_url: str, people: dict) -> list[dict]:
    async with new_client() as client:
        return [
            await measure_case(args, client, url, server_url, people["period"], case) for case in people["cases"]
        ]


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def git(*command: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *command], capture_output=True, text=True).stdout.strip()


def machine(url: str) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))
    with psycopg.connect(url) as conn:
        postgres = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        counts = {
            table: conn.execute(f"SELECT count(*) FROM mana_{table}").fetchone()[0]
            for table in ("organization", "assignment", "referral", "performance", "evaluation")
        }
    return [
        f"- machine: {os.cpu_count()} CPUs, {int(memory) / 1024 / 1024:.1f} GiB memory, {cpu}; "
        f"{platform.system()} {platform.release()}; {postgres}; Python {platform.python_version()}",
        "- data: " + ", ".join(f"{count:,} {table}s" for table, count in counts.items()),
    ]


def render(args: argparse.Namespace, url: str, results: list[dict], extras: dict) -> str:
    lines = [
        f"# Dashboards at country scale — {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Measured by `bench/dashboard.py` ({' '.join(sys.argv[1:]) or 'no options'}) on `{args.database}`.",
        "",
        *machine(url),
        f"- evaluations: {extras['prepared']}",
        f"- Mana measured: `{extras['commit'][:12]}` ({extras['subject']})"
        f"{' **with uncommitted changes**' if extras['dirty'] else ''}, one daphne process, `MANA_ENV=production`",
        f"- {args.warmup} warm-ups, then up to {args.repeat} requests per side, interleaved (Mana, SQL, Mana, …); "
        "times are the client's, request to parsed answer",
        f"- load average (1 min) at the start and the end: {extras['load'][0]:.2f}, {os.getloadavg()[0]:.2f} "
        f"(the machine is shared: figures taken under load are slower on both sides)",
        "",
        "| dashboard | units listed | assignments | Mana p50 | Mana p95 | SQL p50 | SQL p95 | Mana ÷ SQL (p50) "
        "| figures |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        mana, sql = result["sides"]
        ratio = f"{mana.median() / sql.median():.2f}×" if mana.median() and sql.median() else "—"
        agree = "agree" if not result["differences"] else f"**{len(result['differences'])} differ**"
        lines.append(
            f"| {result['name']}: {result['unit']} ({result['units']:,} units) | {result['listed']} "
            f"| {result['assignments']:,} | {fmt_ms(mana.median())} | {fmt_ms(mana.p95())} | {fmt_ms(sql.median())} "
            f"| {fmt_ms(sql.p95())} | {ratio} | {agree} ({result['compared']} compared) |"
        )
    for result in results:
        for side in result["sides"]:
            if side.errors:
                lines.append(f"\n{result['name']}, {side.name}: {len(side.errors)} errors, e.g. {side.errors[0]}")
        if result["differences"]:
            lines.append(f"\n{result['name']}: " + "; ".join(result["differences"][:20]))
    lines += [
        "",
        "Notes:",
        "",
        "- Mana's side is the whole request: session and viewer, the scope check of the organization, the",
        "  period, the figures (one statement: models/dashboard.py), the listed units' rows, GraphQL execution",
        "  and JSON. The SQL side is only the statement: it knows the root and applies no permissions.",
        "- The statement groups the assignments by the child whose tree range holds their unit (a range join)",
        "  and averages evaluations in a grouped subquery; Mana assigns units with window functions and probes",
        "  an index per assignment (see models/dashboard.py). Both read the same rows; «figures» compares every",
        "  figure of the totals, of the root's own assignments and of each listed unit, and the units' ranks.",
        "",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> Path:
    url = f"{PG_BASE}/{args.database}"
    extras = {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "subject": git("log", "-1", "--format=%s"),
        "load": os.getloadavg(),
    }
    ensure_database(args, url)
    with psycopg.connect(url, autocommit=True) as conn:
        people = personas(conn)
        extras["prepared"] = "not added (--no-prepare)" if args.no_prepare else prepare(conn, people["period"])
    log(f"evaluations: {extras['prepared']}")
    work = Path(tempfile.mkdtemp(prefix="mana-dashboard-"))
    server = None
    try:
        env = mana_env(dict(os.environ), url, work / "var", {})
        server = mana_server("daphne", python=args.python, app_dir=ROOT, env=env, log_dir=work)
        log(f"daphne on {server.url} (pid {server.process.pid})")
        results = await measure(args, url, server.url, people)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = render(args, url, results, extras)
    path = args.output or BENCH / "results" / f"dashboard-{datetime.date.today().isoformat()}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)
    print(report)
    log(f"report written to {path}")
    return path


def main() -> None:
    args = parse_args()

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        log("interrupted; the server was stopped")
        sys.exit(130)


if __name__ == "__main__":
    main()
