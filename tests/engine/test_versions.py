"""Version differences and moving running cases to a new version only where that is safe."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import engine
from engine.audit import history_from_db, verify
from engine.models import Event, ProcessVersion
from engine.versions import diff_specs

from .diagrams import edit, text

V2 = edit(text("linear.bpmn"),
          '<bpmn:userTask id="second" name="Second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
          '</bpmn:userTask>',
          '<bpmn:userTask id="second" name="Second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
          '</bpmn:userTask><bpmn:userTask id="third" name="Third"><bpmn:incoming>f3</bpmn:incoming>'
          '<bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask><bpmn:sequenceFlow id="f4" sourceRef="third" '
          'targetRef="end" />').replace('<bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />',
                                         '<bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="third" />')


@pytest.fixture
def two_versions(deploy, session):
    deploy("linear.bpmn")
    deploy(files={"linear.bpmn": V2.encode()})
    versions = session.scalars(select(ProcessVersion).order_by(ProcessVersion.version)).all()
    return versions[0], versions[1]


def complete(eng, session, case_id, element, data=None):
    (task,) = [t for t in eng.open_tasks(case_id) if t.element_id == element]
    eng.complete_task(task.id, data or {}, "clerk")
    session.commit()


def test_the_diff_names_added_and_changed_elements(two_versions):
    old, new = two_versions
    diff = diff_specs(old.spec, new.spec)
    assert [str(c) for c in diff.changes] == ["changed second Second (outputs)", "added third Third"]
    assert diff.summary() == {"added": 1, "removed": 0, "changed": 1}


def test_a_case_that_has_not_reached_the_change_moves_and_runs_the_new_path(deploy, engine_, session):
    deploy("linear.bpmn")
    eng = engine_()
    case_id = eng.start("linear", {"n": 1}, "clerk").instance.id
    session.commit()
    (new,) = [v for v in deploy(files={"linear.bpmn": V2.encode()}) if v.process_id == "linear"]
    target = session.scalar(select(ProcessVersion).where(ProcessVersion.version == new.version))
    eng.migrate(case_id, target.id, "designer")
    session.commit()
    complete(eng, session, case_id, "first")
    complete(eng, session, case_id, "second")
    assert [t.element_id for t in eng.open_tasks(case_id)] == ["third"]
    complete(eng, session, case_id, "third")
    assert eng.instance(case_id).status == engine.COMPLETED
    migrated = session.scalar(select(Event).where(Event.instance_id == case_id, Event.type == "migrated"))
    assert migrated.data["from_version"] == 1 and migrated.data["to_version"] == 2
    assert migrated.data["diff"] == {"added": 1, "removed": 0, "changed": 1}
    assert verify(history_from_db(session, case_id)).ok


def test_a_case_that_ran_a_changed_element_is_refused_and_unchanged(deploy, engine_, session, snapshot):
    deploy("linear.bpmn")
    eng = engine_()
    case_id = eng.start("linear", {}, "clerk").instance.id
    session.commit()
    complete(eng, session, case_id, "first")  # now at `second`, which v2 changes
    deploy(files={"linear.bpmn": V2.encode()})
    target = session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
    before = snapshot(case_id)
    with pytest.raises(engine.MigrationRefused, match="second: changed"):
        eng.migrate(case_id, target.id, "designer")
    session.rollback()
    assert snapshot(case_id) == before


def test_a_renamed_element_does_not_stop_a_case_from_moving(deploy, engine_, session):
    deploy("linear.bpmn")
    eng = engine_()
    case_id = eng.start("linear", {}, "clerk").instance.id
    session.commit()
    deploy(files={"linear.bpmn": text("linear.bpmn").replace('name="First"', 'name="第一步"').encode()})
    target = session.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
    eng.migrate(case_id, target.id, "designer")
    session.commit()
    assert eng.instance(case_id).process_version_id == target.id
    assert [t.element_id for t in eng.open_tasks(case_id)] == ["first"]
