"""Instances and human tasks: projection, stored state, and every refused completion changing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

import engine
from engine import COMPLETED, RUNNING
from engine.models import Event, HumanTask, Instance
from engine.state import StateCodec

from .diagrams import bundle


@pytest.fixture
def timed(deploy, engine_, session):
    """A started 'timed' case (clerk answers, with a two-day boundary timer) and its engine."""
    deploy("timers.bpmn", "answer.json")
    eng = engine_()
    instance = eng.start("timed", {"visitor": "Wang", "headcount": 3}, "reception").instance
    session.commit()
    return eng, instance


def test_start_projects_the_human_task(timed, clock):
    eng, instance = timed
    assert instance.status == RUNNING
    (task,) = eng.open_tasks(instance.id)
    assert (task.element_id, task.name, task.lane, task.form, task.ref) == (
        "answer", "Answer the visitor", "clerk", "answer.json", "answer#1")
    assert (task.instance_id, task.process_id, task.status) == (instance.id, "timed", "open")
    assert task.created_at == clock.now()
    assert eng.open_tasks(lane="leader") == []
    assert [t.id for t in eng.open_tasks(lane="clerk")] == [task.id]


def test_the_case_starts_with_its_data_and_an_event(timed):
    eng, instance = timed
    assert eng.case_data(instance.id) == {"visitor": "Wang", "headcount": 3}
    assert instance.event_count == 1


def test_state_is_stored_without_the_spec(timed, session):
    _eng, instance = timed
    stored = json.loads(session.get(Instance, instance.id).state)
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert "tasks" in stored


def test_save_and_restore_gives_the_same_tasks_and_data(timed, session, clock):
    eng, instance = timed
    data, tasks = eng.case_data(instance.id), [(t.id, t.ref) for t in eng.open_tasks(instance.id)]
    session.expunge_all()
    store = engine.SpecStore()  # nothing cached from the first engine, as after a restart
    row = session.get(Instance, instance.id)
    workflow, books = StateCodec().load(row.state, *store.parsed(session, row.process_version_id))
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [(str(t.id), books.ref_of(t)) for t in ready] == tasks
    assert dict(ready[0].data) == data
    assert StateCodec().dump(workflow, books) == row.state  # saving again gives the same text
    # and the restored case runs on
    restored = engine.Engine(session, clock, store)
    assert restored.case_data(instance.id) == data
    restored.complete_task(tasks[0][0], {"answer": "done"}, "clerk")
    session.commit()
    assert restored.instance(instance.id).status == COMPLETED


def test_a_completion_moves_the_case_on(deploy, engine_, session):
    deploy("parallel.bpmn")
    eng = engine_()
    instance = eng.start("both", {}, "reception").instance
    visit, check = sorted(eng.open_tasks(instance.id), key=lambda t: t.element_id != "visit")
    eng.complete_task(visit.id, {"visited": True}, "clerk")
    session.commit()
    assert [t.element_id for t in eng.open_tasks(instance.id)] == ["check_files"]
    eng.complete_task(check.id, {"files_ok": True}, "clerk")
    session.commit()
    (report,) = eng.open_tasks(instance.id)
    assert report.element_id == "report"
    assert eng.case_data(instance.id) == {"visited": True, "files_ok": True}
    done = session.get(HumanTask, visit.id)
    assert (done.status, done.completed_by) == ("completed", "clerk")


def test_tasks_of_a_called_process_are_named_by_process(deploy, engine_, session):
    deploy("call.bpmn")
    eng = engine_()
    instance = eng.start("parent", {}, "reception").instance
    (handle,) = eng.open_tasks(instance.id)
    assert (handle.element_id, handle.ref) == ("handle", "child/handle#1")
    eng.complete_task(handle.id, {"handled": "yes"}, "clerk")
    (close,) = eng.open_tasks(instance.id)
    assert close.ref == "close#1"
    eng.complete_task(close.id, {}, "clerk")
    session.commit()
    assert eng.instance(instance.id).status == COMPLETED


# -- refused completions: each leaves the database as it was ------------------------------------------------

@pytest.fixture
def unchanged(snapshot, session):
    """Assert that a refused step changed nothing, once the caller rolled back its transaction."""

    def check(instance_id: int, step, error: type[Exception]) -> Exception:
        before = snapshot(instance_id)
        with pytest.raises(error) as caught:
            step()
        session.rollback()
        assert snapshot(instance_id) == before
        return caught.value

    return check


def test_an_unknown_task_is_not_found(timed, unchanged):
    eng, instance = timed
    error = unchanged(instance.id, lambda: eng.complete_task("no-such-task", {}, "clerk"), engine.TaskNotFound)
    assert "no-such-task" in str(error)


def test_a_completed_task_is_not_ready(timed, unchanged, session):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    eng.complete_task(task.id, {"answer": "first"}, "clerk")
    session.commit()
    error = unchanged(instance.id, lambda: eng.complete_task(task.id, {"answer": "other"}, "clerk2"),
                      engine.TaskNotReady)
    assert "already completed by clerk" in str(error)


def test_a_cancelled_task_is_not_ready(timed, unchanged, session, clock):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    clock.set(clock.now() + timedelta(days=3))
    eng.fire_due()  # the boundary timer interrupts the answer
    session.commit()
    assert session.get(HumanTask, task.id).status == "cancelled"
    error = unchanged(instance.id, lambda: eng.complete_task(task.id, {"answer": "late"}, "clerk"),
                      engine.TaskNotReady)
    assert "cancelled" in str(error)


@pytest.mark.parametrize("data", [
    ["answer"],
    "answer",
    None,
    {"answer": {"a", "set"}},
    {"answer": float("nan")},
    {1: "a key that is not a string"},
], ids=["list", "string", "none", "set-value", "nan", "int-key"])
def test_data_that_is_not_a_json_object_is_invalid(timed, unchanged, data):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    error = unchanged(instance.id, lambda: eng.complete_task(task.id, data, "clerk"), engine.InvalidTaskData)
    assert "JSON" in str(error) or "strings" in str(error)


def test_a_task_claimed_by_someone_else_is_not_ready(timed, unchanged, session):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    eng.claim(task.id, "li")
    session.commit()
    error = unchanged(instance.id, lambda: eng.complete_task(task.id, {"answer": "mine"}, "zhang"),
                      engine.TaskNotReady)
    assert "claimed by li" in str(error)
    eng.complete_task(task.id, {"answer": "mine"}, "li")  # the claimant may
    session.commit()
    assert eng.instance(instance.id).status == COMPLETED


def test_the_same_completion_twice_is_applied_once(timed, unchanged, snapshot, session):
    eng, instance = timed
    (task,) = eng.open_tasks(instance.id)
    first = eng.complete_task(task.id, {"answer": "yes"}, "clerk")
    session.commit()
    assert not first.already_applied
    before = snapshot(instance.id)
    again = eng.complete_task(task.id, {"answer": "yes"}, "clerk")
    session.commit()
    assert again.already_applied and again.events == []
    assert snapshot(instance.id) == before
    assert [e.type for e in _events(session, instance.id)].count("task_completed") == 1
    # a different second completion of the same task is refused
    unchanged(instance.id, lambda: eng.complete_task(task.id, {"answer": "no"}, "clerk"), engine.TaskNotReady)


def test_two_sessions_completing_the_same_task_one_wins_the_other_conflicts(timed, make_session, clock, specs):
    _eng, instance = timed
    (task,) = _eng.open_tasks(instance.id)
    first, second = make_session(), make_session()
    try:
        winner = engine.Engine(first, clock, specs)
        loser = engine.Engine(second, clock, specs)
        # both read the task and the case before either writes (kept referenced, as a request would)
        seen = [s.get(HumanTask, task.id) for s in (first, second)] + [second.get(Instance, instance.id)]
        assert all(row is not None for row in seen)
        winner.complete_task(task.id, {"answer": "from first"}, "li")
        first.commit()
        with pytest.raises(engine.Conflict):
            loser.complete_task(task.id, {"answer": "from second"}, "zhang")
        second.rollback()
    finally:
        first.close()
        second.close()
    with make_session() as check:
        events = _events(check, instance.id)
        assert [e.type for e in events].count("task_completed") == 1
        assert check.get(HumanTask, task.id).completed_by == "li"
        assert check.get(Instance, instance.id).status == COMPLETED


def _events(session, instance_id: int) -> list[Event]:
    return session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.seq)).all()


def test_an_unknown_process_cannot_start(deploy, engine_):
    deploy(files=bundle("gateway.bpmn"))
    with pytest.raises(engine.UnknownProcess):
        engine_().start("nowhere", {}, "reception")
