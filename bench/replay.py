"""Cost of verifying recorded histories (`doorstep audit verify`), as figures per event and per case.

1. one supervision case of about 200 events (the check loop sent back 100 times): verification time per event;
2. verify-all throughput in cases per second, over a simulated county year when `--database` names one
   (`doorstep simulate --months 12`), else over 300 reception cases built here.

Run: python bench/replay.py [--database URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import Engine, FixedClock, SpecStore, read_bundle
from engine.audit import history_from_db, verify
from engine.db import Base, open_database
from engine.models import Instance
from workflows.cases.script_helpers import script_helpers
from workflows.org.importer import import_org_file

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
VISIT = {"petitioner_name": "张三", "headcount": 1, "township": "t01", "village": "t01v01", "category": "land",
         "claim": "征地补偿"}


def build(folder: Path, loops: int, cases: int) -> tuple[sessionmaker, int]:
    db = open_database(f"sqlite:///{folder / 'replay.db'}")
    import workflows.cases.record  # noqa: F401 - the case record table
    Base.metadata.create_all(db)
    sessions = sessionmaker(bind=db, expire_on_commit=False)
    specs, clock = SpecStore(), FixedClock(START)
    with sessions() as session:
        import_org_file(session, ROOT / "bpmn" / "scenarios" / "org.yaml")
        specs.deploy(session, read_bundle([ROOT / "bpmn"]), "bench", clock.now())
        engine = Engine(session, clock, specs, helpers=script_helpers(session))
        long_case = engine.start("supervision", {**VISIT, "leader": "t01.leader1"}, "bench").instance.id
        _complete(engine, long_case, "assign_unit", {"handling_unit": "县自然资源局", "deadline": "2026-04-30"})
        for _ in range(loops):
            _complete(engine, long_case, "handle_case", {"handling_result": "办理中", "outcome": "support"})
            _complete(engine, long_case, "check_result", {"approved": False})
        for _ in range(cases):
            case_id = engine.start("reception", {}, "bench").instance.id
            _complete(engine, case_id, "register_visit", VISIT)
            _complete(engine, case_id, "hear_claim", {"disposition": "answer"})
            _complete(engine, case_id, "record_answer", {"answer": "已答复", "outcome": "explain"})
        session.commit()
    return sessions, long_case


def _complete(engine: Engine, case_id: int, element: str, data: dict) -> None:  # type: ignore[type-arg]
    task = next(t for t in engine.open_tasks(case_id) if t.element_id == element)
    engine.complete_task(task.id, data, "bench")


def per_event(session: Session, case_id: int, names: set[str], rounds: int = 5) -> tuple[int, float]:
    case = history_from_db(session, case_id)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        verdict = verify(case, names)
        times.append(time.perf_counter() - began)
        assert verdict.ok, str(verdict)
    return len(case.events), statistics.median(times) / len(case.events)


def throughput(session: Session, names: set[str]) -> tuple[int, int, float]:
    ids = list(session.scalars(select(Instance.id).order_by(Instance.id)))
    began = time.perf_counter()
    events = 0
    for case_id in ids:
        case = history_from_db(session, case_id)
        events += len(case.events)
        verdict = verify(case, names)
        assert verdict.ok, str(verdict)
    return len(ids), events, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a database holding a simulated county year")
    parser.add_argument("--loops", type=int, default=100, help="send-backs of the long case (2 events each)")
    parser.add_argument("--cases", type=int, default=300, help="reception cases built when no --database is given")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sessions, long_case = build(Path(folder), args.loops, 0 if args.database else args.cases)
        with sessions() as session:
            names = set(script_helpers(session))
            events, cost = per_event(session, long_case, names)
            print(f"one case of {events} events: {cost * 1000:.3f} ms per event verified (aim <= 1 ms)")
            if not args.database:
                cases, total, seconds = throughput(session, names)
        if args.database:
            year = open_database(args.database)
            with Session(year) as session:
                cases, total, seconds = throughput(session, names)
            year.dispose()
    source = "the simulated county year" if args.database else f"{args.cases} reception cases and the long case"
    print(f"verify all over {source}: {cases} cases, {total} events in {seconds:.2f} s = "
          f"{cases / seconds:.0f} cases/s, {seconds / total * 1000:.3f} ms per event")


if __name__ == "__main__":
    main()
