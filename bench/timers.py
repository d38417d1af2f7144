"""Timers at scale: 100,000 cases wait for a timer, 10,000 of them due at once; two `doorstep worker` processes
on PostgreSQL must fire every due one, each exactly once, and none of the others.

The cases run a one-timer process (start → timer catch event at the case's `due` → end), deployed with the
diagrams of bpmn/. Two cases are started through the engine (one due three seconds later, one in a year); the other
99,998 are copied from their stored waiting states in bulk (`INSERT … SELECT` over generate_series), which is
what 99,998 engine starts would write into the instance table (same state, same indexed `next_timer_at`); the
copies carry no start event of their own. The workers run unchanged: each round takes one due case at a time
through the indexed `next_timer_at` (FOR UPDATE SKIP LOCKED), one transaction per case.

Prints: how long until every due case fired, firings per second, the latest firing after its due time, and the
exactly-once check (fired events per due case = 1, none for the others). Exit 1 if any check fails.

Run: python bench/timers.py --database postgresql+psycopg://…   (a scratch database: its schema is recreated)
     [--cases 100000] [--due 10000] [--workers 2] [--interval 1] [--limit 60]
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

    from doorstep.config import Settings
    from doorstep.services import Services
    from engine import read_bundle
    from engine.models import Instance

    services = Services.from_settings(Settings.from_environment())
    (folder / "bench_timer.bpmn").write_text(DIAGRAM)
    now = datetime.now(UTC)
    due_at = now + timedelta(seconds=3)  # not yet due when started (a past due time fires during the start)
    with services.unit_of_work() as session:
        services.specs.deploy(session, read_bundle([folder / "bench_timer.bpmn"]), "bench", now)
    with services.unit_of_work() as session:
        engine = services.engine(session)
        soon = engine.start(PROCESS, {"due": due_at.isoformat()}, "bench").instance.id
        later = engine.start(PROCESS, {"due": (now + timedelta(days=365)).isoformat()}, "bench").instance.id
    columns = [c.name for c in Instance.__table__.columns if c.name != "id"]
    listed = ", ".join(columns)
    with services.db.begin() as connection:
        for template, copies in ((soon, due - 1), (later, cases - due - 1)):
            connection.execute(text(f"INSERT INTO instance ({listed}) SELECT {listed} FROM instance, "
                                    f"generate_series(1, :copies) WHERE instance.id = :template"),
                               {"copies": copies, "template": template})
        connection.execute(text("ANALYZE instance"))
    with services.unit_of_work() as session:
        waiting = session.scalar(select(func.count()).select_from(Instance).where(Instance.next_timer_at.isnot(None)))
        ready = session.scalar(select(func.count()).select_from(Instance)
                               .where(Instance.next_timer_at <= due_at))
    print(f"{waiting} cases wait for a timer, {ready} of them due at {due_at:%H:%M:%S} UTC")
    services.db.dispose()
    time.sleep(max(0.0, (due_at - datetime.now(UTC)).total_seconds()) + 0.01)
    return env, due_at


def run(url: str, env: dict[str, str], due_at: datetime, due: int, workers: int, interval: float,
        limit: float) -> bool:
    db = create_engine(url)
    fired_sql = text("SELECT count(*), count(DISTINCT instance_id), max(wall_time) FROM event "
                     "WHERE type = 'timer_fired'")
    began = time.monotonic()
    started_at = datetime.now(UTC)
    children = [subprocess.Popen([sys.executable, "-m", "doorstep.cli", "worker", "--interval", str(interval)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
        time.sleep(interval * 2)  # a further round or two: nothing more may fire
    finally:
        for child in children:
            child.terminate()
        errors = [child.communicate(timeout=30)[1] for child in children]
    with db.connect() as connection:
        events, cases, last = connection.execute(fired_sql).one()
        not_due = connection.execute(text(
            "SELECT count(*) FROM event e JOIN instance i ON i.id = e.instance_id "
            "WHERE e.type = 'timer_fired' AND i.next_timer_at IS NOT NULL")).scalar()
        still_due = connection.execute(text("SELECT count(*) FROM instance WHERE next_timer_at < :moment"),
                                       {"moment": started_at}).scalar()
    db.dispose()
    late = (last - due_at).total_seconds() if last is not None else float("nan")
    print(f"{workers} workers (poll every {interval:g} s): {events} timer firings in {drained:.1f} s "
          f"({events / drained:.0f}/s); the last {late:.1f} s after the due time")
    checks = {f"all {due} due cases fired within {limit:g} s": cases == due and drained <= limit,
              "each exactly once": events == cases,
              "none of the cases not due fired": not_due == 0,
              "none left due": still_due == 0}
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    for error in errors:
        if error.strip():
            print("worker stderr:", error.strip().splitlines()[-1])
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="a scratch PostgreSQL URL (its schema is recreated)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=1.0, help="the workers' poll interval (seconds)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds within which every due case must fire")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env, due_at = prepare(args.database, Path(folder), args.cases, args.due)
        ok = run(args.database, env, due_at, args.due, args.workers, args.interval, args.limit)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
