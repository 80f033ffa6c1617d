"""The write path of bench/country.py: assignees register and submit, their referrers approve, main
leaders refer pending assignments, all at once through Mana's real endpoint; then the database is
checked so that no transition was lost or written twice.

Every action opens its object first (``node``), as a client does, and acts on the version it saw.
Some actions are sent twice at the same moment (the same person double-clicking): exactly one of the
pair may succeed and the other must answer CONFLICT (or a refusal of the new state) and write nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg
from country_http import ManaSession, Outcome
from country_queries import decode_global_id, global_id

OPEN_STATUSES_LOCKED = ("FINALIZED", "SENT_FOR_EVALUATION", "EVALUATED")

READ = "query($id: ID!) { node(id: $id) { ... on Referral { id status version deadline performance { version } } } }"
SAVE = """mutation($input: SavePerformanceInput!) { savePerformance(input: $input) {
  errors { field code message } performance { version value } } }"""
FINISH = """mutation($input: FinishReferralInput!) { finishReferral(input: $input) {
  errors { field code message } referral { id status version } } }"""
READ_ASSIGNMENT = """query($id: ID!) { node(id: $id) { ... on Assignment {
  id status deadline period { endDate } } } }"""
REFER = """mutation($input: ReferInput!) { refer(input: $input) {
  errors { field code message } referral { id status version } } }"""

# A candidate: open, with the assignee, no children, no provincial breakdown, in the current period.
CANDIDATES = """
SELECT r.id, r.assignee_id, r.referrer_id, r.parent_id
FROM mana_referral r
JOIN mana_assignment a ON a.id = r.assignment_id
JOIN mana_user assignee ON assignee.id = r.assignee_id AND assignee.is_active
JOIN mana_user referrer ON referrer.id = r.referrer_id AND referrer.is_active
WHERE r.status = 'IN_PROGRESS' AND r.province_id IS NULL AND NOT r.has_provincial_breakdown
  AND a.period_id = %(period)s AND a.status NOT IN ('FINALIZED', 'SENT_FOR_EVALUATION', 'EVALUATED')
  AND NOT EXISTS (SELECT 1 FROM mana_referral c WHERE c.parent_id = r.id)
  AND (r.parent_id IS NULL OR EXISTS (
    SELECT 1 FROM mana_referral p WHERE p.id = r.parent_id AND p.province_id IS NULL))
ORDER BY r.id
LIMIT 20000
"""
# Assignments a main leader (acting in that role) may still refer, with one of their subordinates.
PENDING_ASSIGNMENTS = """
SELECT a.id, ra.user_id, (SELECT s.id FROM mana_user s WHERE s.approver_id = ra.user_id AND s.is_active
                          ORDER BY s.id OFFSET (a.id %% 7) LIMIT 1)
FROM mana_roleassignment ra
JOIN mana_organization lo ON lo.id = ra.organization_id
JOIN mana_organization o ON o.tree_id = lo.tree_id AND o.lft BETWEEN lo.lft AND lo.rght
JOIN mana_assignment a ON a.organization_id = o.id
WHERE ra.role = 'MAIN_LEADER' AND ra.id = (SELECT min(id) FROM mana_roleassignment WHERE user_id = ra.user_id)
  AND a.period_id = %(period)s AND a.status = 'PENDING'
  AND NOT EXISTS (SELECT 1 FROM mana_referral r WHERE r.assignment_id = a.id AND r.parent_id IS NULL)
ORDER BY a.id
"""


@dataclass
class Action:
    kind: str  # save, submit, approve, refer
    referral: int
    outcome: Outcome
    duplicate: bool = False
    child: int | None = None

    @property
    def code(self) -> str:
        if not self.outcome.ok:
            return "HTTP/GraphQL error"
        (payload,) = self.outcome.body["data"].values()
        errors = payload["errors"]
        return errors[0]["code"] if errors else "OK"


@dataclass
class Plan:
    items: list[dict]  # {referral, assignee, referrer, parent, duplicate}
    refers: list[dict]  # {assignment, leader, subordinate, duplicate}
    users: dict[int, str]  # user id → national code
    actions: list[Action] = field(default_factory=list)


def plan(conn: psycopg.Connection, period: int, items: int, refers: int, duplicate_every: int) -> Plan:
    rows = conn.execute(CANDIDATES, {"period": period}).fetchall()
    by_referrer: dict[int, list[tuple]] = {}
    for row in rows:
        by_referrer.setdefault(row[2], []).append(row)
    # Few referrers with many distinct assignees each: fewer sign-ins (each a deliberate PBKDF2).
    chosen, assignees, referrers = [], set(), set()
    for referrer, group in sorted(by_referrer.items(), key=lambda kv: -len({r[1] for r in kv[1]})):
        if len(chosen) >= items:
            break
        for referral, assignee, _, parent in group:
            if len(chosen) >= items:
                break
            if assignee in assignees or assignee in referrers or referrer in assignees:
                continue
            chosen.append({"referral": referral, "assignee": assignee, "referrer": referrer, "parent": parent})
            assignees.add(assignee)
            referrers.add(referrer)
    for index, item in enumerate(chosen):
        item["duplicate"] = duplicate_every > 0 and index % duplicate_every == 0
    taken = assignees | referrers
    # The main leaders' own step: refer a pending assignment to a subordinate; spread over the leaders.
    by_leader: dict[int, list[tuple]] = {}
    for assignment, leader, subordinate in conn.execute(PENDING_ASSIGNMENTS, {"period": period}).fetchall():
        if subordinate is not None and leader not in taken and subordinate not in taken:
            by_leader.setdefault(leader, []).append((assignment, leader, subordinate))
    refer_items: list[dict] = []
    while len(refer_items) < refers and any(by_leader.values()):
        for group in by_leader.values():
            if group and len(refer_items) < refers:
                assignment, leader, subordinate = group.pop(0)
                refer_items.append({"assignment": assignment, "leader": leader, "subordinate": subordinate})
    for index, item in enumerate(refer_items):
        item["duplicate"] = duplicate_every > 0 and index % duplicate_every == 0
    user_ids = sorted(taken | {r["leader"] for r in refer_items})
    users = dict(conn.execute("SELECT id, national_code FROM mana_user WHERE id = ANY(%s)", [user_ids]).fetchall())
    return Plan(chosen, refer_items, users)


async def sign_in(sessions_factory, plan_: Plan, password: str, concurrency: int = 4) -> tuple[dict, list[float]]:
    sessions: dict[int, ManaSession] = {}
    timings: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one(user: int, code: str) -> None:
        async with semaphore:
            session = sessions_factory()
            outcome = await session.login(code, password)
            if not outcome.ok:
                raise RuntimeError(f"sign-in of {code} failed: {outcome.error}")
            timings.append(outcome.ms)
            sessions[user] = session

    await asyncio.gather(*(one(user, code) for user, code in plan_.users.items()))
    return sessions, timings


def _payload(outcome: Outcome) -> dict | None:
    if not outcome.ok:
        return None
    (payload,) = outcome.body["data"].values()
    return payload


async def run(sessions: dict[int, ManaSession], plan_: Plan, concurrency: int) -> float:
    """All actions, ``concurrency`` clients at a time; returns the wall time in seconds."""
    semaphore = asyncio.Semaphore(concurrency)
    actions = plan_.actions

    async def read(session: ManaSession, referral: int) -> dict | None:
        outcome = await session.post(READ, {"id": global_id("Referral", referral)})
        return outcome.body["data"]["node"] if outcome.ok else None

    async def finish(kind: str, session: ManaSession, referral: int, version: int, duplicate: bool) -> bool:
        variables = {"input": {"referral": global_id("Referral", referral), "version": version}}
        sends = [session.post(FINISH, variables) for _ in range(2 if duplicate else 1)]
        outcomes = await asyncio.gather(*sends)
        for index, outcome in enumerate(outcomes):
            actions.append(Action(kind, referral, outcome, duplicate=index > 0))
        return any(_payload(o) is not None and not _payload(o)["errors"] for o in outcomes)

    async def submit_then_approve(item: dict) -> None:
        async with semaphore:
            session = sessions[item["assignee"]]
            node = await read(session, item["referral"])
            if node is None:
                actions.append(Action("read", item["referral"], Outcome(False, 0, error="assignee cannot read it")))
                return
            performance_version = (node["performance"] or {}).get("version", 0)
            variables = {
                "input": {
                    "referral": node["id"],
                    "version": performance_version,
                    "value": "1234.5",
                    "comments": "bench/country.py",
                }
            }
            saved = await session.post(SAVE, variables)
            actions.append(Action("save", item["referral"], saved))
            if _payload(saved) is None or _payload(saved)["errors"]:
                return
            submitted = await finish("submit", session, item["referral"], node["version"], item["duplicate"])
        if not submitted:
            return
        async with semaphore:
            session = sessions[item["referrer"]]
            node = await read(session, item["referral"])
            if node is None:
                actions.append(Action("read", item["referral"], Outcome(False, 0, error="referrer cannot read it")))
                return
            await finish("approve", session, item["referral"], node["version"], item["duplicate"])

    async def refer(item: dict) -> None:
        async with semaphore:
            session = sessions[item["leader"]]
            read = await session.post(READ_ASSIGNMENT, {"id": global_id("Assignment", item["assignment"])})
            node = read.body["data"]["node"] if read.ok else None
            if node is None:
                actions.append(Action("read", item["assignment"], Outcome(False, 0, error="leader cannot read it")))
                return
            variables = {
                "input": {
                    "source": node["id"],
                    "assignee": global_id("User", item["subordinate"]),
                    "deadline": node["deadline"] or node["period"]["endDate"],
                }
            }
            outcomes = await asyncio.gather(
                *(session.post(REFER, variables) for _ in range(2 if item["duplicate"] else 1))
            )
            for index, outcome in enumerate(outcomes):
                payload = _payload(outcome)
                child = decode_global_id(payload["referral"]["id"]) if payload and not payload["errors"] else None
                actions.append(Action("refer", item["assignment"], outcome, duplicate=index > 0, child=child))

    started = time.monotonic()
    await asyncio.gather(*(submit_then_approve(i) for i in plan_.items), *(refer(i) for i in plan_.refers))
    return time.monotonic() - started


def baseline(conn: psycopg.Connection, plan_: Plan) -> dict:
    ids = [i["referral"] for i in plan_.items] + [i["parent"] for i in plan_.items if i["parent"]]
    return {
        "event": conn.execute("SELECT coalesce(max(id), 0) FROM mana_referralevent").fetchone()[0],
        "history": conn.execute("SELECT coalesce(max(history_id), 0) FROM mana_historicalperformance").fetchone()[0],
        "versions": dict(conn.execute("SELECT id, version FROM mana_referral WHERE id = ANY(%s)", [ids]).fetchall()),
    }


def verify(conn: psycopg.Connection, plan_: Plan, before: dict) -> dict:
    """Compare the events, versions and performance history written with the successful answers."""
    parents = {i["referral"]: i["parent"] for i in plan_.items}
    expected: Counter = Counter()
    saves: Counter = Counter()  # referral → successful savePerformance (one history row each)
    carried: Counter = Counter()  # parent → approvals carried up into its performance (one row or more)
    for action in plan_.actions:
        if action.code != "OK":
            continue
        if action.kind == "save":
            saves[action.referral] += 1
        elif action.kind == "submit":
            expected[(action.referral, "SUBMITTED")] += 1
        elif action.kind == "approve":
            parent = parents[action.referral]
            if parent is None:
                expected[(action.referral, "FINALIZED")] += 1
            else:
                expected[(action.referral, "APPROVED")] += 1
                expected[(parent, "SUBMITTED")] += 1
                carried[parent] += 1
        elif action.kind == "refer":  # action.referral is the assignment here
            expected[(action.child, "IN_PROGRESS")] += 1
    rows = conn.execute(
        "SELECT referral_id, to_status FROM mana_referralevent WHERE id > %s", [before["event"]]
    ).fetchall()
    found = Counter((referral, status) for referral, status in rows)
    missing = expected - found
    extra = found - expected
    history = Counter(
        dict(
            conn.execute(
                "SELECT referral_id, count(*) FROM mana_historicalperformance WHERE history_id > %s GROUP BY 1",
                [before["history"]],
            ).fetchall()
        )
    )
    history_off = [r for r in {i["referral"] for i in plan_.items} if history[r] != saves[r]]
    history_off += [p for p, n in carried.items() if history[p] < n]
    after = dict(
        conn.execute("SELECT id, version FROM mana_referral WHERE id = ANY(%s)", [list(before["versions"])]).fetchall()
    )
    bumps = Counter(referral for referral, _ in rows)
    versions_off = [pk for pk, version in before["versions"].items() if after[pk] - version != bumps.get(pk, 0)]
    # A pair sent at the same moment: at most one of the two may succeed.
    successes = Counter((a.kind, a.referral) for a in plan_.actions if a.code == "OK" and a.kind != "save")
    pairs_both_won = sum(1 for n in successes.values() if n > 1)
    # Each referred assignment has exactly one top referral, whatever the doubles did.
    referred = [i["assignment"] for i in plan_.refers]
    tops = dict(
        conn.execute(
            "SELECT assignment_id, count(*) FROM mana_referral WHERE parent_id IS NULL AND assignment_id = ANY(%s) "
            "GROUP BY 1",
            [referred],
        ).fetchall()
    )
    refer_ok = {a.referral for a in plan_.actions if a.kind == "refer" and a.code == "OK"}
    tops_off = [a for a in referred if tops.get(a, 0) != (1 if a in refer_ok else 0)]
    return {
        "events_expected": sum(expected.values()),
        "events_found": len(rows),
        "lost": sum(missing.values()),
        "doubled_or_unexpected": sum(extra.values()),
        "pairs_both_won": pairs_both_won,
        "history_rows": sum(history.values()),
        "history_off": len(history_off),
        "versions_checked": len(before["versions"]),
        "versions_off": len(versions_off),
        "assignments_checked": len(referred),
        "assignments_off": len(tops_off),
        "ok": not (missing or extra or pairs_both_won or history_off or versions_off or tops_off),
    }


def summarize(plan_: Plan, seconds: float) -> dict:
    by_kind: dict[str, Counter] = {}
    latencies = [a.outcome.ms for a in plan_.actions if a.kind != "read" and a.outcome.ms]
    for action in plan_.actions:
        by_kind.setdefault(action.kind, Counter())[action.code] += 1
    transitions = sum(c["OK"] for kind, c in by_kind.items() if kind in ("submit", "approve", "refer"))
    duplicates = [a for a in plan_.actions if a.duplicate]
    return {
        "seconds": seconds,
        "requests": len(plan_.actions),
        "by_kind": {kind: dict(counter) for kind, counter in by_kind.items()},
        "transitions": transitions,
        "transitions_per_second": transitions / seconds if seconds else 0.0,
        "requests_per_second": len(latencies) / seconds if seconds else 0.0,
        "median_ms": statistics.median(latencies) if latencies else None,
        "p95_ms": statistics.quantiles(latencies, n=20, method="inclusive")[-1] if len(latencies) > 1 else None,
        "duplicate_pairs": len(duplicates),
        "errors": [a.outcome.error for a in plan_.actions if not a.outcome.ok][:5],
    }
