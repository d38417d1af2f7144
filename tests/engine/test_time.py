"""Timers run on the engine's clock: due times are projected, fire once passed, and survive a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import engine
from engine.models import Event, HumanTask

from .diagrams import bundle, edit, text

DUE = timedelta(days=2)
GRACE = timedelta(hours=12)


@pytest.fixture
def timed(deploy, engine_, session):
    deploy("timers.bpmn", "answer.json")
    eng = engine_()
    instance = eng.start("timed", {}, "reception").instance
    session.commit()
    return eng, instance


def events(session, instance_id: int) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.seq)))


def test_the_boundary_timer_is_the_task_due_time_and_the_next_timer(timed, clock):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    assert task.due_at == clock.now() + DUE
    assert instance.next_timer_at == clock.now() + DUE


def test_nothing_fires_before_the_due_time(timed, session, clock):
    eng, instance = timed
    started = clock.now()
    for moment in (started + timedelta(days=1), started + DUE):
        clock.set(moment)
        assert eng.fire_due() == []
    session.commit()
    assert [e.type for e in events(session, instance.id)] == ["started"]
    assert [t.element_id for t in eng.open_tasks(instance.id)] == ["answer"]


def test_a_passed_timer_fires_and_the_flow_moves_on(timed, session, clock):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    fire_at = clock.now() + DUE + timedelta(minutes=1)
    clock.set(fire_at)
    (fired,) = eng.fire_due()
    session.commit()
    event = fired.events[0]
    assert (event.type, event.business_time, event.data["timers"]) == ("timer_fired", fire_at, ["overdue#1"])
    assert session.get(HumanTask, task.id).status == "cancelled"  # the boundary timer interrupts
    assert eng.instance(instance.id).next_timer_at == fire_at + GRACE  # the grace timer now waits
    assert eng.fire_due() == []  # fired once


def test_run_until_fires_each_timer_at_its_own_business_time(timed, session, clock):
    eng, instance = timed
    started = clock.now()
    results = eng.run_until(started + timedelta(days=10), clock.set)
    session.commit()
    assert clock.now() == started + timedelta(days=10)
    fired = [e for e in events(session, instance.id) if e.type == "timer_fired"]
    assert [e.data["timers"] for e in fired] == [["overdue#1"], ["grace#1"]]
    assert len(results) == 2
    # each fires at its due time (SpiffWorkflow fires once the clock is strictly past it: a microsecond later)
    overdue_due = started + DUE
    assert overdue_due < fired[0].business_time < overdue_due + timedelta(milliseconds=1)
    grace_due = fired[0].business_time + GRACE  # computed when the first timer fired
    assert grace_due < fired[1].business_time < grace_due + timedelta(milliseconds=1)
    (escalate,) = eng.open_tasks(instance.id)
    assert (escalate.element_id, escalate.lane, escalate.created_at) == ("escalate", "leader", fired[1].business_time)
    assert eng.instance(instance.id).next_timer_at is None


def test_run_until_interleaves_the_timers_of_several_cases(timed, session, clock):
    eng, first = timed
    clock.set(clock.now() + timedelta(days=1))
    second = eng.start("timed", {}, "reception").instance
    session.commit()
    eng.run_until(clock.now() + timedelta(days=5), clock.set)
    session.commit()
    fired = sorted((e.business_time, e.instance_id, e.data["timers"][0])
                   for e in session.scalars(select(Event).where(Event.type == "timer_fired")))
    assert [(case, timer) for _time, case, timer in fired] == [
        (first.id, "overdue#1"), (first.id, "grace#1"), (second.id, "overdue#1"), (second.id, "grace#1")]


def test_timers_survive_a_save_and_load(timed, session, clock):
    eng, instance = timed
    due = eng.instance(instance.id).next_timer_at
    session.expunge_all()
    restarted = engine.Engine(session, clock, engine.SpecStore())
    clock.set(due + timedelta(seconds=1))
    (fired,) = restarted.fire_due()
    session.commit()
    assert fired.instance.id == instance.id
    assert fired.events[0].data["timers"] == ["overdue#1"]


def test_a_timer_computed_from_case_data_uses_that_data(deploy, engine_, session, clock):
    files = {"timers.bpmn": edit(text("timers.bpmn"), '"P2D"', 'f"P{days}D"').encode(), **bundle("answer.json")}
    deploy(files=files)
    eng = engine_()
    instance = eng.start("timed", {"days": 5}, "reception").instance
    session.commit()
    assert eng.open_tasks(instance.id)[0].due_at == clock.now() + timedelta(days=5)


def test_a_completed_task_takes_its_timer_with_it(timed, session, clock):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    eng.complete_task(task.id, {"answer": "in time"}, "clerk")
    session.commit()
    assert eng.instance(instance.id).next_timer_at is None
    clock.set(clock.now() + timedelta(days=30))
    assert eng.fire_due() == []
