"""Cost of one task completion through Doorstep's engine, as ratios.

1. reception diagram: an engine completion (SQLite file, committed, projections and events written) divided by
   bare SpiffWorkflow's deserialize + run + serialize of the same step in memory;
2. supervision loop: the cost of a completion at iteration 200 divided by one at iteration 10.

Run: python bench/engine_step.py [--cases N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import sessionmaker

from engine import Engine, FixedClock, SpecStore, business_time, read_bundle
from engine.db import Base, open_database
from engine.sandbox import restricted_script_engine
from engine.state import SERIALIZER
from workflows.cases.script_helpers import script_helpers

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
VISIT = {"petitioner_name": "张三", "headcount": 1, "township": "demo", "village": "demo", "category": "land",
         "claim": "征地补偿"}
SUPERVISION = {**VISIT, "leader": "leader", "registered_at": START.isoformat(), "accepted_at": START.isoformat()}


def setup(folder: Path) -> tuple[sessionmaker, SpecStore, FixedClock]:
    db = open_database(f"sqlite:///{folder / 'bench.db'}")
    Base.metadata.create_all(db)
    sessions = sessionmaker(bind=db, expire_on_commit=False)
    specs, clock = SpecStore(), FixedClock(START)
    with sessions() as session:
        specs.deploy(session, read_bundle([BPMN]), "bench", clock.now())
        session.commit()
    return sessions, specs, clock


def engine_for(session, specs, clock) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(session, clock, specs, helpers=script_helpers(session))


def complete_open(sessions, specs, clock, case_id: int, element: str, data: dict) -> float:  # type: ignore[no-untyped-def]
    """Complete the open task of `element` in one committed transaction; return the seconds it took."""
    with sessions() as session:
        engine = engine_for(session, specs, clock)
        task = next(t for t in engine.open_tasks(case_id) if t.element_id == element)
        began = time.perf_counter()
        engine.complete_task(task.id, data, "bench")
        session.commit()
        return time.perf_counter() - began


def reception_ratio(sessions, specs, clock, cases: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    engine_times, bare_times = [], []
    for _ in range(cases):
        with sessions() as session:
            engine = engine_for(session, specs, clock)
            case_id = engine.start("reception", {}, "bench").instance.id
            session.commit()
        complete_open(sessions, specs, clock, case_id, "register_visit", VISIT)
        with sessions() as session:
            engine = engine_for(session, specs, clock)
            # The same state as bare SpiffWorkflow would keep it: one JSON document with the spec inside.
            spec, subprocess_specs = specs.parsed(session, engine.instance(case_id).process_version_id)
            loaded = engine._load(case_id)  # noqa: SLF001 - the benchmark needs the live workflow
            bare_state = SERIALIZER.serialize_json(loaded.workflow)
            helpers = script_helpers(session)
        bare_times.append(bare_step(bare_state, helpers))
        engine_times.append(complete_open(sessions, specs, clock, case_id, "hear_claim", {"disposition": "answer"}))
    return statistics.median(engine_times), statistics.median(bare_times)


def bare_step(state: str, helpers: dict) -> float:  # type: ignore[type-arg]
    began = time.perf_counter()
    with business_time(START):
        workflow = SERIALIZER.deserialize_json(state)
        workflow.script_engine = restricted_script_engine(helpers)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == "hear_claim")
        task.data.update({"disposition": "answer"})
        task.run()
        workflow.do_engine_steps()
        SERIALIZER.serialize_json(workflow)
    return time.perf_counter() - began


def loop_ratio(sessions, specs, clock, cases: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    early, late = [], []
    for _ in range(cases):
        with sessions() as session:
            engine = engine_for(session, specs, clock)
            case_id = engine.start("supervision", SUPERVISION, "bench").instance.id
            session.commit()
        complete_open(sessions, specs, clock, case_id, "assign_unit",
                      {"handling_unit": "县自然资源局", "deadline": "2026-04-30"})
        # Each figure is the median over the five iterations around 10 and around 200 of every case.
        for iteration in range(1, 203):
            complete_open(sessions, specs, clock, case_id, "handle_case",
                          {"handling_result": f"第{iteration}次办理", "outcome": "support"})
            took = complete_open(sessions, specs, clock, case_id, "check_result", {"approved": False})
            if abs(iteration - 10) <= 2:
                early.append(took)
            elif abs(iteration - 200) <= 2:
                late.append(took)
    return statistics.median(late), statistics.median(early)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=30, help="cases measured for the first ratio")
    parser.add_argument("--loops", type=int, default=5, help="cases looped 200 times for the second ratio")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sessions, specs, clock = setup(Path(folder))
        engine_s, bare_s = reception_ratio(sessions, specs, clock, args.cases)
        late, early = loop_ratio(sessions, specs, clock, args.loops)
    print(f"reception hear_claim completion: engine {engine_s * 1000:.2f} ms (SQLite, committed), "
          f"bare SpiffWorkflow {bare_s * 1000:.2f} ms (in memory)")
    print(f"ratio engine / bare SpiffWorkflow: {engine_s / bare_s:.2f}  (aim <= 1.5)")
    print(f"supervision check_result completion: iteration 10 {early * 1000:.2f} ms, "
          f"iteration 200 {late * 1000:.2f} ms")
    print(f"ratio iteration 200 / iteration 10: {late / early:.2f}  (aim <= 2)")


if __name__ == "__main__":
    main()
