"""Deploying numbers versions per process, stores files once, and never moves a running case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import engine
from engine.catalog import human_task_lanes
from engine.models import Deployment, DeploymentFile, ProcessVersion, StoredFile

from .diagrams import bundle, edit, text


def rows(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Deployment, DeploymentFile, ProcessVersion, StoredFile)}


def timers_lasting(duration: str) -> dict[str, bytes]:
    return {"timers.bpmn": edit(text("timers.bpmn"), '"P2D"', f'"{duration}"').encode(),
            **bundle("answer.json")}


def test_versions_are_numbered_per_process(deploy, session):
    first = deploy("timers.bpmn", "answer.json", "gateway.bpmn")
    assert first == [engine.DeployedVersion("choose", 1, True), engine.DeployedVersion("timed", 1, True)]
    second = deploy(files=timers_lasting("P3D"))
    assert second == [engine.DeployedVersion("timed", 2, True)]
    versions = session.execute(select(ProcessVersion.process_id, ProcessVersion.version)
                               .order_by(ProcessVersion.process_id, ProcessVersion.version)).all()
    assert versions == [("choose", 1), ("timed", 1), ("timed", 2)]


def test_an_identical_redeploy_is_a_no_op(deploy, session):
    deploy("timers.bpmn", "answer.json")
    before = rows(session)
    again = deploy("timers.bpmn", "answer.json")
    assert again == [engine.DeployedVersion("timed", 1, False)]
    assert rows(session) == before


def test_files_are_stored_once_per_content_hash(deploy, session):
    deploy("timers.bpmn", "answer.json")
    deploy(files=timers_lasting("P3D"))
    counts = rows(session)
    assert counts["Deployment"] == 2
    assert counts["DeploymentFile"] == 4
    assert counts["StoredFile"] == 3  # answer.json is shared by both deployments
    stored = {row.content_hash: bytes(row.content) for row in session.scalars(select(StoredFile))}
    assert bundle("answer.json")["answer.json"] in stored.values()


def test_an_invalid_bundle_deploys_nothing(deploy, session):
    with pytest.raises(engine.ValidationFailed) as refused:
        deploy(files={"timers.bpmn": bundle("timers.bpmn")["timers.bpmn"]})  # its form is missing
    assert "answer.json" in str(refused.value)
    assert set(rows(session).values()) == {0}


def test_a_running_instance_stays_on_its_version_and_new_ones_start_on_the_latest(
        deploy, session, engine_, clock):
    deploy("timers.bpmn", "answer.json")
    eng = engine_()
    old = eng.start("timed", {"visitor": "old"}, "clerk").instance
    session.commit()
    deploy(files=timers_lasting("P3D"))
    new = eng.start("timed", {"visitor": "new"}, "clerk").instance
    session.commit()

    version_of = {v.id: v.version for v in session.scalars(select(ProcessVersion))}
    assert (version_of[old.process_version_id], version_of[new.process_version_id]) == (1, 2)
    assert eng.open_tasks(old.id)[0].due_at == clock.now() + timedelta(days=2)
    assert eng.open_tasks(new.id)[0].due_at == clock.now() + timedelta(days=3)

    # The old case goes on with its own diagram, also through a fresh spec store (as after a restart).
    fresh = engine_(specs=engine.SpecStore())
    clock.set(clock.now() + timedelta(days=2, hours=1))
    fired = fresh.fire_due()
    session.commit()
    assert [r.instance.id for r in fired] == [old.id]  # two days on version 1, three on version 2
    assert fresh.open_tasks(old.id) == []
    assert [t.element_id for t in fresh.open_tasks(new.id)] == ["answer"]
    assert fresh.instance(old.id).process_version_id == old.process_version_id


def test_the_lanes_of_human_tasks_are_those_of_each_process_newest_version(deploy, session):
    deploy("timers.bpmn", "answer.json", "gateway.bpmn")
    assert human_task_lanes(session) == {"clerk", "leader"}  # `choose` has no lanes
    moved = edit(edit(text("timers.bpmn"), "<bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>", ""),
                 "<bpmn:flowNodeRef>answer</bpmn:flowNodeRef>",
                 "<bpmn:flowNodeRef>answer</bpmn:flowNodeRef><bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>")
    deploy(files={"timers.bpmn": moved.encode(), **bundle("answer.json")})
    assert human_task_lanes(session) == {"clerk"}  # the leader's lane holds an end event only
