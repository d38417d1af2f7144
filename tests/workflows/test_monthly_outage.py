"""A long outage of the timer worker: the monthly schedule then reports every missed month once, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from engine import Engine, FixedClock, SpecStore, read_bundle
from workflows.cases.record import CaseProjector
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org.importer import import_org_file
from workflows.org.roles import BY_LANE

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)  # the schedule starts; its first run is 1 February
BACK = datetime(2026, 5, 12, 2, 0, tzinfo=UTC)  # the worker comes back after February, March, April and May 1st
STEPS = {"publish": {"publish_approved": True}, "assess": {"assessment_note": "考核完成"},
         "reward": {"rewards_confirmed": True}}


def test_after_an_outage_each_missed_month_is_reported_once_in_order(session: Session):
    import_org_file(session, ROOT / "bpmn" / "scenarios" / "org.yaml")
    specs, clock = SpecStore(), FixedClock(SCHEDULED)
    specs.deploy(session, read_bundle([ROOT / "bpmn"]), "designer", SCHEDULED, set(BY_LANE))
    engine = Engine(session, clock, specs, helpers=script_helpers(session),
                    observers=(CaseProjector(session, "outage", packaged_config().deadlines),))
    schedule = engine.start("monthly_schedule", {"schedule_until": "2026-04"}, "bureau1").instance
    session.commit()

    clock.set(BACK)  # nothing fired while the worker was down: the first run is three months late
    compiled: list[str] = []
    while engine.fire_next_due() is not None or engine.open_tasks(schedule.id):
        for task in engine.open_tasks(schedule.id):
            if task.element_id == "publish":
                compiled.append(engine.case_data(schedule.id)["month"])
            engine.complete_task(task.id, STEPS[task.element_id], "bureau1")
        session.commit()
        assert len(compiled) <= 4, compiled  # a loop that reports forever fails here, not by timing out

    assert compiled == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert engine.instance(schedule.id).status == "completed"
    counts = engine.element_counts(schedule.id)
    assert (counts["run_report"], counts["wait_month"]) == (4, 4)  # four runs, each started by its own timer
