"""The timer worker's rounds: each due case fired once however many threads fire, its case record read with the
due row, and the sleep between rounds ending when the next timer falls due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from doorstep.config import Settings
from doorstep.services import Services
from engine import SimulatedClock, StepResult
from engine.db import Base
from engine.models import Event, Instance
from tests.conftest import START
from tests.engine.diagrams import bundle

ROOT = Path(__file__).resolve().parents[2]
DUE = START + timedelta(days=2, seconds=1)  # every case's "overdue" timer (P2D) is due, its "grace" is not


@pytest.fixture
def services(database_url: str) -> Services:
    settings = Settings(database_url=database_url, bpmn_dir=ROOT / "bpmn", secret_key="worker-test",
                        host="127.0.0.1", port=5000)
    svc = Services.from_settings(settings)
    Base.metadata.create_all(svc.db)
    with svc.unit_of_work() as session:
        svc.specs.deploy(session, bundle("timers.bpmn", "answer.json"), "designer", START)
    yield svc
    svc.db.dispose()


def start_cases(svc: Services, count: int) -> list[int]:
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        return [engine.start("timed", {}, "reception").instance.id for _ in range(count)]


def fired_per_case(svc: Services) -> dict[int, int]:
    with svc.unit_of_work() as session:
        return dict(session.execute(select(Event.instance_id, func.count()).where(Event.type == "timer_fired")
                                    .group_by(Event.instance_id)).all())


@pytest.mark.postgres
def test_threads_fire_every_due_case_once_and_report_each(services: Services) -> None:
    if services.db.dialect.name != "postgresql":
        pytest.skip("SQLite has no SKIP LOCKED: a worker on SQLite fires with one thread")
    with services.unit_of_work() as session:
        SimulatedClock.install(session, START)
    cases = start_cases(services, 12)
    with services.unit_of_work() as session:
        SimulatedClock(session).set(DUE)
    reported: list[int] = []
    fired = services.fire_due_timers(threads=4, report=lambda result: reported.append(result.instance.id))
    assert sorted(r.instance.id for r in fired) == sorted(reported) == cases
    assert fired_per_case(services) == {case: 1 for case in cases}
    assert services.fire_due_timers(threads=4) == []  # nothing is due any more


def test_the_case_record_is_read_in_the_query_that_takes_the_due_row(services: Services) -> None:
    with services.unit_of_work() as session:
        SimulatedClock.install(session, START)
    (case,) = start_cases(services, 1)
    with services.unit_of_work() as session:
        SimulatedClock(session).set(DUE)
    statements: list[str] = []
    event.listen(services.db, "before_cursor_execute", lambda *args: statements.append(args[2]))
    (result,) = services.fire_due_timers()
    assert isinstance(result, StepResult) and result.instance.id == case
    reading_the_record = [s for s in statements if s.lstrip().startswith("SELECT") and "case_record" in s]
    assert len(reading_the_record) == 2  # one per look for a due case: the firing, then the one finding none
    assert all("FROM instance" in s and "JOIN case_record" in s for s in reading_the_record)
    assert any(s.lstrip().startswith("UPDATE case_record") for s in statements)  # the record was updated


def test_the_worker_sleeps_until_the_next_timer_falls_due(services: Services) -> None:
    overdue, _ = start_cases(services, 2)  # on the system clock: both "overdue" timers fall due in two days
    with services.unit_of_work() as session:  # one case missed its due time (held elsewhere): it does not count
        session.execute(update(Instance).where(Instance.id == overdue)
                        .values(next_timer_at=datetime.now(UTC) - timedelta(hours=1)))
    two_days = timedelta(days=2).total_seconds()
    assert two_days - 60 < services.next_timer_wait(3 * two_days) <= two_days
    assert services.next_timer_wait(5.0) == 5.0  # nothing falls due within the interval


def test_on_a_simulated_clock_the_worker_sleeps_the_interval(services: Services) -> None:
    with services.unit_of_work() as session:
        SimulatedClock.install(session, START)
    start_cases(services, 1)
    assert services.next_timer_wait(7.0) == 7.0

