"""Timer workers killed with SIGKILL in the middle of a firing, beside a second worker: every timer fires once.

Each trial forks two workers on the same database. The victim fires a few cases and then stops inside the
transaction of its next firing, after the rows are written but before the commit, where the test kills it with
SIGKILL. The other worker fires cases at the same time (on SQLite the two meet on the same rows and the loser
retries). At the end a last worker fires what is left; every case must then have fired its timer exactly once
and every case's history must verify.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import engine
from doorstep.retry import Backoff, retrying
from engine.audit import history_from_db, verify
from engine.db import Base, open_database
from engine.models import Event, Instance
from tests.conftest import START
from tests.engine.diagrams import bundle

TRIALS = 20
CASES = 90
FIRE_AT = START + timedelta(days=2, seconds=1)  # every case's "overdue" timer (P2D) is due, its "grace" is not
WAIT = 60  # seconds the test waits for a worker (never reached when it works)
NO_WAIT = Backoff(first=0, longest=0)  # retry at once: the other worker holds the rows only briefly


def run_worker(url: str, limit: int, pause_at: int | None, paused: Any) -> None:
    """Fire up to `limit` cases; with `pause_at`, stop inside the transaction of that firing and wait to be killed."""
    db = open_database(url)
    sessions = sessionmaker(db, expire_on_commit=False)
    specs, steps = engine.SpecStore(), [0]

    def stop_mid_firing(_result: engine.StepResult) -> None:
        steps[0] += 1
        if steps[0] == pause_at:
            session.flush()  # written, not committed
            paused.send("paused")
            paused.recv()  # never answered: the test kills this process here

    for _ in range(limit):
        with sessions() as session:
            eng = engine.Engine(session, engine.FixedClock(FIRE_AT), specs, observers=(stop_mid_firing,))

            def fire_one(session: Session = session, eng: engine.Engine = eng) -> engine.StepResult | None:
                try:
                    fired = eng.fire_next_due()
                    session.commit()
                    return fired
                except Exception:
                    session.rollback()
                    raise

            if retrying(fire_one, "firing", lambda _line: None, NO_WAIT) is None:
                break
    db.dispose()


def test_workers_killed_mid_firing_never_lose_or_double_a_timer(database_url: str):
    db = open_database(database_url)
    Base.metadata.create_all(db)
    specs = engine.SpecStore()
    with Session(db, expire_on_commit=False) as session:
        specs.deploy(session, bundle("timers.bpmn", "answer.json"), "designer", START)
        eng = engine.Engine(session, engine.FixedClock(START), specs)
        cases = [eng.start("timed", {}, "reception").instance.id for _ in range(CASES)]
        session.commit()
    db.dispose()  # the forked workers open their own connections

    fork = multiprocessing.get_context("fork")
    for trial in range(TRIALS):
        ours, theirs = fork.Pipe()
        victim = fork.Process(target=run_worker, args=(database_url, 3, trial % 3 + 1, theirs))
        other = fork.Process(target=run_worker, args=(database_url, 2, None, theirs))
        victim.start()
        other.start()
        try:
            assert ours.poll(WAIT), f"trial {trial}: the victim never reached its firing"
            assert ours.recv() == "paused"
            os.kill(victim.pid, signal.SIGKILL)
            victim.join(WAIT)
            other.join(WAIT)
            assert victim.exitcode == -signal.SIGKILL and other.exitcode == 0, (trial, victim.exitcode, other.exitcode)
        finally:
            for process in (victim, other):
                if process.is_alive():
                    process.kill()

    run_worker(database_url, CASES, None, None)  # a worker that is left alone fires the rest
    db = open_database(database_url)
    with Session(db) as session:
        fired = dict(session.execute(select(Event.instance_id, func.count()).where(Event.type == "timer_fired")
                                     .group_by(Event.instance_id)).all())
        assert fired == {case: 1 for case in cases}
        waiting = session.scalars(select(Instance.next_timer_at).where(Instance.id.in_(cases))).all()
        assert set(waiting) == {FIRE_AT + timedelta(hours=12)}  # each case now waits for its grace timer
        failed = [str(v) for v in (verify(history_from_db(session, case)) for case in cases) if not v.ok]
        assert failed == []
    db.dispose()
