"""Two processes complete the same task at the same moment on PostgreSQL: exactly one wins."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import engine
import engine.models  # noqa: F401 - registers the tables
from engine.db import Base, open_database
from engine.models import Event, HumanTask, Instance
from tests.conftest import START, postgres_url, reset_postgres

from .diagrams import bundle

pytestmark = pytest.mark.postgres
WAIT = 60  # seconds a process waits for the other before the test gives up (never reached when it works)


def complete_in_own_process(url: str, instance_id: int, task_id: str, actor: str,
                            ready: Any, results: Any) -> None:
    """Load the case, wait until the other process has loaded it too, then complete the task and commit."""
    db = open_database(url)
    try:
        with Session(db, expire_on_commit=False) as session:
            eng = engine.Engine(session, engine.FixedClock(START), engine.SpecStore())
            loaded = [session.get(HumanTask, task_id), session.get(Instance, instance_id),
                      eng.case_data(instance_id)]  # held, as a request holds what it read
            ready.wait(WAIT)
            try:
                eng.complete_task(task_id, {"answer": f"from {actor}"}, actor)
                session.commit()
                results.put((actor, "completed"))
            except engine.Conflict as conflict:
                session.rollback()
                results.put((actor, f"conflict: {conflict}"))
            del loaded
    except Exception as error:  # noqa: BLE001 - report anything else to the test instead of dying silently
        results.put((actor, f"error: {error!r}"))
    finally:
        db.dispose()


@pytest.fixture
def pg_url() -> str:
    url = postgres_url()
    reset_postgres(url)
    return url


def test_two_processes_complete_the_same_task_exactly_one_wins(pg_url):
    db = open_database(pg_url)
    Base.metadata.create_all(db)
    specs, clock = engine.SpecStore(), engine.FixedClock(START)
    with Session(db, expire_on_commit=False) as session:
        specs.deploy(session, bundle("timers.bpmn", "answer.json"), "designer", clock.now())
        eng = engine.Engine(session, clock, specs)
        instance = eng.start("timed", {}, "reception").instance
        session.commit()
        (task,) = eng.open_tasks(instance.id)

    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=complete_in_own_process,
                               args=(pg_url, instance.id, task.id, actor, ready, results))
               for actor in ("li", "zhang")]
    for worker in workers:
        worker.start()
    outcomes = {}
    try:
        for _ in workers:
            actor, outcome = results.get(timeout=WAIT)
            outcomes[actor] = outcome
    except queue.Empty:
        pytest.fail(f"a worker did not report; got {outcomes}")
    finally:
        for worker in workers:
            worker.join(WAIT)
            if worker.is_alive():
                worker.kill()

    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["completed", "conflict"], outcomes
    (winner,) = [actor for actor, outcome in outcomes.items() if outcome == "completed"]
    with Session(db) as session:
        row = session.get(HumanTask, task.id)
        assert (row.status, row.completed_by) == ("completed", winner)
        completions = session.scalar(select(func.count()).select_from(Event)
                                     .where(Event.instance_id == instance.id, Event.type == "task_completed"))
        assert completions == 1
        stored = session.get(Instance, instance.id)
        assert (stored.status, stored.event_count) == ("completed", 3)  # started, task_completed, completed
    with Session(db) as session:
        assert engine.Engine(session, clock, specs).case_data(instance.id)["answer"] == f"from {winner}"
    db.dispose()
