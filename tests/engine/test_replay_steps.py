"""Stepping through a recorded case: after each event, where the re-executed case stood on its diagram."""

from __future__ import annotations

from itertools import islice

import pytest

from engine.audit import history_from_db, replay_steps, verify
from engine.state import StateCodec, state_digest


@pytest.fixture
def loop_case(deploy, engine_, session):
    """A loop run three times, each round claimed first: started, (claimed, completed) × 3, completed."""
    deploy("loop.bpmn", "x.json")
    eng = engine_()
    instance = eng.start("loop", {"case_no": "L-1"}, "reception").instance
    session.commit()
    for again in (True, True, False):
        (work,) = eng.open_tasks(instance.id)
        eng.claim(work.id, "clerk")
        eng.complete_task(work.id, {"again": again}, "clerk")
        session.commit()
    return instance.id


@pytest.fixture
def parallel_case(deploy, engine_, session):
    """A parallel split: both branches open at once, then joined into the report."""
    deploy("parallel.bpmn")
    eng = engine_()
    instance = eng.start("both", {"case_no": "P-1"}, "reception").instance
    session.commit()
    for element in ("check_files", "visit"):
        (task,) = [t for t in eng.open_tasks(instance.id) if t.element_id == element]
        eng.complete_task(task.id, {element: "done"}, "clerk")
        session.commit()
    return instance.id


def steps_of(session, case_id):
    return list(replay_steps(history_from_db(session, case_id)))


def test_a_loop_counts_up_step_by_step(loop_case, session):
    steps = steps_of(session, loop_case)
    assert [(s.number, s.event["type"], s.event["task"]) for s in steps] == [
        (1, "started", None), (2, "task_claimed", "work#1"), (3, "task_completed", "work#1"),
        (4, "task_claimed", "work#2"), (5, "task_completed", "work#2"), (6, "task_claimed", "work#3"),
        (7, "task_completed", "work#3"), (8, "completed", None)]
    assert [s.progress.counts.get("work") for s in steps] == [1, 1, 2, 2, 3, 3, 3, 3]
    assert [s.progress.counts.get("gw", 0) for s in steps] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [s.progress.open for s in steps[:7:2]] == [{"work": ["ready"]}] * 3 + [{}]
    assert steps[6].progress.counts["end"] == 1 and "end" not in steps[4].progress.counts
    assert "loop:gw->work" in steps[2].progress.flows and "loop:gw->end" not in steps[4].progress.flows
    assert "loop:gw->end" in steps[6].progress.flows


def test_each_step_has_the_data_then_and_what_the_event_changed(loop_case, session):
    steps = steps_of(session, loop_case)
    assert steps[0].data == {"case_no": "L-1"} and steps[0].changes == {"case_no": [None, "L-1"]}
    assert steps[2].data == {"case_no": "L-1", "again": True} and steps[2].changes == {"again": [None, True]}
    assert steps[6].data["again"] is False and steps[6].changes == {"again": [True, False]}
    # A claim changes no workflow state: the case stands as before, and nothing changed.
    assert (steps[3].progress, steps[3].data, steps[3].changes) == (steps[2].progress, steps[2].data, {})
    # A later step does not rewrite an earlier one's view.
    assert steps[0].progress.counts == {"start": 1, "work": 1}


def test_parallel_branches_are_open_at_once_then_one_by_one(parallel_case, session):
    steps = steps_of(session, parallel_case)
    assert [s.event["task"] for s in steps] == [None, "check_files#1", "visit#1"]
    assert steps[0].progress.open == {"visit": ["ready"], "check_files": ["ready"]}
    assert steps[1].progress.open == {"visit": ["ready"], "join": ["waiting"]}
    assert steps[2].progress.open == {"report": ["ready"]}
    assert steps[1].progress.counts["check_files"] == 1 and steps[1].progress.counts["visit"] == 1
    assert "both:check_files->join" in steps[1].progress.flows and "both:visit->join" not in steps[1].progress.flows
    assert steps[2].data == {"case_no": "P-1", "check_files": "done", "visit": "done"}


def test_the_steps_reproduce_the_recorded_digests_as_verify_does(loop_case, session, specs):
    case = history_from_db(session, loop_case)
    steps = list(replay_steps(case))
    assert all(s.divergence is None for s in steps)
    assert [s.digest for s in steps] == verify(case).digests == [e["state_digest"] for e in case.events]
    assert {s.version for s in steps} == {case.events[0]["version"]}
    stored, books = StateCodec().load(case.state, *specs.parsed(session, steps[-1].version))
    assert state_digest(stored, books) == steps[-1].digest  # the stored state is where the last step stands


def test_a_step_that_disagrees_with_the_record_is_marked_and_stepping_goes_on(loop_case, session):
    case = history_from_db(session, loop_case)
    case.events[4]["data"]["submitted"] = {"again": False}  # the second round "ended" the loop
    steps = list(replay_steps(case))
    assert [s.number for s in steps if s.divergence is not None][0] == 5
    assert steps[4].divergence.what == "state after task_completed work#2"
    assert steps[4].divergence.expected == case.events[4]["state_digest"] == steps[4].event["state_digest"]
    assert steps[4].progress.open == {} and steps[4].progress.counts["end"] == 1  # what the forged input gives
    assert verify(case).divergence.seq == 5  # verify stops there too (the edited event's hash is caught first)
    # Stepping goes on past it, until an input no longer fits: the forged end leaves no third round to complete.
    assert len(steps) == 7 and steps[5].divergence.what == "state after task_claimed work#3"  # still astray
    assert steps[6].refused.found == "task work#3 is not open at this point"


def test_stepping_stops_at_an_input_that_cannot_be_applied(loop_case, session):
    case = history_from_db(session, loop_case)
    case.events[4]["task"] = "work#9"
    steps = list(replay_steps(case))
    assert len(steps) == 5
    assert steps[-1].refused is not None and steps[-1].divergence.seq == 5
    assert steps[-1].divergence.found == "task work#9 is not open at this point"


def test_steps_are_re_executed_lazily(loop_case, session):
    case = history_from_db(session, loop_case)
    case.events[4]["task"] = "work#9"  # would stop a full replay at step 5
    first_three = list(islice(replay_steps(case), 3))
    assert [s.divergence for s in first_three] == [None] * 3
    assert first_three[-1].progress.counts["work"] == 2


def test_a_long_loop_steps_through_to_its_last_round(deploy, engine_, session):
    deploy("loop.bpmn", "x.json")
    eng = engine_()
    instance = eng.start("loop", {"case_no": "L-40"}, "reception").instance
    for again in [True] * 39 + [False]:
        (work,) = eng.open_tasks(instance.id)
        eng.complete_task(work.id, {"again": again}, "clerk")
    session.commit()
    steps = replay_steps(history_from_db(session, instance.id))
    counts = [s.progress.counts["work"] for s in steps]
    assert counts == list(range(1, 41)) + [40, 40]
