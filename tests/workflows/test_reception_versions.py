"""Reception cases started on the previous shape (reception v1 handing over to supervision v1, which ended when the
leader approved) keep that diagram version after the new one is deployed and finish on it; new cases take the
statutory path. tests/workflows/data/reception_v1/ holds the previous diagrams and forms as they were deployed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from doorstep.config import PROJECT_DIR
from engine import Engine, FixedClock, SpecStore, read_bundle
from workflows.cases.record import CaseRecord
from workflows.org.importer import import_org_file
from workflows.org.roles import BY_LANE

from .conftest import case_engine, complete_open

OLD = Path(__file__).parent / "data" / "reception_v1"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
VISIT = {"petitioner_name": "向春梅", "phone": "13762458810", "headcount": 1, "township": "t01", "village": "t01v03",
         "category": "land", "claim": "修路占用承包地，青苗补偿款未到位"}


def _handed_over(engine: Engine, clock: FixedClock) -> int:
    case_id = engine.start("reception", {"township": "t01"}, "t01v01.secretary").instance.id
    complete_open(engine, case_id, "register_visit", VISIT, "t01v01.secretary")
    complete_open(engine, case_id, "hear_claim", {"disposition": "hand_over"}, "t01.cadre")
    engine.run_until(clock.now() + timedelta(days=1), clock.set)
    return case_id


def test_a_case_on_the_previous_reception_version_finishes_on_it(session: Session):
    import_org_file(session, PROJECT_DIR / "bpmn" / "scenarios" / "org.yaml")
    specs, clock = SpecStore(), FixedClock(START)
    specs.deploy(session, read_bundle([OLD]), "test", START, set(BY_LANE))
    engine = case_engine(session, clock, specs)
    old = _handed_over(engine, clock)
    complete_open(engine, old, "assign_unit", {"handling_unit": "county-natural-resources", "deadline": "2026-03-20"},
              "t01.leader1")
    deployed = specs.deploy(session, read_bundle([PROJECT_DIR / "bpmn"]), "test", clock.now(), set(BY_LANE))
    assert {d.process_id for d in deployed if d.version == 2} >= {"reception", "supervision"}

    new = _handed_over(engine, clock)
    assert engine.instance(new).process_version_id != engine.instance(old).process_version_id
    assert engine.case_data(new)["decision"] == "accept"  # the new shape records the acceptance
    assert "decision" not in engine.case_data(old)

    complete_open(engine, old, "handle_case", {"handling_result": "补偿款已发放", "outcome": "support"}, "nr.handler")
    complete_open(engine, old, "check_result", {"approved": True}, "t01.leader1")
    assert engine.instance(old).status == "completed" and engine.open_tasks(old) == []
    record = session.get(CaseRecord, old)
    assert record is not None and record.status == "closed" and record.outcome == "support"
    assert record.deadlines["supervision"]["met"] is True  # settled by the closing, as before

    complete_open(engine, new, "assign_unit", {"handling_unit": "county-natural-resources", "deadline": "2026-03-20"},
              "t01.leader1")
    complete_open(engine, new, "handle_case", {"handling_result": "补偿款已发放", "outcome": "support"}, "nr.handler")
    complete_open(engine, new, "check_result", {"approved": True}, "t01.leader1")
    assert [t.element_id for t in engine.open_tasks(new)] == ["reply"]
