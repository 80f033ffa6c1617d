"""Live updates against a real server: delivery latency, nothing lost or misdelivered, CPU and memory.

Run from the repository root: ``.venv/bin/python bench/live_updates.py`` (``--quick`` for a smoke
run; ``--help`` for the options; see bench/README.md).

For each mode — the embedded default (one daphne process, a SQLite file, the in-memory channel layer)
and over Redis (two daphne workers sharing PostgreSQL ``mana_bench_live`` and the Redis channel layer
on db 11) — it builds the people of bench/live_fixture.py in a fresh database, starts the server,
and runs three phases, each with its own people: one subscriber alone (the baseline), then N = 100
and N = 1,000 subscribers of ``inboxUpdated``, each with their own API token (Bearer in
connection_init). In each phase, units' main leaders ``refer`` their assignments over HTTP to their
experts (Bearer too), M referrals at a fixed rate; each referral concerns its leader and its expert.
A tenth of the pairs get no referral, and a tenth of the experts subscribe with a token of another
unit, so that their referrals reach their socket but lie outside its scope: neither may receive
anything. Then 10,000 connect / init / subscribe / disconnect cycles measure the workers' memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from country_http import Server, mana_env, mana_server  # noqa: E402

PG_BASE = "postgres://postgres@127.0.0.1:5432"
DATABASE = "mana_bench_live"
REDIS_URL = "redis://127.0.0.1:6379/11"
REDIS_PREFIX = "mana"  # settings.REDIS_PREFIX's default: the keys the leak checks read
PROTOCOL = "graphql-transport-ws"
DEADLINE = "1402/11/18"  # inside the fixture's period, before its assignments' deadline
INBOX = "subscription { inboxUpdated { kind at referral { id } registrationRequest { id } } }"
READY = "query { __typename }"
REFER = "mutation($input: ReferInput!) { refer(input: $input) { errors { code message } referral { id } } }"
# Pairs whose global index has these remainders (mod 10): their units get no referral; the
# fixture's decoys (an expert's token of another unit) are every tenth pair from 9.
IDLE_REMAINDER = 4
# What the server is told beyond mana_env's production settings: the limit of API-token requests
# is lifted (the cycles reuse a few tokens thousands of times; the counting itself still runs).
# MANA_WS_MAX_CONNECTIONS_PER_PERSON keeps its default: the leak check relies on it.
SERVER_ENV = {"MANA_API_TOKEN_RATE": "1000000/m"}
CONNECTIONS_PER_PERSON = 10  # settings.MANA_WS_MAX_CONNECTIONS_PER_PERSON's default


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: N = 20 and 60, few mutations and cycles")
    parser.add_argument("--modes", default="embedded,redis", help="embedded and/or redis")
    parser.add_argument("--sizes", help="subscribers per phase (even numbers) [100,1000; quick 20,60]")
    parser.add_argument("--mutations", type=int, help="referrals per phase [300; quick 30]")
    parser.add_argument("--baseline", type=int, help="referrals of the single-subscriber phase [60; quick 15]")
    parser.add_argument("--rate", type=float, default=10.0, help="referrals per second")
    parser.add_argument("--in-flight", type=int, default=8, help="referral requests in flight at most")
    parser.add_argument("--cycles", type=int, help="connect/init/subscribe/disconnect cycles [10000; quick 300]")
    parser.add_argument("--cycle-concurrency", type=int, default=20)
    parser.add_argument("--cycle-seconds", type=float, help="time bound of the cycles per mode [360; quick 40]")
    parser.add_argument("--cycle-people", type=int, default=50, help="people whose tokens the cycles use")
    parser.add_argument("--delivery-timeout", type=float, default=30.0, help="seconds to wait for the last messages")
    parser.add_argument(
        "--idle-seconds", type=float, help="seconds subscribers stay idle before the referrals [12; quick 6]"
    )
    parser.add_argument(
        "--redis-socket-timeout",
        type=float,
        help="append ?socket_timeout=S to the servers' REDIS_URL (redis-py 8 reads its sockets for 5 s by default)",
    )
    parser.add_argument("--output", type=Path)
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs and the fixture")
    args = parser.parse_args(argv)
    defaults = (
        {"sizes": "20,60", "mutations": 30, "baseline": 15, "cycles": 300, "cycle_seconds": 40, "idle_seconds": 6}
        if args.quick
        else {
            "sizes": "100,1000",
            "mutations": 300,
            "baseline": 60,
            "cycles": 10_000,
            "cycle_seconds": 360,
            "idle_seconds": 12,
        }
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.sizes = [int(size) for size in str(args.sizes).split(",")]
    if any(size < 2 or size % 2 for size in args.sizes):
        parser.error("--sizes: even numbers ≥ 2 (a leader and an expert per unit)")
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if not set(args.modes) <= {"embedded", "redis"}:
        parser.error("--modes: embedded and/or redis")
    return args


# --- the fixture ----------------------------------------------------------------------------------------


@dataclass
class Person:
    user_id: int
    token: str
    side: str  # "leader" or "expert"
    out_of_scope: bool = False  # an expert whose token acts in another unit
    idle: bool = False  # of a unit that gets no referral
    worker: int = 0  # which server process the socket goes to

    @property
    def must_receive_nothing(self) -> bool:
        return self.out_of_scope or self.idle


@dataclass
class Mutation:
    actor: str  # the leader's token
    assignment: str
    assignee: str  # the expert's global id
    concerned: list[Person]  # who must receive it: its subscribed people, in scope
    worker: int = 0
    referral: str | None = None
    error: str | None = None
    ms: float = 0.0


@dataclass
class Phase:
    name: str
    subscribers: list[Person]
    mutations: list[Mutation]


def phases_of(fixture: dict, args: argparse.Namespace, workers: int) -> list[Phase]:
    """The baseline, then one phase per size, each with the next pairs of the fixture."""
    baseline = fixture["baseline"]
    expert = Person(baseline["expert"]["id"], baseline["expert"]["token"], "expert")
    count = min(args.baseline, len(baseline["assignments"]))
    leader_token, assignee = baseline["leader"]["token"], baseline["expert"]["global_id"]
    phases = [
        Phase(
            "1 (baseline)",
            [expert],
            [
                Mutation(leader_token, gid, assignee, [expert], worker=j % workers)
                for j, gid in enumerate(baseline["assignments"][:count])
            ],
        )
    ]
    start = 0
    for size in args.sizes:
        rows = fixture["pairs"][start : start + size // 2]
        subscribers: list[Person] = []
        active: list[tuple[dict, Person, Person]] = []
        for offset, row in enumerate(rows):
            index = start + offset
            idle = index % 10 == IDLE_REMAINDER
            leader = Person(row["leader"]["id"], row["leader"]["token"], "leader", idle=idle, worker=index % workers)
            expert = Person(
                row["expert"]["id"],
                row["expert"]["token"],
                "expert",
                out_of_scope=row["expert"]["out_of_scope"],
                idle=idle,
                worker=(index + 1) % workers,
            )
            subscribers += [leader, expert]
            if not idle:
                active.append((row, leader, expert))
        start += len(rows)
        capacity = sum(len(row["assignments"]) for row, _, _ in active)
        if args.mutations > capacity:
            log(f"N={size}: {args.mutations} referrals asked, the units have {capacity} assignments: {capacity}")
        mutations = []
        for j in range(min(args.mutations, capacity)):
            row, leader, expert = active[j % len(active)]
            concerned = [leader] + ([] if expert.out_of_scope else [expert])
            gid = row["assignments"][j // len(active)]
            mutations.append(Mutation(leader.token, gid, row["expert"]["global_id"], concerned, worker=j % workers))
        phases.append(Phase(str(size), subscribers, mutations))
    return phases


# --- processes --------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5); the split starts at field 3 (state).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def server_redis_url(args: argparse.Namespace) -> str:
    if args.redis_socket_timeout is None:
        return REDIS_URL
    return f"{REDIS_URL}?socket_timeout={args.redis_socket_timeout:g}"


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


# --- the WebSocket client -----------------------------------------------------------------------------


class Refused(Exception):
    """The server closed the socket instead of acknowledging (4429, 4403 …) or answered otherwise."""


def ws_url(server: Server) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql/"


async def open_subscribed(server: Server, token: str, timeout: float, subscribe: bool = True):
    """A socket signed in with ``token`` (and subscribed to inboxUpdated): connect, connection_init,
    ack, subscribe, then a query on the same socket whose answer tells that the subscribe before it
    was taken in. Messages of the subscription that come first are returned with the socket."""
    ws = await connect(
        ws_url(server),
        subprotocols=[PROTOCOL],
        # An allowed host's Origin: accepted whether or not the server checks handshakes without one.
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=timeout,
        ping_interval=None,
        close_timeout=5,
        max_queue=None,
    )
    early: list[tuple[str, float]] = []
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        try:
            ack = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        except ConnectionClosed as closed:
            raise Refused(f"closed {closed.rcvd.code if closed.rcvd else '?'}") from None
        if ack.get("type") != "connection_ack":
            raise Refused(f"answered {ack.get('type')}")
        if subscribe:
            await ws.send(json.dumps({"id": "inbox", "type": "subscribe", "payload": {"query": INBOX}}))
            await ws.send(json.dumps({"id": "ready", "type": "subscribe", "payload": {"query": READY}}))
            while True:
                raw = await asyncio.wait_for(ws.recv(), timeout)
                message = json.loads(raw)
                if message.get("id") == "ready":
                    if message["type"] == "complete":
                        break
                    if message["type"] == "error":
                        raise Refused(f"ready query: {message}")
                else:
                    early.append((raw, time.time()))
    except BaseException:
        await ws.close()
        raise
    return ws, early


@dataclass
class Delivery:
    referral: str | None
    kind: str
    at: float  # the event's time (epoch seconds), as the server stamped it before commit
    received: float  # when this client read it


class Subscriber:
    def __init__(self, person: Person, server: Server) -> None:
        self.person, self.server = person, server
        self.deliveries: list[Delivery] = []
        self.other: list[str] = []  # anything else that came on the socket (errors, completes)
        self.failure: str | None = None  # could not connect and subscribe
        self.dropped: str | None = None  # closed by the server while subscribed
        self.ready = asyncio.Event()
        self.ws = None
        self.closing = False

    async def run(self, gate: asyncio.Semaphore, timeout: float) -> None:
        try:
            async with gate:
                self.ws, early = await open_subscribed(self.server, self.person.token, timeout)
            self.ready.set()
            for raw, at in early:
                self.take(raw, at)
            async for raw in self.ws:
                self.take(raw, time.time())
        except ConnectionClosed:
            pass
        except Exception as error:  # every failure is reported, none stops the others
            self.failure = f"{type(error).__name__}: {error}"[:200]
        finally:
            self.ready.set()
        if self.ws is not None and not self.closing:
            self.dropped = f"closed by the server: {self.ws.close_code} {self.ws.close_reason or ''}".strip()

    def take(self, raw: str | bytes, received: float) -> None:
        message = json.loads(raw)
        payload = message.get("payload") or {}
        if message.get("type") == "next" and message.get("id") == "inbox" and not payload.get("errors"):
            event = payload["data"]["inboxUpdated"]
            at = datetime.datetime.fromisoformat(event["at"]).timestamp()
            self.deliveries.append(Delivery((event["referral"] or {}).get("id"), event["kind"], at, received))
        else:
            self.other.append(json.dumps(message, ensure_ascii=False)[:300])

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


# --- measurements ----------------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class PhaseResult:
    name: str
    subscribers: int
    nothing_share: int  # subscribers who must receive nothing
    connect_seconds: float
    connect_failures: list[str]
    dropped: list[str]  # subscribers the server closed during the phase
    mutations: int
    mutation_errors: list[str]
    fire_seconds: float
    mutation_p50_ms: float | None
    expected: int
    received: int
    lost: int
    wrong: int
    duplicates: int
    other_messages: list[str]
    latencies_ms: list[float]
    latencies_by_side: dict[str, list[float]]
    worker_cpu: float
    client_cpu: float
    rss_connected_kib: list[int]

    def latency(self, q: int, side: str | None = None) -> float | None:
        return percentile(self.latencies_by_side.get(side, []) if side else self.latencies_ms, q)


@dataclass
class CycleResult:
    done: int
    seconds: float
    outcomes: Counter
    samples: list[tuple[int, list[int]]]  # (cycles done, RSS KiB of each worker)
    people: int
    limit_probe: dict = field(default_factory=dict)
    redis_leftovers: dict | None = None


class ModeRun:
    def __init__(self, mode: str, args: argparse.Namespace, work: Path) -> None:
        self.mode, self.args, self.work = mode, args, work
        self.workers: list[Server] = []
        self.phases: list[PhaseResult] = []
        self.cycles: CycleResult | None = None
        self.fixture_info: dict = {}
        self.rss_start: list[int] = []
        self.problems: list[str] = []
        self.tracebacks = 0

    # -- setup

    def environment(self) -> tuple[dict, str]:
        var_dir = self.work / self.mode
        var_dir.mkdir(parents=True, exist_ok=True)
        if self.mode == "embedded":
            database_url = f"sqlite:///{var_dir / 'mana.sqlite3'}"
            extra = dict(SERVER_ENV)
        else:
            database_url = f"{PG_BASE}/{DATABASE}"
            extra = {**SERVER_ENV, "REDIS_URL": server_redis_url(self.args), "REDIS_PREFIX": REDIS_PREFIX}
        return mana_env(os.environ, database_url, var_dir, extra), database_url

    def prepare(self) -> dict:
        env, _ = self.environment()
        if self.mode == "redis":
            admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}")
            redis_client().flushdb()
        pairs = sum(self.args.sizes) // 2
        out = self.work / f"fixture-{self.mode}.json"
        log(f"{self.mode}: building the fixture ({pairs} units with a leader and an expert each, and the baseline)")
        subprocess.run(
            [sys.executable, str(BENCH / "live_fixture.py"), "--pairs", str(pairs), "--out", str(out)],
            cwd=ROOT,
            env={**env, "PGAPPNAME": "bench-live-fixture"},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        fixture = json.loads(out.read_text())
        self.fixture_info = {key: fixture[key] for key in ("units", "users", "seconds")}
        return fixture

    def start_servers(self) -> None:
        env, _ = self.environment()
        count = 1 if self.mode == "embedded" else 2
        for _ in range(count):
            self.workers.append(mana_server("daphne", python=sys.executable, app_dir=ROOT, env=env, log_dir=self.work))
        self.rss_start = self.rss()
        log(f"{self.mode}: {count} daphne worker(s) on ports {', '.join(str(w.port) for w in self.workers)}")

    def stop_servers(self) -> None:
        for worker in self.workers:
            if worker.process is None:
                continue
            worker.stop()
            self.problems += [f"worker {worker.port}: {line}" for line in worker.problems()]
            with contextlib.suppress(OSError):
                text = worker.log_path.read_text(errors="replace")
                self.tracebacks += text.count("Traceback (most recent call last)")

    def rss(self) -> list[int]:
        return [worker.rss_kib() for worker in self.workers]

    def worker_cpu(self) -> float:
        return sum(cpu_seconds(worker.process.pid) for worker in self.workers)

    # -- a phase

    async def run_phase(self, phase: Phase) -> PhaseResult:
        log(f"{self.mode}: N={phase.name}: {len(phase.subscribers)} subscribers, {len(phase.mutations)} referrals")
        subscribers = [Subscriber(person, self.workers[person.worker]) for person in phase.subscribers]
        gate = asyncio.Semaphore(50)
        started = time.monotonic()
        tasks = [asyncio.create_task(s.run(gate, timeout=30)) for s in subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subscribers)), timeout=600)
        connect_seconds = time.monotonic() - started
        connect_failures = [f"{s.person.user_id}: {s.failure}" for s in subscribers if s.failure]
        rss_connected = self.rss()
        # Connected and idle first, as subscribers mostly are: a socket the server drops while idle
        # (a channel-layer read that times out, say) loses the messages that follow.
        await asyncio.sleep(self.args.idle_seconds)

        cpu_before, client_before = self.worker_cpu(), own_cpu_seconds()
        fire_started = time.monotonic()
        await self.fire(phase.mutations)
        fire_seconds = time.monotonic() - fire_started
        expected = {
            (person.user_id, mutation.referral)
            for mutation in phase.mutations
            if mutation.referral
            for person in mutation.concerned
        }
        await self.until_delivered(subscribers, expected)
        cpu_used, client_used = self.worker_cpu() - cpu_before, own_cpu_seconds() - client_before

        dropped = [f"{s.person.user_id}: {s.dropped}" for s in subscribers if s.dropped]
        for s in subscribers:
            await s.close()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=60)

        by_key: dict[tuple[int, str | None], list[Delivery]] = {}
        side_of = {s.person.user_id: s.person.side for s in subscribers}
        for s in subscribers:
            for delivery in s.deliveries:
                by_key.setdefault((s.person.user_id, delivery.referral), []).append(delivery)
        received = expected & by_key.keys()
        latencies: list[float] = []
        by_side: dict[str, list[float]] = {}
        wrong_kind = 0
        for key in received:
            first = min(by_key[key], key=lambda d: d.received)
            wrong_kind += first.kind != "ASSIGNED"
            ms = (first.received - first.at) * 1000
            latencies.append(ms)
            by_side.setdefault(side_of[key[0]], []).append(ms)
        wrong = sum(len(deliveries) for key, deliveries in by_key.items() if key not in expected)
        ok_ms = [m.ms for m in phase.mutations if m.referral]
        result = PhaseResult(
            name=phase.name,
            subscribers=len(subscribers),
            nothing_share=sum(p.must_receive_nothing for p in phase.subscribers),
            connect_seconds=connect_seconds,
            connect_failures=connect_failures,
            dropped=dropped,
            mutations=len(phase.mutations),
            mutation_errors=[m.error for m in phase.mutations if m.error],
            fire_seconds=fire_seconds,
            mutation_p50_ms=statistics.median(ok_ms) if ok_ms else None,
            expected=len(expected),
            received=len(received),
            lost=len(expected - by_key.keys()),
            wrong=wrong + wrong_kind,
            duplicates=sum(len(by_key[key]) - 1 for key in received),
            other_messages=[f"{s.person.user_id}: {m}" for s in subscribers for m in s.other],
            latencies_ms=latencies,
            latencies_by_side=by_side,
            worker_cpu=cpu_used,
            client_cpu=client_used,
            rss_connected_kib=rss_connected,
        )
        log(
            f"{self.mode}: N={phase.name}: {result.received}/{result.expected} delivered, lost {result.lost}, "
            f"wrong {result.wrong}, p50 {fmt_ms(result.latency(50))}, p99 {fmt_ms(result.latency(99))}"
        )
        return result

    async def fire(self, mutations: list[Mutation]) -> None:
        """The referrals at ``--rate`` per second, at most ``--in-flight`` at once, to the workers in turn."""
        args = self.args
        limits = httpx.Limits(max_connections=args.in_flight, max_keepalive_connections=args.in_flight)
        gate = asyncio.Semaphore(args.in_flight)
        async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
            start = time.monotonic()

            async def one(j: int, mutation: Mutation) -> None:
                await asyncio.sleep(max(0.0, start + j / args.rate - time.monotonic()))
                async with gate:
                    variables = {
                        "input": {"source": mutation.assignment, "assignee": mutation.assignee, "deadline": DEADLINE}
                    }
                    headers = {"Authorization": f"Bearer {mutation.actor}", "X-Forwarded-Proto": "https"}
                    sent = time.perf_counter()
                    try:
                        response = await client.post(
                            f"{self.workers[mutation.worker].url}/graphql/",
                            json={"query": REFER, "variables": variables},
                            headers=headers,
                            timeout=60,
                        )
                        mutation.ms = (time.perf_counter() - sent) * 1000
                        body = response.json()
                        payload = (body.get("data") or {}).get("refer") or {}
                        if response.status_code != 200 or body.get("errors") or payload.get("errors"):
                            errors = body.get("errors") or payload.get("errors")
                            mutation.error = f"HTTP {response.status_code} {errors}"
                        else:
                            mutation.referral = payload["referral"]["id"]
                    except (httpx.HTTPError, ValueError) as error:
                        mutation.error = f"{type(error).__name__}: {error}"
                    if mutation.error:
                        mutation.error = mutation.error[:300]

            await asyncio.gather(*(one(j, m) for j, m in enumerate(mutations)))

    async def until_delivered(self, subscribers: list[Subscriber], expected: set) -> None:
        """Until every expected message came (or --delivery-timeout), then a quiet second more for
        anything that should not come."""
        deadline = time.monotonic() + self.args.delivery_timeout
        while time.monotonic() < deadline:
            got = {(s.person.user_id, d.referral) for s in subscribers for d in s.deliveries}
            if expected <= got:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)

    # -- memory over connect cycles

    async def run_cycles(self, people: list[Person]) -> CycleResult:
        args = self.args
        log(f"{self.mode}: {args.cycles} connect/init/subscribe/disconnect cycles ({args.cycle_concurrency} at once)")
        outcomes: Counter = Counter()
        samples = [(0, self.rss())]
        every = max(1, args.cycles // 10)
        issued = done = 0
        started = time.monotonic()
        deadline = started + args.cycle_seconds

        async def cycle(k: int) -> str:
            person = people[k % len(people)]
            server = self.workers[k % len(self.workers)]
            try:
                ws, early = await open_subscribed(server, person.token, timeout=30)
            except Refused as refused:
                return str(refused)
            except Exception as error:
                return type(error).__name__
            await ws.close()
            return "ok" if not early else "ok, with an unexpected message"

        async def loop() -> None:
            nonlocal issued, done
            while issued < args.cycles and time.monotonic() < deadline:
                k, issued = issued, issued + 1
                outcomes[await cycle(k)] += 1
                done += 1
                if done % every == 0:
                    samples.append((done, self.rss()))

        await asyncio.gather(*(loop() for _ in range(args.cycle_concurrency)))
        seconds = time.monotonic() - started
        await asyncio.sleep(3)
        samples.append((done, self.rss()))
        result = CycleResult(done, seconds, outcomes, samples, len(people))
        result.limit_probe = await self.probe_connection_limit(people[:5])
        if self.mode == "redis":
            await asyncio.sleep(1)
            result.redis_leftovers = self.redis_leftovers()
        log(f"{self.mode}: {done} cycles in {seconds:.0f} s: {dict(outcomes)}; RSS {samples[0][1]} → {samples[-1][1]}")
        return result

    async def probe_connection_limit(self, people: list[Person]) -> dict:
        """Each cycled person opens as many sockets at once as the per-person limit allows: a
        connection counter left high by the cycles would refuse the last ones (4429)."""
        outcomes: Counter = Counter()
        for person in people:
            opened = []
            for attempt in range(CONNECTIONS_PER_PERSON):
                server = self.workers[attempt % len(self.workers)]
                try:
                    ws, _ = await open_subscribed(server, person.token, timeout=30, subscribe=False)
                    opened.append(ws)
                    outcomes["acknowledged"] += 1
                except Refused as refused:
                    outcomes[str(refused)] += 1
                except Exception as error:
                    outcomes[type(error).__name__] += 1
            for ws in opened:
                await ws.close()
        return {"people": len(people), "sockets each": CONNECTIONS_PER_PERSON, **outcomes}

    def redis_leftovers(self) -> dict:
        """With every socket closed: group memberships and connection counters still in Redis."""
        client = redis_client()
        members = sum(client.zcard(key) for key in client.scan_iter(f"{REDIS_PREFIX}:group:*"))
        counters = [int(client.get(key) or 0) for key in client.scan_iter(f"{REDIS_PREFIX}:*:ws-connections:*")]
        return {
            "group memberships": members,
            "connection counters": len(counters),
            "counters not at 0": sum(value != 0 for value in counters),
            "keys in db 11": client.dbsize(),
        }

    async def run(self) -> None:
        fixture = self.prepare()
        self.start_servers()
        phases = phases_of(fixture, self.args, len(self.workers))
        for phase in phases:
            self.phases.append(await self.run_phase(phase))
        cycle_people = phases[-1].subscribers[: self.args.cycle_people]
        self.cycles = await self.run_cycles(cycle_people)


# --- the report ------------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def git(*command: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *command], capture_output=True, text=True).stdout.strip()


def machine(modes: list[str]) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    lines = [
        f"- machine: {os.cpu_count()} CPUs, {int(memory) / 1024 / 1024:.1f} GiB memory, {cpu}; "
        f"{platform.system()} {platform.release()}",
    ]
    servers = [f"Python {platform.python_version()}"]
    if "redis" in modes:
        import psycopg

        with psycopg.connect(f"{PG_BASE}/postgres") as conn:
            servers.append(conn.execute("SELECT version()").fetchone()[0].split(" on ")[0])
        servers.append(f"Redis {redis_client().info('server')['redis_version']}")
    import sqlite3

    servers.append(f"SQLite {sqlite3.sqlite_version}")
    lines.append(f"- {'; '.join(servers)}")
    packages = ("Django", "channels", "channels-redis", "daphne", "strawberry-graphql", "websockets", "httpx")
    import importlib.metadata as metadata

    lines.append("- " + ", ".join(f"{name} {metadata.version(name)}" for name in packages))
    commit = git("rev-parse", "--short", "HEAD")
    dirty = "yes" if git("status", "--porcelain", "--untracked-files=no") else "no"
    lines.append(f"- Mana at `{commit}` ({git('log', '-1', '--format=%s')[:90]}); uncommitted changes: {dirty}")
    return lines


def render(args: argparse.Namespace, runs: list[ModeRun], started: datetime.datetime, seconds: float) -> str:
    server_env = ", ".join(f"`{key}={value}`" for key, value in SERVER_ENV.items())
    out = [
        f"# Live updates — {started:%Y-%m-%d %H:%M}" + (" (quick)" if args.quick else ""),
        "",
        f"`{' '.join(['.venv/bin/python bench/live_updates.py', *sys.argv[1:]])}` — {seconds / 60:.1f} min",
        "",
        *machine(args.modes),
        f"- server environment beyond mana_env's production settings: {server_env} "
        f"(MANA_WS_MAX_CONNECTIONS_PER_PERSON left at its default, {CONNECTIONS_PER_PERSON})",
        f"- each phase: subscribers connected (50 at a time), {args.idle_seconds:g} s idle, then the referrals at "
        f"{args.rate:g}/s (at most {args.in_flight} in flight) to the workers in turn; subscribers spread over the "
        f"workers; `{INBOX}`",
        "",
    ]
    for run in runs:
        out += mode_section(run)
    out += notes()
    return "\n".join(out)


def mode_section(run: ModeRun) -> list[str]:
    if run.mode == "embedded":
        title = "Embedded default: one daphne process, SQLite file, in-memory channel layer"
    else:
        title = f"Over Redis: two daphne workers, PostgreSQL `{DATABASE}`, `REDIS_URL={server_redis_url(run.args)}`"
    info = run.fixture_info
    out = [
        f"## {title}",
        "",
        f"Fixture: {info.get('units')} units, {info.get('users')} people, built in "
        f"{info.get('seconds', {}).get('total')} s (migrations included). "
        f"Workers' RSS at start: {', '.join(mib(k) for k in run.rss_start)} MiB.",
        "",
        "| N | must get nothing | connect | dropped | referrals (failed) | expected | received | lost | wrong | dup "
        "| p50 | p95 | p99 | max | p50 ÷ baseline | worker CPU / message | / referral | RSS connected (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    baseline = run.phases[0].latency(50) if run.phases else None
    for phase in run.phases:
        p50 = phase.latency(50)
        done = phase.mutations - len(phase.mutation_errors)
        failed = f" ({len(phase.connect_failures)} failed)" if phase.connect_failures else ""
        out.append(
            f"| {phase.name} | {phase.nothing_share} | {phase.connect_seconds:.1f} s{failed} | {len(phase.dropped)} "
            f"| {phase.mutations} ({len(phase.mutation_errors)}) | {phase.expected} | {phase.received} "
            f"| {phase.lost} | {phase.wrong} | {phase.duplicates} | {fmt_ms(p50)} | {fmt_ms(phase.latency(95))} "
            f"| {fmt_ms(phase.latency(99))} | {fmt_ms(max(phase.latencies_ms, default=None))} "
            f"| {f'{p50 / baseline:.2f}×' if p50 and baseline else '—'} "
            f"| {fmt_ms(phase.worker_cpu * 1000 / phase.received) if phase.received else '—'} "
            f"| {fmt_ms(phase.worker_cpu * 1000 / done) if done else '—'} "
            f"| {', '.join(mib(k) for k in phase.rss_connected_kib)} |"
        )
    out += ["", "Latency by side (p50 / p99), the referral's own round trip (median), rates, CPU:", ""]
    for phase in run.phases:
        sides = ", ".join(
            f"{side} {fmt_ms(phase.latency(50, side))} / {fmt_ms(phase.latency(99, side))}"
            for side in sorted(phase.latencies_by_side)
        )
        rate = phase.mutations / phase.fire_seconds if phase.fire_seconds else 0
        out.append(
            f"- N={phase.name}: {sides or 'nothing received'}; refer {fmt_ms(phase.mutation_p50_ms)}; "
            f"{rate:.1f} referrals/s; workers' CPU {phase.worker_cpu:.1f} s, this client's {phase.client_cpu:.1f} s"
        )
        for label, items in (
            ("connections failed", phase.connect_failures),
            ("closed by the server", phase.dropped),
            ("referrals failed", phase.mutation_errors),
            ("other messages", phase.other_messages),
        ):
            if items:
                shown = "; ".join(f"`{item}`" for item in items[:3])
                out.append(f"  - {label} ({len(items)}): {shown}{' …' if len(items) > 3 else ''}")
    if run.cycles:
        out += cycles_section(run)
    if run.problems:
        out += ["", f"Errors in the server logs ({run.tracebacks} tracebacks; the last line of each kind):"]
        out += [f"- `{line}`" for line in run.problems]
    out.append("")
    return out


def cycles_section(run: ModeRun) -> list[str]:
    cycles = run.cycles
    first, last = cycles.samples[0], cycles.samples[-1]
    # The first tenth warms the allocator up; growth is counted from there.
    tenth = cycles.samples[1] if len(cycles.samples) > 2 else first
    span = max(1, last[0] - tenth[0])
    outcomes = ", ".join(f"{outcome} {count}" for outcome, count in cycles.outcomes.most_common())
    out = [
        "",
        f"**Connect cycles**: {cycles.done} × (connect, init with a Bearer token, subscribe, disconnect) in "
        f"{cycles.seconds:.0f} s ({cycles.done / max(cycles.seconds, 0.001):.0f}/s, "
        f"{run.args.cycle_concurrency} at once, {cycles.people} people's tokens in turn): {outcomes}.",
        "",
        f"| worker | RSS before (MiB) | after {tenth[0]} | after {last[0]} (+3 s) | growth per 1,000 from {tenth[0]} |",
        "|---|---|---|---|---|",
    ]
    for index in range(len(first[1])):
        growth = (last[1][index] - tenth[1][index]) / span * 1000
        # Over fewer cycles, a per-1,000 figure would extrapolate the allocator's warm-up.
        shown = f"{growth:+.0f} KiB" if span >= 1000 else "— (too few cycles)"
        out.append(
            f"| {index + 1} | {mib(first[1][index])} | {mib(tenth[1][index])} | {mib(last[1][index])} | {shown} |"
        )
    samples = "; ".join(f"{done}: {'/'.join(mib(k) for k in rss)}" for done, rss in cycles.samples)
    out += [
        "",
        f"RSS samples (cycles: MiB per worker): {samples}.",
        "",
        f"Then {cycles.limit_probe.get('people')} of those people each opened {CONNECTIONS_PER_PERSON} sockets at "
        "once (the per-person limit; a connection counter left high by the cycles would refuse the last ones): "
        + ", ".join(f"{k} {v}" for k, v in cycles.limit_probe.items() if k not in ("people", "sockets each"))
        + ".",
    ]
    if cycles.redis_leftovers is not None:
        leftovers = ", ".join(f"{k} {v}" for k, v in cycles.redis_leftovers.items())
        out.append(f"Left in Redis db 11 with every socket closed: {leftovers}.")
    return out


def notes() -> list[str]:
    return [
        "## How to read it",
        "",
        "- **Latency**: the client's clock when it read the message minus the event's `at`, which the server "
        "stamps in the referral's transaction just before it commits (same machine, same clock). It includes the "
        "commit, the hand-over to the channel layer, the subscriber's scope check, and the client's own event loop "
        "(one Python process reads every socket).",
        "- **lost**: (subscriber, referral) pairs that should have arrived and did not within the delivery timeout. "
        "**wrong**: messages to someone the referral does not concern (or out of their token's scope), and messages "
        "of another kind than ASSIGNED. **dup**: the same referral delivered twice to the same subscriber.",
        "- **must get nothing**: the people of the units that get no referral, and the experts whose token acts in "
        "another unit (the referral reaches their socket, the scope check must drop it).",
        "- **Worker CPU**: utime + stime of the daphne process(es) from /proc/<pid>/stat, from the first referral "
        "until the last message arrived (plus 1.5 s of quiet), divided by the messages delivered and by the "
        "referrals; it includes serving the referral itself over HTTP. PostgreSQL's and Redis's CPU are not in it.",
        "- **p50 ÷ baseline**: the same referrals with one subscriber connected, measured in the same run on the "
        "same server just before, so the ratio holds on a noisy machine.",
        "",
    ]


# --- main ---------------------------------------------------------------------------------------------------


def default_output(args: argparse.Namespace) -> Path:
    name = f"live-updates-{datetime.date.today().isoformat()}"
    if args.redis_socket_timeout is not None:
        name += f"-socket-timeout-{args.redis_socket_timeout:g}"
    if args.quick:
        name += "-quick"
    return BENCH / "results" / f"{name}.md"


async def run_all(args: argparse.Namespace, runs: list[ModeRun]) -> None:
    for run in runs:
        try:
            await run.run()
        finally:
            run.stop_servers()


def main() -> None:
    args = parse_args()
    started_at = datetime.datetime.now()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="mana-bench-live-"))
    runs = [ModeRun(mode, args, work) for mode in args.modes]

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    failed = True
    try:
        asyncio.run(run_all(args, runs))
        failed = False
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        sys.exit(130)
    finally:
        for run in runs:
            run.stop_servers()
        if args.keep_logs or failed:
            log(f"server logs and fixtures kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = render(args, runs, started_at, time.monotonic() - started)
    output = args.output or default_output(args)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(report)
    log(f"written to {output}")


if __name__ == "__main__":
    main()
