"""A failing script or gateway becomes an incident that keeps the submitted data and can be retried."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import engine
from engine import INCIDENT, RUNNING
from engine.models import Event, Incident


@pytest.fixture
def scripted(deploy, engine_, session):
    deploy("script.bpmn")
    eng = engine_(helpers={"describe": lambda share: f"share {share}"})
    instance = eng.start("scripted", {"case_no": "C-7"}, "reception").instance
    session.commit()
    return eng, instance


def event_types(session, instance_id: int) -> list[str]:
    return list(session.scalars(select(Event.type).where(Event.instance_id == instance_id).order_by(Event.seq)))


def fail_the_script(eng, instance, session) -> engine.StepResult:
    (enter,) = eng.open_tasks(instance.id)
    result = eng.complete_task(enter.id, {"total": 10, "count": 0}, "clerk")
    session.commit()
    return result


def test_a_failing_script_raises_an_incident_and_keeps_the_submitted_data(scripted, session):
    eng, instance = scripted
    result = fail_the_script(eng, instance, session)
    incident = result.incident
    assert incident is not None
    assert (incident.element_id, incident.task_ref, incident.status) == ("compute", "compute#1", "open")
    assert incident.line == 2  # of the script: share = total / count
    assert "division by zero" in incident.message and "total / count" in incident.message
    assert eng.instance(instance.id).status == INCIDENT
    assert eng.case_data(instance.id) == {"case_no": "C-7", "total": 10, "count": 0}
    assert eng.open_tasks(instance.id) == []
    assert event_types(session, instance.id) == ["started", "task_completed", "incident_raised"]
    raised = result.events[-1]
    assert raised.data == {"incident": incident.id, "element": "compute", "line": 2, "message": incident.message}
    completed = result.events[0]
    assert completed.data["submitted"] == {"total": 10, "count": 0}


def test_retry_with_corrected_data_resolves_the_incident_and_the_case_goes_on(scripted, session, clock):
    eng, instance = scripted
    incident = fail_the_script(eng, instance, session).incident
    result = eng.retry_incident(incident.id, "designer", data={"count": 4}, reason="更正数据")
    session.commit()
    assert result.incident is None
    resolved = session.get(Incident, incident.id)
    assert (resolved.status, resolved.resolved_by, resolved.resolved_at) == ("resolved", "designer", clock.now())
    assert eng.instance(instance.id).status == RUNNING
    data = eng.case_data(instance.id)
    assert (data["count"], data["share"], data["label"]) == (4, 2.5, "share 2.5")
    assert [t.element_id for t in eng.open_tasks(instance.id)] == ["confirm"]
    assert event_types(session, instance.id)[-1] == "incident_resolved"
    assert result.events[0].data["corrected"] == {"count": 4}


def test_a_retry_that_fails_again_leaves_one_open_incident(scripted, session):
    eng, instance = scripted
    incident = fail_the_script(eng, instance, session).incident
    again = eng.retry_incident(incident.id, "designer", data={"count": 0}, reason="更正数据")
    session.commit()
    assert eng.instance(instance.id).status == INCIDENT
    open_incidents = session.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                            Incident.status == "open")).all()
    assert len(open_incidents) == 1
    assert again.incident is not None
    # the open incident can still be resolved, and then none is left open
    eng.retry_incident(open_incidents[0].id, "designer", data={"count": 5}, reason="更正数据")
    session.commit()
    assert eng.instance(instance.id).status == RUNNING
    assert session.scalars(select(Incident).where(Incident.status == "open")).all() == []


def test_a_gateway_without_a_matching_condition_raises_an_incident(deploy, engine_, session):
    deploy("gateway.bpmn")
    eng = engine_()
    instance = eng.start("choose", {}, "reception").instance
    (classify,) = eng.open_tasks(instance.id)
    result = eng.complete_task(classify.id, {"track": "unusual"}, "clerk")
    session.commit()
    assert result.incident is not None
    assert result.incident.element_id == "which"
    assert "No conditions satisfied" in result.incident.message
    assert eng.instance(instance.id).status == INCIDENT
    assert eng.case_data(instance.id) == {"track": "unusual"}

    eng.retry_incident(result.incident.id, "designer", data={"track": "complex"}, reason="更正数据")
    session.commit()
    assert [t.element_id for t in eng.open_tasks(instance.id)] == ["complex"]
    assert eng.instance(instance.id).status == RUNNING


def test_an_unknown_or_resolved_incident_cannot_be_retried(scripted, session):
    eng, instance = scripted
    with pytest.raises(engine.UnknownIncident):
        eng.retry_incident(999, "designer")
    incident = fail_the_script(eng, instance, session).incident
    eng.retry_incident(incident.id, "designer", data={"count": 2}, reason="更正数据")
    session.commit()
    with pytest.raises(engine.UnknownIncident):
        eng.retry_incident(incident.id, "designer")


def test_corrected_data_needs_a_reason_and_the_reason_is_recorded(scripted, session, snapshot):
    eng, instance = scripted
    incident = fail_the_script(eng, instance, session).incident
    before = snapshot(instance.id)
    with pytest.raises(engine.InvalidTaskData, match="reason"):
        eng.retry_incident(incident.id, "designer", data={"count": 4})
    session.rollback()
    assert snapshot(instance.id) == before
    eng.retry_incident(incident.id, "designer", data={"count": 4}, reason="人数填错")
    session.commit()
    resolved = session.scalar(select(Event).where(Event.instance_id == instance.id, Event.type == "incident_resolved"))
    assert resolved.data["reason"] == "人数填错" and resolved.actor == "designer"
