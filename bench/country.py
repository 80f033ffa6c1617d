"""Mana against PostGraphile 4.14 on the same PostgreSQL database, at country scale.

One command, rerunnable: ``.venv/bin/python bench/country.py`` (see bench/README.md). It seeds (or
reuses) databases built by ``manage.py seed_scale``, serves each with Mana under daphne and with
PostGraphile, signs the personas in through Mana's real endpoint, and measures reads (latency and
throughput, both sides), the referral workflow under concurrent clients (Mana; checked in the
database afterwards), daphne against uvicorn, and a daphne worker's memory. It writes a markdown
report to bench/results/ and prints it. Only loopback traffic; every loop is bounded; the servers
it starts are stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    import httpx
    import psycopg
except ImportError as missing:  # pragma: no cover
    raise SystemExit(f"{missing}: install the bench extra into the venv: .venv/bin/pip install httpx uvicorn")

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import country_mutations as mutations  # noqa: E402
from country_http import (  # noqa: E402
    MANA_APPLICATION,
    POSTGRAPHILE_APPLICATION,
    ManaSession,
    PostGraphile,
    Server,
    Side,
    interleaved_latency,
    mana_env,
    mana_server,
    new_client,
    postgraphile_server,
    throughput,
)
from country_queries import CASES, MANA_ME, decode_global_id  # noqa: E402

PG_BASE = "postgres://postgres@127.0.0.1:5432"
SEED_SIZES = {2000: (10_000, 100_000), 20000: (100_000, 1_000_000)}  # units → (users, referrals)
PERSONAS = ("senior_leader", "main_leader", "small_main_leader", "provincial_leader", "busy_assignee", "busy_reviewer")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- command line ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--units", type=int, action="append", help="seed/reuse mana_bench_<N/1000>k (repeatable)")
    parser.add_argument("--database", action="append", help="reuse this seeded database as it is (repeatable)")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the mana_bench_* databases again")
    parser.add_argument("--seed", type=int, default=1402, help="seed_scale --seed (default 1402)")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="serve Mana from this checkout (same venv)")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"), help="the venv's python")
    parser.add_argument("--password", help="the seeded users' password, if models.scale.personas() has none")
    parser.add_argument("--mana-env", action="append", default=[], metavar="VAR=VALUE", help="extra env for Mana")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per side and query (default 30)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latency-budget", type=float, default=45, help="seconds per query for the latency rounds")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients for requests/s")
    parser.add_argument("--max-requests", type=int, default=200, help="per concurrency level and side")
    parser.add_argument("--max-seconds", type=float, default=8, help="per concurrency level and side")
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--memory-seconds", type=float, default=600, help="cap on the memory run")
    parser.add_argument("--mutation-items", type=int, default=64, help="assignees who register, submit, are approved")
    parser.add_argument("--mutation-refers", type=int, default=24, help="pending assignments main leaders refer")
    parser.add_argument("--mutation-concurrency", type=int, default=32)
    parser.add_argument(
        "--mutate-in-place",
        action="store_true",
        help="if the database cannot be copied (someone is connected), run the mutations on it",
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=["reads", "mutations", "servers", "memory"], help="skip a part"
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (few repetitions, small loads)")
    parser.add_argument("--output", type=Path, help="report path (default bench/results/country-<date>.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.warmup, args.latency_budget = min(args.repeat, 5), 1, 15
        args.max_requests, args.max_seconds = min(args.max_requests, 40), min(args.max_seconds, 3)
        args.memory_requests, args.memory_seconds = min(args.memory_requests, 1000), min(args.memory_seconds, 120)
        args.mutation_items, args.mutation_refers = min(args.mutation_items, 12), min(args.mutation_refers, 4)
    args.levels = [int(x) for x in args.levels.split(",")]
    args.app_dir = args.app_dir.resolve()
    args.mana_env = dict(item.split("=", 1) for item in args.mana_env)
    return args


# --- databases and the people in them ----------------------------------------------------------------


@dataclass
class Target:
    database: str
    units: int | None  # to seed; None: reuse as it is
    label: str = ""
    ctx: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    seeded_in: float | None = None
    personas_from: str = ""

    @property
    def url(self) -> str:
        return f"{PG_BASE}/{self.database}"


def label_for(units: int) -> str:
    return f"{units // 1000}k" if units % 1000 == 0 else str(units)


def targets_from(args: argparse.Namespace) -> list[Target]:
    if args.database:
        return [Target(name, None) for name in args.database]
    return [Target(f"mana_bench_{label_for(u)}", u) for u in args.units or [2000, 20000]]


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{PG_BASE}/postgres", autocommit=True)


def cancel_stragglers(database: str, timeout: float) -> int:
    """Cancel the queries of the servers started here that outlived the client's timeout: a request
    the client cut off would otherwise go on loading PostgreSQL during the next measurements."""
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND application_name IN (%s, %s) AND now() - query_start > make_interval(secs => %s)",
            [database, MANA_APPLICATION, POSTGRAPHILE_APPLICATION, max(timeout - 5, 1)],
        ).fetchall()
    if rows:
        log(f"cancelled {len(rows)} queries of requests cut off")
    return len(rows)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def manage(args: argparse.Namespace, database_url: str, *command: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "settings"}
    subprocess.run([args.python, "manage.py", *command], cwd=ROOT, env=env, check=True)


def ensure_seeded(args: argparse.Namespace, target: Target) -> None:
    if target.units is None:
        if not database_exists(target.database):
            raise SystemExit(f"database {target.database} does not exist")
        return
    if database_exists(target.database) and not args.reseed:
        with psycopg.connect(target.url) as conn:
            try:
                count = conn.execute("SELECT count(*) FROM mana_organization").fetchone()[0]
            except psycopg.errors.UndefinedTable:
                count = 0
        if count >= target.units * 0.9:
            log(f"{target.database}: reusing ({count:,} units; --reseed to build it again)")
            # Indexes and grants added by later migrations, so that a reused database is this code's.
            manage(args, target.url, "migrate", "--noinput", "-v", "0")
            return
    users, referrals = SEED_SIZES.get(target.units, (target.units * 5, target.units * 50))
    log(f"{target.database}: seeding {target.units:,} units, {users:,} users, {referrals:,} referrals …")
    started = time.monotonic()
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target.database}"')
    manage(args, target.url, "migrate", "--noinput", "-v", "0")
    manage(
        args,
        target.url,
        "seed_scale",
        *("--orgs", str(target.units), "--users", str(users), "--referrals", str(referrals)),
        *("--seed", str(args.seed), "--flush"),
    )
    target.seeded_in = time.monotonic() - started


PERSONAS_SCRIPT = """
import json, django
django.setup()
from models.scale import personas
print("PERSONAS=" + json.dumps(personas(), default=str))
"""


def load_personas(args: argparse.Namespace, target: Target, conn: psycopg.Connection) -> dict:
    """models.scale.personas() of the seeding checkout; a SQL stand-in where it does not exist."""
    env = {**os.environ, "DATABASE_URL": target.url, "DJANGO_SETTINGS_MODULE": "settings"}
    env["MANA_VAR_DIR"] = tempfile.mkdtemp(prefix="mana-bench-personas-")
    result = subprocess.run(
        [args.python, "-c", PERSONAS_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    shutil.rmtree(env["MANA_VAR_DIR"], ignore_errors=True)
    for line in result.stdout.splitlines():
        if line.startswith("PERSONAS="):
            target.personas_from = "models.scale.personas()"
            return json.loads(line.removeprefix("PERSONAS="))
    log(f"models.scale.personas() unavailable ({result.stderr.strip().splitlines()[-1:]}); choosing personas in SQL")
    target.personas_from = "SQL stand-in (models.scale.personas() was not available)"
    return personas_by_sql(conn)


def personas_by_sql(conn: psycopg.Connection) -> dict:
    def one(sql: str, required: bool = True) -> str | None:
        row = conn.execute(sql).fetchone()
        if row is None and required:
            raise SystemExit(f"no persona for: {sql}")
        return row[0] if row else None

    leaders = """SELECT u.national_code FROM mana_roleassignment ra JOIN mana_user u ON u.id = ra.user_id
      JOIN mana_organization o ON o.id = ra.organization_id WHERE ra.role = 'MAIN_LEADER'
      ORDER BY o.rght - o.lft {} , ra.id LIMIT 1"""
    return {
        "senior_leader": one(
            "SELECT u.national_code FROM mana_roleassignment ra JOIN mana_user u ON u.id = ra.user_id "
            "WHERE ra.role = 'SENIOR_LEADER' ORDER BY ra.id LIMIT 1"
        ),
        "main_leader": one(leaders.format("DESC")),
        "small_main_leader": one(leaders.format("ASC")),
        "provincial_leader": one(
            "SELECT u.national_code FROM mana_roleassignment ra JOIN mana_user u ON u.id = ra.user_id "
            "WHERE ra.role = 'PROVINCIAL_LEADER' ORDER BY ra.id LIMIT 1",
            required=False,
        ),
        "busy_assignee": one(
            "SELECT u.national_code FROM mana_referral r JOIN mana_user u ON u.id = r.assignee_id "
            "GROUP BY 1 ORDER BY count(*) FILTER (WHERE r.status IN ('IN_PROGRESS', 'RETURNED', 'DELEGATED')) DESC, "
            "count(*) DESC LIMIT 1"
        ),
        "busy_reviewer": one(
            "SELECT u.national_code FROM mana_referral r JOIN mana_user u ON u.id = r.referrer_id "
            "GROUP BY 1 ORDER BY count(*) FILTER (WHERE r.status = 'SUBMITTED') DESC, count(*) DESC LIMIT 1"
        ),
        "period_id": one("SELECT id FROM mana_evaluationperiod ORDER BY start_date DESC, id DESC LIMIT 1"),
    }


def build_context(args: argparse.Namespace, target: Target) -> None:
    with psycopg.connect(target.url) as conn:
        personas = load_personas(args, target, conn)
        password = personas.get("password") or args.password
        if not password:
            raise SystemExit("no password: models.scale.personas() gave none; pass --password")
        ctx: dict = {"password": password, "period": decode_global_id(personas["period_id"])}
        for name in PERSONAS:
            code = personas.get(name)
            if not code:
                continue
            row = conn.execute(
                """SELECT u.id, o.id, o.tree_id, o.lft, o.rght, o.name, ra.role FROM mana_user u
                   LEFT JOIN LATERAL (SELECT * FROM mana_roleassignment WHERE user_id = u.id ORDER BY id LIMIT 1) ra
                     ON true
                   LEFT JOIN mana_organization o ON o.id = ra.organization_id
                   WHERE u.national_code = %s""",
                [code],
            ).fetchone()
            if row is None:
                raise SystemExit(f"persona {name} ({code}) is not in {target.database}")
            user_id, org_id, tree, lft, rght, org_name, role = row
            ctx[name] = {"code": code, "user_id": user_id, "role": role, "org_name": org_name}
            ctx[f"{name}_org"] = {"id": org_id, "tree": tree, "lft": lft, "rght": rght}
        ctx["main_org"], ctx["senior_org"] = ctx["main_leader_org"], ctx["senior_leader_org"]
        main = ctx["main_org"]
        ctx["node_org"] = conn.execute(
            "SELECT id FROM mana_organization WHERE tree_id = %s AND lft > %s AND rght < %s "
            "ORDER BY level DESC, lft LIMIT 1",
            [main["tree"], main["lft"], main["rght"]],
        ).fetchone()[0]
        ctx["node_referral"] = conn.execute(
            "SELECT r.id FROM mana_referral r JOIN mana_assignment a ON a.id = r.assignment_id "
            "WHERE r.assignee_id = %s AND a.period_id = %s ORDER BY r.deadline, r.id LIMIT 1",
            [ctx["busy_assignee"]["user_id"], ctx["period"]],
        ).fetchone()[0]
        for table in ("organization", "user", "referral", "assignment", "referralevent"):
            target.counts[table] = conn.execute(f"SELECT count(*) FROM mana_{table}").fetchone()[0]
        main_units = conn.execute(
            "SELECT count(*) FROM mana_organization WHERE tree_id = %s AND lft >= %s AND rght <= %s",
            [main["tree"], main["lft"], main["rght"]],
        ).fetchone()[0]
        ctx["main_leader"]["units"] = main_units
    target.ctx = ctx
    if target.units is None:
        target.label = f"{target.database} ({target.counts['organization']:,} units)"
    else:
        target.label = label_for(target.units)


# --- the run -------------------------------------------------------------------------------------------


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.servers: list[Server] = []
        self.work = Path(tempfile.mkdtemp(prefix="mana-country-"))
        self.python_env = dict(os.environ)
        self.results: dict[str, dict] = {}
        self.extras: dict = {}
        self.copies: list[str] = []
        self.problems: dict[str, list[str]] = {}
        self.keep_logs = False

    # servers

    def start_mana(self, target_url: str, kind: str = "daphne") -> Server:
        env = mana_env(self.python_env, target_url, self.work / "var", self.args.mana_env)
        server = mana_server(kind, python=self.args.python, app_dir=self.args.app_dir, env=env, log_dir=self.work)
        self.servers.append(server)
        log(f"{server.name} on {server.url} (pid {server.process.pid}), serving {self.args.app_dir}")
        return server

    def start_postgraphile(self, target_url: str) -> Server:
        server = postgraphile_server(target_url, self.work)
        self.servers.append(server)
        log(f"PostGraphile on {server.url} (pid {server.process.pid})")
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)
        problems = server.problems()
        if problems:
            self.problems.setdefault(server.name, [])
            self.problems[server.name] += [p for p in problems if p not in self.problems[server.name]]
            self.keep_logs = True

    def cleanup(self) -> None:
        for server in list(self.servers):
            self.stop(server)
        if self.copies:
            with admin_connection() as conn:
                for name in self.copies:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def sessions(self, client: httpx.AsyncClient, server: Server, target: Target, names) -> dict:
        sessions, timings = {}, []
        for name in names:
            session = ManaSession(client, server.url, self.args.timeout, database_url=target.url)
            outcome = await session.login(target.ctx[name]["code"], target.ctx["password"])
            if not outcome.ok:
                raise RuntimeError(f"sign-in of {name} ({target.ctx[name]['code']}) failed: {outcome.error}")
            sessions[name] = session
            timings.append(outcome.ms)
        return sessions, timings

    # reads

    async def reads(self, target: Target, result: dict) -> None:
        args = self.args
        mana = self.start_mana(target.url)
        postgraphile = self.start_postgraphile(target.url)
        try:
            async with new_client() as client:
                names = sorted({case.persona for case in CASES})
                sessions, logins = await self.sessions(client, mana, target, names)
                result["logins"] = logins
                pg = PostGraphile(client, postgraphile.url, args.timeout)
                for case in CASES:
                    log(f"{target.label}: {case.key}")
                    session = sessions[case.persona]
                    mana_vars, pg_vars = case.mana_variables(target.ctx), case.pg_variables(target.ctx)
                    sides = [
                        Side("Mana", lambda s=session, q=case.mana_query, v=mana_vars: s.post(q, v)),
                        Side("PostGraphile", lambda q=case.pg_query, v=pg_vars: pg.post(q, v)),
                    ]
                    entry = {"case": case, "sides": sides, "summaries": {}}
                    result["cases"][case.key] = entry
                    for side, summarize in zip(sides, (case.mana_summary, case.pg_summary), strict=True):
                        outcome = await side.send()
                        if outcome.ok:
                            entry["summaries"][side.name] = summarize(outcome.body["data"])
                        else:
                            entry["summaries"][side.name] = f"error: {outcome.error}"
                            if "cut off" in (outcome.error or ""):
                                side.cut_off = outcome.error
                    await interleaved_latency(sides, repeat=args.repeat, warmup=args.warmup, budget=args.latency_budget)
                    cancel_stragglers(target.database, args.timeout)
                    for side in sides:
                        for level in args.levels:
                            # A request slower than a level's window would only pile up in the server.
                            if side.cut_off or not side.samples or side.median() > args.max_seconds * 1000:
                                continue
                            side.rps[level] = await throughput(
                                side.send,
                                concurrency=level,
                                max_requests=args.max_requests,
                                max_seconds=args.max_seconds,
                            )
                            errors = side.rps[level]["errors"]
                            if errors:
                                side.errors.extend(errors[:3])
                                cancel_stragglers(target.database, args.timeout)
                            if any("cut off" in (e or "") for e in errors):
                                side.cut_off_at = level  # saturated: no higher level
                                break
                    self._print_case(entry)
        finally:
            self.stop(postgraphile)
            self.stop(mana)

    def _print_case(self, entry: dict) -> None:
        parts = []
        for side in entry["sides"]:
            rps = "/".join(f"{side.rps[level]['rps']:.1f}" if level in side.rps else "—" for level in self.args.levels)
            parts.append(f"{side.name}: median {fmt_ms(side.median(), side.cut_off)}, rps {rps}")
        log("   " + "; ".join(parts))

    # daphne against uvicorn

    async def servers_compare(self, target: Target) -> dict:
        results: dict = {}
        names = ("main_leader",)
        tree = next(case for case in CASES if case.key == "tree_main")
        for kind in ("daphne", "uvicorn"):
            server = self.start_mana(target.url, kind)
            try:
                async with new_client() as client:
                    sessions, _ = await self.sessions(client, server, target, names)
                    session = sessions["main_leader"]
                    for label, query, variables in (
                        ("me", MANA_ME, {}),
                        ("tree of the main leader, 3 levels", tree.mana_query, tree.mana_variables(target.ctx)),
                    ):
                        for _ in range(self.args.warmup):
                            await session.post(query, variables)
                        measured = await throughput(
                            lambda s=session, q=query, v=variables: s.post(q, v),
                            concurrency=8,
                            max_requests=self.args.max_requests,
                            max_seconds=self.args.max_seconds,
                        )
                        results.setdefault(label, {})[kind] = measured
                        log(f"{kind}: {label}: {measured['rps']:.1f} requests/s at 8 clients")
            finally:
                self.stop(server)
        return results

    # memory of a daphne worker

    async def memory(self, target: Target) -> dict:
        args = self.args
        server = self.start_mana(target.url)
        samples: list[tuple[int, float, int]] = []
        try:
            async with new_client() as client:
                sessions, _ = await self.sessions(client, server, target, ("main_leader", "busy_assignee"))
                by_key = {case.key: case for case in CASES}
                mix = [("main_leader", MANA_ME, {})]
                labels = ["`me`"]
                for key in ("orgs_main", "node_org", "inbox_assignee", "node_referral", "tree_main"):
                    case = by_key[key]
                    mix.append((case.persona, case.mana_query, case.mana_variables(target.ctx)))
                    labels.append(f"{case.label} ({case.persona})")
                step = max(1, args.memory_requests // 10)
                done = errors = 0
                started = time.monotonic()
                samples.append((0, 0.0, server.rss_kib()))
                deadline = started + args.memory_seconds

                async def worker(offset: int) -> None:
                    nonlocal done, errors
                    index = offset
                    while done < args.memory_requests and time.monotonic() < deadline:
                        persona, query, variables = mix[index % len(mix)]
                        index += 1
                        outcome = await sessions[persona].post(query, variables)
                        done += 1
                        errors += 0 if outcome.ok else 1
                        if done % step == 0:
                            samples.append((done, time.monotonic() - started, server.rss_kib()))

                await asyncio.gather(*(worker(i) for i in range(8)))
                if samples[-1][0] != done:
                    samples.append((done, time.monotonic() - started, server.rss_kib()))
                log(f"memory: {done:,} requests, RSS {samples[0][2] / 1024:.0f} → {samples[-1][2] / 1024:.0f} MiB")
                return {"samples": samples, "done": done, "errors": errors, "mix": labels}
        finally:
            self.stop(server)

    # the write path

    async def writes(self, target: Target) -> dict:
        args = self.args
        copy = f"{target.database}_mut"
        where = copy
        try:
            with admin_connection() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
                conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{target.database}"')
            self.copies.append(copy)
            url = f"{PG_BASE}/{copy}"
        except psycopg.Error as error:
            reason = " ".join(str(error).split())
            if not args.mutate_in_place:
                log(f"could not copy {target.database} ({reason}); mutations skipped (--mutate-in-place to allow)")
                return {"skipped": f"could not copy {target.database} to run them on: {reason}"}
            log(f"could not copy {target.database} ({reason}); the mutations change a few rows of it")
            where, url = f"{target.database} itself (copy failed: {reason})", target.url
        with psycopg.connect(url, autocommit=True) as conn:
            plan = mutations.plan(conn, target.ctx["period"], args.mutation_items, args.mutation_refers, 4)
            log(
                f"mutations on {where}: {len(plan.items)} submit+approve, "
                f"{len(plan.refers)} refer, {len(plan.users)} people"
            )
            server = self.start_mana(url)
            try:
                async with new_client() as client:
                    signing_in = time.monotonic()
                    sessions, logins = await mutations.sign_in(
                        lambda: ManaSession(client, server.url, args.timeout), plan, target.ctx["password"]
                    )
                    sign_in_seconds = time.monotonic() - signing_in
                    before = mutations.baseline(conn, plan)
                    seconds = await mutations.run(sessions, plan, args.mutation_concurrency)
            finally:
                self.stop(server)
            summary = mutations.summarize(plan, seconds)
            summary["check"] = mutations.verify(conn, plan, before)
        summary.update({"where": where, "logins": logins, "people": len(plan.users), "items": len(plan.items)})
        summary["sign_in_seconds"] = sign_in_seconds
        summary["refers_planned"] = len(plan.refers)
        log(
            f"mutations: {summary['transitions']} transitions in {seconds:.1f} s "
            f"({summary['transitions_per_second']:.1f}/s); check: {'OK' if summary['check']['ok'] else 'FAILED'}"
        )
        if copy in self.copies:
            with admin_connection() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
            self.copies.remove(copy)
        return summary

    async def main(self) -> Path:
        args = self.args
        # The code measured is the code at the start: others may commit while this runs.
        self.extras["commit"] = git(args.app_dir, "rev-parse", "HEAD")
        self.extras["dirty"] = bool(git(args.app_dir, "status", "--porcelain", "--untracked-files=no"))
        self.extras["subject"] = git(args.app_dir, "log", "-1", "--format=%s")
        ensure_postgraphile()
        targets = targets_from(args)
        for target in targets:
            ensure_seeded(args, target)
            build_context(args, target)
            result: dict = {"target": target, "cases": {}}
            self.results[target.label] = result
            log(f"{target.label}: {target.counts['organization']:,} units, {target.counts['referral']:,} referrals")
            if "reads" not in args.skip:
                await self.reads(target, result)
            if target is targets[0]:
                if "servers" not in args.skip:
                    self.extras["servers"] = await self.servers_compare(target)
                    self.extras["servers_on"] = target.label
                if "memory" not in args.skip:
                    self.extras["memory"] = await self.memory(target)
                    self.extras["memory_on"] = target.label
            if "mutations" not in args.skip:
                result["mutations"] = await self.writes(target)
        self.extras["problems"] = self.problems
        if self.keep_logs:
            self.extras["logs"] = str(self.work)
        report = render(args, self.results, self.extras)
        path = args.output or default_output(args)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report)
        print(report)
        log(f"report written to {path}")
        return path


def ensure_postgraphile() -> None:
    installed = BENCH / "node_modules" / "postgraphile" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"].startswith("4.14."):
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed to install PostGraphile (bench/package.json)")
    log("installing PostGraphile into bench/node_modules (npm ci) …")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def default_output(args: argparse.Namespace) -> Path:
    name = f"country-{datetime.date.today().isoformat()}"
    if args.app_dir != ROOT:
        name += f"-{git(args.app_dir, 'rev-parse', '--short', 'HEAD')}"
    if args.quick:
        name += "-quick"
    return BENCH / "results" / f"{name}.md"


# --- the report ---------------------------------------------------------------------------------------


def git(directory: Path, *command: str) -> str:
    result = subprocess.run(["git", "-C", str(directory), *command], capture_output=True, text=True)
    return result.stdout.strip()


def fmt_ms(value: float | None, cut_off: str | None = None) -> str:
    if cut_off:
        return cut_off
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    with admin_connection() as conn:
        postgres = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return [
        f"- machine: {os.cpu_count()} CPUs (`nproc`), {int(memory) / 1024 / 1024:.1f} GiB memory, {cpu}; "
        f"{platform.system()} {platform.release()}",
        f"- {postgres}; Python {platform.python_version()}; Node {node}",
    ]


def versions(python: str) -> str:
    script = (
        "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
        "('Django', 'strawberry-graphql', 'strawberry-graphql-django', 'daphne', 'uvicorn', 'httpx', 'psycopg')))"
    )
    return subprocess.run([python, "-c", script], capture_output=True, text=True).stdout.strip()


def render(args: argparse.Namespace, results: dict, extras: dict) -> str:
    commit, dirty, subject = extras["commit"], extras["dirty"], extras["subject"]
    database_env = {k: v for k, v in {**os.environ, **args.mana_env}.items() if k.startswith("DATABASE_")}
    database_env.pop("DATABASE_URL", None)
    database = ", ".join(f"`{k}={v}`" for k, v in sorted(database_env.items())) or "the settings' defaults"
    pg_version = json.loads((BENCH / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    lines = [
        f"# Mana against PostGraphile at country scale — {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Measured by `bench/country.py` ({' '.join(sys.argv[1:]) or 'no options'}).",
        "",
        *machine(),
        f"- Mana measured: `{commit[:12]}` ({subject}){' **with uncommitted changes**' if dirty else ''} "
        "(as at the start of the run), "
        f"served from `{args.app_dir}` by one daphne process, `MANA_ENV=production` (DEBUG off), "
        f"database connections: {database}"
        f"{', extra env ' + ', '.join(f'`{k}={v}`' for k, v in args.mana_env.items()) if args.mana_env else ''}",
        f"- {versions(args.python)}",
        f"- PostGraphile {pg_version} (one Node process, its default pool of 10 connections, "
        "connection-filter plugin, `dynamicJson`), on the same database; no permissions: its documents name the "
        "viewer's scope themselves",
        f"- latency: {args.repeat} timed requests per side after {args.warmup} warm-ups, interleaved (Mana, "
        f"PostGraphile, Mana, …; at most {args.latency_budget:.0f} s per query: `n=` says when fewer were timed); "
        "requests/s at "
        f"{', '.join(map(str, args.levels))} concurrent clients, each level bounded by {args.max_requests} requests "
        f"or {args.max_seconds:.0f} s (— : not measured, the median was longer than that; ✂: requests cut off, "
        "higher levels skipped); every request cut off after its timeout and its query cancelled in PostgreSQL: "
        f"{args.timeout:.0f} s",
        "",
    ]
    for label, result in results.items():
        target: Target = result["target"]
        counts = target.counts
        lines += [
            f"## {label}: database `{target.database}`",
            "",
            f"{counts['organization']:,} units, {counts['user']:,} users, {counts['assignment']:,} assignments, "
            f"{counts['referral']:,} referrals, {counts['referralevent']:,} referral events"
            + (f"; seeded in {target.seeded_in / 60:.1f} min" if target.seeded_in else "")
            + f". Personas from {target.personas_from}: "
            + ", ".join(
                f"{name} `{target.ctx[name]['code']}` ({target.ctx[name]['role']}, {target.ctx[name]['org_name']})"
                for name in PERSONAS
                if name in target.ctx
            )
            + f"; the main leader's subtree has {target.ctx['main_leader']['units']:,} units.",
            "",
        ]
        if result.get("logins"):
            lines += [f"Sign-in (`login` mutation, PBKDF2): median {fmt_ms(median(result['logins']))}.", ""]
        if result["cases"]:
            lines += read_table(args, result)
        if "mutations" in result:
            lines += mutation_section(args, result["mutations"])
    if len(results) > 1:
        lines += growth_table(args, results)
    if "servers" in extras:
        lines += [
            f"## daphne against uvicorn ({extras['servers_on']}), the same ASGI app, 8 concurrent clients",
            "",
            "| request | daphne requests/s | uvicorn requests/s | uvicorn/daphne |",
            "|---|---:|---:|---:|",
        ]
        for label, measured in extras["servers"].items():
            d, u = measured["daphne"], measured["uvicorn"]
            errors = sum(len(m["errors"]) for m in (d, u))
            lines.append(
                f"| {label} | {d['rps']:.1f} | {u['rps']:.1f} | {fmt_ratio(u['rps'], d['rps'])}"
                f"{f' ({errors} errors)' if errors else ''} |"
            )
        lines += [
            "",
            "uvicorn runs with its pure-Python h11 parser and asyncio loop (no httptools/uvloop installed).",
            "",
        ]
    if "memory" in extras:
        memory = extras["memory"]
        lines += [
            f"## Memory of a daphne worker ({extras['memory_on']})",
            "",
            f"A fresh daphne process, {memory['done']:,} requests from 8 clients cycling through "
            f"{', '.join(memory['mix'])} ({memory['errors']} errors); VmRSS of /proc/<pid>/status:",
            "",
            "| requests | seconds | RSS MiB |",
            "|---:|---:|---:|",
            *(f"| {done:,} | {seconds:.0f} | {rss / 1024:.1f} |" for done, seconds, rss in memory["samples"]),
            "",
        ]
    if extras.get("problems"):
        lines += [
            "## Errors in the servers' logs",
            "",
            *(f"- {name}: `{line}`" for name, found in extras["problems"].items() for line in found),
            "",
            f"(logs kept in `{extras.get('logs')}`)",
            "",
        ]
    lines += notes()
    return "\n".join(lines) + "\n"


def median(values: list[float]) -> float | None:
    import statistics

    return statistics.median(values) if values else None


def read_table(args: argparse.Namespace, result: dict) -> list[str]:
    levels = "/".join(map(str, args.levels))
    lines = [
        f"| query | viewer | Mana median | Mana p95 | PostGraphile median | PostGraphile p95 | Mana/PG "
        f"| Mana req/s at {levels} | PG req/s at {levels} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    answers = []
    problems = []
    for entry in result["cases"].values():
        case, (mana, pg) = entry["case"], entry["sides"]
        rps = [
            "/".join(
                f"{side.rps[level]['rps']:.1f}{'✂' if level == side.cut_off_at else ''}" if level in side.rps else "—"
                for level in args.levels
            )
            for side in (mana, pg)
        ]

        def n(side: Side) -> str:
            return f" (n={len(side.samples)})" if side.samples and len(side.samples) < args.repeat else ""

        lines.append(
            f"| {case.label} | {case.persona} | {fmt_ms(mana.median(), mana.cut_off)}{n(mana)} | {fmt_ms(mana.p95())} "
            f"| {fmt_ms(pg.median(), pg.cut_off)}{n(pg)} | {fmt_ms(pg.p95())} "
            f"| {fmt_ratio(mana.median(), pg.median())} | {rps[0]} | {rps[1]} |"
        )
        same = entry["summaries"].get("Mana") == entry["summaries"].get("PostGraphile")
        answers.append(
            f"| {case.label} | {entry['summaries'].get('Mana')} | {entry['summaries'].get('PostGraphile')} "
            f"| {'yes' if same else '**no**'} |"
        )
        for side in (mana, pg):
            if side.errors:
                problems.append(f"- {case.label}, {side.name}: {len(side.errors)} errors, e.g. `{side.errors[0]}`")
    lines += [
        "",
        "What each side answered (first request; tree shapes are units per level, Σprogress the sum of "
        "generalPercent + specificPercent over all units, computed by the client from the raw rows on the "
        "PostGraphile side):",
        "",
        "| query | Mana | PostGraphile | same |",
        "|---|---|---|---|",
        *answers,
        "",
    ]
    if problems:
        lines += ["Errors:", "", *problems, ""]
    return lines


def mutation_section(args: argparse.Namespace, summary: dict) -> list[str]:
    if "skipped" in summary:
        return [f"### The referral workflow (Mana): skipped — {summary['skipped']}", ""]
    check = summary["check"]
    kinds = ", ".join(
        f"{kind}: " + ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
        for kind, codes in summary["by_kind"].items()
    )
    lines = [
        f"### The referral workflow under {args.mutation_concurrency} concurrent clients (Mana)",
        "",
        f"On {summary['where']}: {summary['items']} assignees each open their IN_PROGRESS referral, "
        f"`savePerformance`, `finishReferral` (submit), then their referrers open it and `finishReferral` (approve); "
        f"meanwhile main leaders `refer` {summary['refers_planned']} pending assignments to subordinates. Every 4th "
        f"submit, approve and refer is sent twice at once by the same person ({summary['duplicate_pairs']} doubles). "
        f"{summary['people']} people signed in first ({summary['sign_in_seconds']:.0f} s, 4 at a time, "
        "not in the timing).",
        "",
        f"- {summary['requests']} requests in {summary['seconds']:.1f} s: **{summary['transitions']} transitions, "
        f"{summary['transitions_per_second']:.1f} transitions/s**; {summary['requests_per_second']:.1f} requests/s; "
        f"latency median {fmt_ms(summary['median_ms'])}, p95 {fmt_ms(summary['p95_ms'])}",
        f"- answers by kind: {kinds}",
        f"- database check: {check['events_found']} referral events written, {check['events_expected']} expected from "
        f"the successful answers; lost {check['lost']}, doubled or unexpected {check['doubled_or_unexpected']}; "
        f"pairs where both requests won: {check['pairs_both_won']}; referral versions consistent with their events: "
        f"{check['versions_checked'] - check['versions_off']}/{check['versions_checked']}; referred assignments with "
        f"exactly one top referral: {check['assignments_checked'] - check['assignments_off']}/"
        f"{check['assignments_checked']}; performance history rows "
        f"{check['history_rows']} ({check['history_off']} referrals off) — **{'OK' if check['ok'] else 'FAILED'}**",
    ]
    if summary["errors"]:
        lines.append(f"- transport/GraphQL errors, e.g.: `{summary['errors'][0]}`")
    return [*lines, ""]


def growth_table(args: argparse.Namespace, results: dict) -> list[str]:
    labels = list(results)
    first, last = results[labels[0]], results[labels[-1]]
    level = 8 if 8 in args.levels else args.levels[-1]
    lines = [
        f"## Growth: {labels[0]} → {labels[-1]}",
        "",
        f"| query | Mana median {labels[0]} | {labels[-1]} | × | PG median {labels[0]} | {labels[-1]} | × "
        f"| Mana req/s at {level}: × | PG req/s at {level}: × |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, entry in first["cases"].items():
        other = last["cases"].get(key)
        if other is None:
            continue
        (m1, p1), (m2, p2) = entry["sides"], other["sides"]

        def rps(side: Side) -> float | None:
            return side.rps[level]["rps"] if level in side.rps else None

        lines.append(
            f"| {entry['case'].label} | {fmt_ms(m1.median(), m1.cut_off)} | {fmt_ms(m2.median(), m2.cut_off)} "
            f"| {fmt_ratio(m2.median(), m1.median())} | {fmt_ms(p1.median(), p1.cut_off)} "
            f"| {fmt_ms(p2.median(), p2.cut_off)} | {fmt_ratio(p2.median(), p1.median())} "
            f"| {fmt_ratio(rps(m2), rps(m1))} | {fmt_ratio(rps(p2), rps(p1))} |"
        )
    w1, w2 = first.get("mutations"), last.get("mutations")
    if w1 and w2 and "skipped" not in w1 and "skipped" not in w2:
        lines.append(
            f"| workflow transitions/s ({args.mutation_concurrency} clients) | {w1['transitions_per_second']:.1f}/s "
            f"| {w2['transitions_per_second']:.1f}/s "
            f"| {fmt_ratio(w2['transitions_per_second'], w1['transitions_per_second'])} "
            "| | | | | |"
        )
    return [*lines, ""]


def notes() -> list[str]:
    return [
        "## How the two sides are made equivalent",
        "",
        "- Mana is queried as the persona (its permissions decide the rows); PostGraphile, which applies none, is "
        "asked for the same rows explicitly: the children of the leader's unit (`condition: {parentId}`), the "
        "subtree by `treeId` and `lft`/`rght`, the inbox as «assigned to me and open, or submitted to me» "
        "in the period, ordered by deadline then id.",
        "- What Mana computes on the server — `referralProgress`, `score`, `daysLeft`, `isOverdue`, "
        "`inboxAction` — PostGraphile returns as the raw rows it is computed from (each unit's assignments of the "
        "period with the indicator's kind and whether a top referral exists; the referral's deadline, status, user "
        "ids, target and the assignment's bounds); the «same» column checks the progress sums, computed from those "
        "rows, against Mana's.",
        "- The mutation path is Mana's alone: PostGraphile's generated CRUD mutations have no workflow to compare.",
        "",
    ]


def main() -> None:
    args = parse_args()
    run = Run(args)

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        asyncio.run(run.main())
    except KeyboardInterrupt:
        log("interrupted; stopping the servers")
        sys.exit(130)
    finally:
        run.cleanup()
        if run.keep_logs:
            log(f"server logs kept in {run.work}")
        else:
            shutil.rmtree(run.work, ignore_errors=True)


if __name__ == "__main__":
    main()
