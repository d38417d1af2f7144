"""Messages reach only the case whose data matches their correlation keys."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import engine
from engine.models import Event, MessageWait


@pytest.fixture
def waiting(deploy, engine_, session):
    """Two cases waiting for a 'reply', told apart by their case number."""
    deploy("message.bpmn")
    eng = engine_()
    cases = {number: eng.start("await_reply", {"case_no": number}, "reception").instance
             for number in ("A-1", "A-2")}
    session.commit()
    return eng, cases


def test_waiting_cases_are_projected(waiting, session):
    _eng, cases = waiting
    rows = session.execute(select(MessageWait.instance_id, MessageWait.message_name)).all()
    assert sorted(rows) == sorted((c.id, "reply") for c in cases.values())


def test_a_message_reaches_only_the_matching_case(waiting, session, clock):
    eng, cases = waiting
    (result,) = eng.deliver_message("reply", {"text": "we will come"}, {"case_no": "A-2"}, "post office")
    session.commit()
    assert result.instance.id == cases["A-2"].id
    event = result.events[0]
    assert (event.type, event.actor, event.task_ref, event.business_time) == (
        "message_received", "post office", "wait_reply#1", clock.now())
    assert event.data["payload"] == {"text": "we will come"}
    assert eng.case_data(cases["A-2"].id) == {"case_no": "A-2", "reply": {"text": "we will come"}}
    assert [t.element_id for t in eng.open_tasks(cases["A-2"].id)] == ["read_reply"]
    # the other case still waits, untouched
    assert eng.open_tasks(cases["A-1"].id) == []
    assert eng.case_data(cases["A-1"].id) == {"case_no": "A-1"}
    assert cases["A-1"].event_count == 1
    assert session.scalars(select(MessageWait.instance_id)).all() == [cases["A-1"].id]


def test_a_message_nobody_waits_for_is_refused_and_changes_nothing(waiting, session):
    eng, _cases = waiting
    before = session.scalar(select(func.count()).select_from(Event))
    with pytest.raises(engine.NoMessageWaiting):
        eng.deliver_message("reply", {"text": "?"}, {"case_no": "B-9"}, "post office")
    with pytest.raises(engine.NoMessageWaiting):
        eng.deliver_message("no such message", {}, {"case_no": "A-1"}, "post office")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == before


def test_a_message_is_received_once(waiting, session):
    eng, cases = waiting
    eng.deliver_message("reply", {"text": "first"}, {"case_no": "A-1"}, "post office")
    session.commit()
    with pytest.raises(engine.NoMessageWaiting):
        eng.deliver_message("reply", {"text": "second"}, {"case_no": "A-1"}, "post office")
    session.rollback()
    assert eng.case_data(cases["A-1"].id)["reply"] == {"text": "first"}


def test_a_payload_must_be_a_json_object(waiting):
    eng, _cases = waiting
    with pytest.raises(engine.InvalidTaskData):
        eng.deliver_message("reply", ["not", "an", "object"], {"case_no": "A-1"}, "post office")
