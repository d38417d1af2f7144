"""Timers at scale: 100,000 cases wait for a timer, 10,000 of them due at once; two `doorstep worker` processes
on PostgreSQL must fire every due one, each exactly once, and none of the others.

The cases run a one-timer process (start → timer catch event at the case's `due` → end), deployed with the
diagrams of bpmn/. Two cases are started through the engine (one due three seconds later, one in a year); the other
99,998 are copies of their stored waiting states written in bulk (COPY): each copy is what an engine start would
have written — the instance row (same state, same indexed `next_timer_at`), its own case record (case number and
query code of its id) and its own `started` event, hash-chained for its id — so that every case verifies. The workers
run unchanged.

Once the burst has fired, a trickle of cases started through the engine falls due one after another while the
workers are idle: how late each fires, against the poll interval, is the lateness when not saturated. At the end
`doorstep audit verify --all` must pass on every case.

Prints: how long until every due case fired, firings per second, the latest firing after its due time, the trickle's
lateness, the exactly-once check, the audit verification and the machine's load. Exit 1 if any check fails.

Run: python bench/timers.py --database postgresql+psycopg://…   (a scratch database: its schema is recreated)
     [--cases 100000] [--due 10000] [--workers 2] [--threads N] [--interval 1] [--limit 60] [--trickle 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scratch import scratch_deployment
from sqlalchemy import create_engine, func, select, text

PROCESS = "bench_timer"
DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="bench_timer_definitions"
    targetNamespace="http://doorstep.xupu/bpmn/bench_timer">
  <bpmn:process id="{PROCESS}" name="定时器压力测试" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>to_wait</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_wait" sourceRef="begin" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="到期">
      <bpmn:incoming>to_wait</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_definition">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">due</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="wait" targetRef="finish" />
    <bpmn:endEvent id="finish"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def prepare(url: str, folder: Path, cases: int, due: int) -> tuple[dict[str, str], datetime]:
    """Schema, diagrams, and `cases` waiting cases of which `due` are due now; the environment and due time."""
    env = scratch_deployment(url, folder)
    os.environ.update({k: v for k, v in env.items() if k.startswith("DOORSTEP_")})
    from engine import read_bundle
    from engine.models import Instance

    services = _services()
    (folder / "bench_timer.bpmn").write_text(DIAGRAM)
    now = datetime.now(UTC)
    due_at = now + timedelta(seconds=3)  # not yet due when started (a past due time fires during the start)
    with services.unit_of_work() as session:
        services.specs.deploy(session, read_bundle([folder / "bench_timer.bpmn"]), "bench", now)
    soon, later = start_cases(services, [due_at, now + timedelta(days=365)])
    began = time.monotonic()
    copy_cases(services, soon, due - 1)
    copy_cases(services, later, cases - due - 1)
    with services.db.begin() as connection:
        connection.execute(text("SELECT setval(pg_get_serial_sequence('instance', 'id'), max(id)) FROM instance"))
        connection.execute(text("ANALYZE"))
    with services.unit_of_work() as session:
        waiting = session.scalar(select(func.count()).select_from(Instance).where(Instance.next_timer_at.isnot(None)))
        ready = session.scalar(select(func.count()).select_from(Instance)
                               .where(Instance.next_timer_at <= due_at))
    print(f"{waiting} cases wait for a timer, {ready} of them due at {due_at:%H:%M:%S} UTC "
          f"(copies written in {time.monotonic() - began:.0f} s)")
    services.db.dispose()
    time.sleep(max(0.0, (due_at - datetime.now(UTC)).total_seconds()) + 0.01)
    return env, due_at


def _services() -> Any:
    from doorstep.config import Settings
    from doorstep.services import Services

    return Services.from_settings(Settings.from_environment())


def start_cases(services: Any, due_times: list[datetime]) -> list[int]:
    """Start one bench case through the engine for each due time; their ids."""
    with services.unit_of_work() as session:
        engine = services.engine(session)
        return [engine.start(PROCESS, {"due": due.isoformat()}, "bench").instance.id for due in due_times]


def copy_cases(services: Any, template: int, copies: int) -> None:
    """`copies` cases in the template's state, each with its own case record and its own hash-chained events."""
    from psycopg.types.json import Json

    from engine.history import event_hash, hashed_fields
    from engine.models import Event, Instance
    from workflows.cases.record import CaseRecord, case_number, query_code

    secret = services.settings.secret_key
    event_columns = [c.name for c in Event.__table__.columns if c.name != "id"]
    with services.db.begin() as connection:
        instance = dict(connection.execute(select(Instance.__table__).where(Instance.id == template)).mappings().one())
        events = [dict(row) for row in connection.execute(select(Event.__table__).where(Event.instance_id == template)
                                                          .order_by(Event.seq)).mappings()]
        record = dict(connection.execute(select(CaseRecord.__table__)
                                         .where(CaseRecord.instance_id == template)).mappings().one())
        first = connection.execute(text("SELECT max(id) + 1 FROM instance")).scalar_one()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        rows: dict[str, list[tuple[Any, ...]]] = {"instance": [], "event": [], "case_record": []}
        for case in range(first, first + copies):
            last = None
            for event in events:
                fields = {**{k: event[k] for k in event_columns}, "instance_id": case, "prev_hash": last}
                last = fields["hash"] = event_hash(hashed_fields(Event(**fields)))
                rows["event"].append(tuple(fields[k] for k in event_columns))
            rows["instance"].append(tuple({**instance, "id": case, "last_event_hash": last}.values()))
            rows["case_record"].append(tuple({**record, "instance_id": case, "query_code": query_code(secret, case),
                                              "case_number": case_number(case, record["registered_at"])}.values()))
        for table, columns in (("instance", list(instance)), ("event", event_columns), ("case_record", list(record))):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row([Json(v) if isinstance(v, (dict, list)) else v for v in row])


def run(url: str, env: dict[str, str], due_at: datetime, due: int, workers: int, threads: int | None,
        interval: float, limit: float, trickle: int) -> bool:
    db = create_engine(url)
    fired_sql = text("SELECT count(*), count(DISTINCT instance_id), max(wall_time) FROM event "
                     "WHERE type = 'timer_fired'")
    load_before = os.getloadavg()
    began = time.monotonic()
    started_at = datetime.now(UTC)
    command = [sys.executable, "-m", "doorstep.cli", "worker", "--interval", str(interval),
               *(["--threads", str(threads)] if threads else [])]
    children = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                for _ in range(workers)]
    try:
        fired = 0
        while time.monotonic() - began < limit * 3:
            with db.connect() as connection:
                fired = connection.execute(text("SELECT count(*) FROM event WHERE type = 'timer_fired'")).scalar()
            if fired >= due:
                break
            time.sleep(0.5)
        drained = time.monotonic() - began
        load_during = os.getloadavg()
        with db.connect() as connection:
            events, cases, last = connection.execute(fired_sql).one()
        # Lateness when not saturated: only once the burst is through (else the trickle waits behind it).
        lateness = trickle_lateness(db, trickle, interval) if events >= due else []
    finally:
        for child in children:
            child.terminate()
        errors = [child.communicate(timeout=30)[1] for child in children]
    with db.connect() as connection:
        all_events, all_cases = connection.execute(text(
            "SELECT count(*), count(DISTINCT instance_id) FROM event WHERE type = 'timer_fired'")).one()
        not_due = connection.execute(text(
            "SELECT count(*) FROM event e JOIN instance i ON i.id = e.instance_id "
            "WHERE e.type = 'timer_fired' AND i.next_timer_at IS NOT NULL")).scalar()
        still_due = connection.execute(text("SELECT count(*) FROM instance WHERE next_timer_at < :moment"),
                                       {"moment": started_at}).scalar()
    db.dispose()
    late = (last - max(due_at, started_at)).total_seconds() if last is not None else float("nan")
    print(f"{workers} workers ({threads or 'default'} threads each, poll every {interval:g} s): {events} timer "
          f"firings in {drained:.1f} s ({events / drained:.0f}/s); the last {late:.1f} s after the workers started")
    if lateness:
        print(f"not saturated: {len(lateness)} of {trickle} cases falling due one by one fired, at most "
              f"{max(lateness):.3f} s after their due time (median {sorted(lateness)[len(lateness) // 2]:.3f} s)")
    else:
        print("not saturated: not measured (the burst had not fired in time)" if events < due
              else f"not saturated: none of the {trickle} cases falling due one by one fired")
    verified, verify_line, verify_seconds = audit_verify(env)
    print(f"audit verify --all: {verify_line} ({verify_seconds:.0f} s)")
    print(f"machine load (1/5/15 min): {' '.join(f'{x:.1f}' for x in load_before)} at the start, "
          f"{' '.join(f'{x:.1f}' for x in load_during)} when the burst had fired, on {os.cpu_count()} cores")
    checks = {f"all {due} due cases fired within {limit:g} s": cases == due and drained <= limit,
              "each exactly once": events == cases and all_events == all_cases,
              "none of the cases not due fired": not_due == 0,
              "none left due": still_due == 0,
              f"every trickle case fired, none later than the poll interval ({interval:g} s)":
                  len(lateness) == trickle and max(lateness, default=0) <= interval,
              "audit verify --all passes": verified}
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    for error in errors:
        if error.strip():
            print("worker stderr:", error.strip().splitlines()[-1])
    return all(checks.values())


def trickle_lateness(db: Any, count: int, interval: float) -> list[float]:
    """Start `count` cases falling due a quarter second apart (from two seconds on) while the workers idle; how
    late each fired (seconds after its due time)."""
    if count == 0:
        return []
    services = _services()
    first = datetime.now(UTC) + timedelta(seconds=2)
    due_times = [first + timedelta(seconds=0.25 * k) for k in range(count)]
    ids = start_cases(services, due_times)
    services.db.dispose()
    fired_sql = text("SELECT instance_id, wall_time FROM event WHERE type = 'timer_fired' AND instance_id IN "
                     f"({', '.join(str(i) for i in ids)})")
    deadline = time.monotonic() + (due_times[-1] - datetime.now(UTC)).total_seconds() + interval * 3 + 5
    fired: dict[int, datetime] = {}
    while len(fired) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        with db.connect() as connection:
            fired = dict(connection.execute(fired_sql).all())
    return [(fired[case] - due).total_seconds() for case, due in zip(ids, due_times, strict=True) if case in fired]


def audit_verify(env: dict[str, str]) -> tuple[bool, str, float]:
    """Run `doorstep audit verify --all`: passed, its last line, seconds taken."""
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "doorstep.cli", "audit", "verify", "--all"], env=env,
                          capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else "(no output)", time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a scratch PostgreSQL URL (its schema is recreated)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, help="cases each worker fires at the same time (its --threads)")
    parser.add_argument("--interval", type=float, default=1.0, help="the workers' poll interval (seconds)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds within which every due case must fire")
    parser.add_argument("--trickle", type=int, default=20, help="cases falling due one by one after the burst")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env, due_at = prepare(args.database, Path(folder), args.cases, args.due)
        ok = run(args.database, env, due_at, args.due, args.workers, args.threads, args.interval, args.limit,
                 args.trickle)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
