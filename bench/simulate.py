"""Simulated engine steps per second: the demo county run through the real diagrams on a simulated clock.

Builds a fresh database (the demo county, the diagrams of bpmn/, a simulated clock at 2025-03-03 09:00 Xupu
time), runs the simulator for some months and prints the steps (starts, task completions, timer firings) per
second of wall time, with the share of the time spent outside the engine. SQLite by default; --url runs it on
another empty database (its tables are dropped first and afterwards).

Run: python bench/simulate.py [--months 1] [--scale 1.0] [--seed 1] [--url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

import engine.models  # noqa: F401 - registers the engine tables
from engine import Engine, SimulatedClock, SpecStore, read_bundle
from engine.db import Base, open_database
from workflows.cases.record import CaseProjector
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org.demo import load_demo_county
from workflows.org.roles import BY_LANE
from workflows.simulation.county import Rates, simulate

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


class TimedEngine(Engine):
    """The engine, keeping the wall time its steps take."""

    seconds = 0.0

    def _timed(self, call: Callable[..., Any], *args: Any) -> Any:
        began = time.perf_counter()
        try:
            return call(*args)
        finally:
            TimedEngine.seconds += time.perf_counter() - began

    def start(self, *args: Any) -> Any:  # type: ignore[override]
        return self._timed(super().start, *args)

    def complete_task(self, *args: Any) -> Any:  # type: ignore[override]
        return self._timed(super().complete_task, *args)

    def run_until(self, *args: Any) -> Any:  # type: ignore[override]
        return self._timed(super().run_until, *args)


def bench(url: str, months: int, scale: float, seed: int) -> None:
    db = open_database(url)
    Base.metadata.drop_all(db)
    Base.metadata.create_all(db)
    sessions = sessionmaker(db, expire_on_commit=False)
    try:
        with sessions() as session:
            SpecStore().deploy(session, read_bundle([BPMN]), "bench", START, set(BY_LANE))
            SimulatedClock.install(session, START)
            load_demo_county(session, START.date())
            session.commit()
            projector = CaseProjector(session, "bench", packaged_config().deadlines)
            engine = TimedEngine(session, SimulatedClock(session), SpecStore(), helpers=script_helpers(session),
                                 observers=(projector,))
            summary = simulate(session, engine, months, seed, rates=Rates().scaled(scale), commit=session.commit)
        cases = sum(route["started"] for route in summary.routes.values())
        print(f"{db.dialect.name}: {months} month(s) at scale {scale}: {cases} cases, {summary.steps} engine steps "
              f"({summary.timers} timer firings) in {summary.wall_seconds:.1f} s")
        print(f"simulated steps per second: {summary.steps_per_second:.0f}")
        outside = 1 - TimedEngine.seconds / summary.wall_seconds
        print(f"time outside engine calls (the simulator's own work, daily commits): {outside:.0%}")
    finally:
        Base.metadata.drop_all(db)
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="an empty database to run on (default: a temporary SQLite file)")
    args = parser.parse_args()
    if args.url:
        bench(args.url, args.months, args.scale, args.seed)
        return
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'simulate.db'}", args.months, args.scale, args.seed)


if __name__ == "__main__":
    main()
