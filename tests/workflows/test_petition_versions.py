"""Accusations waiting at 检举控告受理 on the previous petition version (whose only outcome was naming a handling
unit) keep that version, its diagram and its form after the version that can transfer up (转送市纪委监委) is
deployed, and finish on it; new cases get the decision. tests/workflows/data/petition_v1/ holds the previous
diagram and discipline form as they were deployed (the other files are today's)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from doorstep.config import PROJECT_DIR
from engine import Engine, FixedClock, MigrationRefused, SpecStore, read_bundle
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import task_form
from workflows.org.importer import import_org_file
from workflows.org.roles import BY_LANE

from .conftest import case_engine, complete_open

OLD = Path(__file__).parent / "data" / "petition_v1"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ACCUSATION = {"channel": "letter", "category": "accusation", "petitioner_name": "梁秀英", "headcount": 1,
              "township": "t01", "village": "t01v01", "claim": "反映司法所工作人员收受好处费",
              "confidentiality_requested": True, "accused_unit": "t01-justice"}
TRANSFER_UP = {"discipline_decision": "transfer_up", "decision_reason": "超出县纪委监委管辖权限",
               "notice": "已转送市纪委监委"}


def _at_discipline_accept(engine: Engine) -> int:
    case_id = engine.start("petition", {}, "bureau1").instance.id
    complete_open(engine, case_id, "register", ACCUSATION, "bureau1")
    complete_open(engine, case_id, "decide_registration", {"decision": "accept", "notice": "已受理", "tier": "county"},
                  "bureau1")
    return case_id


def _form_fields(session: Session, engine: Engine, case_id: int) -> set[str]:
    [task] = engine.open_tasks(case_id)
    version = engine.specs.version(session, engine.instance(case_id).process_version_id)
    return {f.name for f in task_form(session, engine, version, task).fields}


def test_an_accusation_waiting_on_the_previous_petition_version_finishes_on_it(session: Session):
    import_org_file(session, PROJECT_DIR / "bpmn" / "scenarios" / "org.yaml")
    specs, clock = SpecStore(), FixedClock(START)
    specs.deploy(session, read_bundle([PROJECT_DIR / "bpmn", OLD]), "test", START, set(BY_LANE))
    engine = case_engine(session, clock, specs)
    old = _at_discipline_accept(engine)
    deployed = specs.deploy(session, read_bundle([PROJECT_DIR / "bpmn"]), "test", clock.now(), set(BY_LANE))
    assert "petition" in {d.process_id for d in deployed if d.version == 2}

    new = _at_discipline_accept(engine)
    assert engine.instance(new).process_version_id != engine.instance(old).process_version_id
    assert "discipline_decision" not in _form_fields(session, engine, old)  # the form deployed with its version
    assert "discipline_decision" in _form_fields(session, engine, new)
    with pytest.raises(MigrationRefused, match="discipline_accept"):  # a designer cannot move it mid-task either
        engine.migrate(old, specs.latest(session, "petition").id, "designer1")

    # What a new case would take as a transfer up is, on the old diagram, the acceptance it always was.
    complete_open(engine, old, "discipline_accept",
                  {**TRANSFER_UP, "handling_unit": "county-discipline", "acceptance_notice": "已受理"}, "jw.staff")
    assert [t.element_id for t in engine.open_tasks(old)] == ["confirm_competence"]
    assert "record_discipline_decision" not in engine.element_counts(old)
    old_record = session.get(CaseRecord, old)
    assert old_record is not None
    assert (old_record.status, old_record.decision, old_record.handling_unit) == ("open", "accept", "county-discipline")

    complete_open(engine, new, "discipline_accept", TRANSFER_UP, "jw.staff")
    assert engine.instance(new).status == "completed" and engine.open_tasks(new) == []
    new_record = session.get(CaseRecord, new)
    assert new_record is not None and (new_record.status, new_record.decision) == ("closed", "transfer")
