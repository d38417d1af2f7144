"""The county simulator: deterministic for a seed, and nothing but the engine's own calls behind the records."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cli import main
from engine import Engine, FixedClock, SimulatedClock, SpecStore, read_bundle
from engine.db import Base, open_database
from engine.models import Event, HumanTask, Instance
from workflows.cases.record import CaseProjector, CaseRecord
from workflows.cases.routing import RoutingRules
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org.demo import load_demo_county
from workflows.org.importer import import_org_text
from workflows.org.models import Position
from workflows.org.roles import BY_LANE
from workflows.simulation.county import Rates, SimulationError, simulate
from workflows.simulation.diagram_staff import DIAGRAMS, HANDLERS
from workflows.simulation.org_directory import County
from workflows.simulation.petitions import Petition, make_resident
from workflows.simulation.staff import Staff, TaskInfo

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Xupu
# A small county month: about 12 online messages, 5 visits, 7 grid reports, 3 letters and calls.
SMALL = Rates(visits=60, online_messages=150, grid_reports=90, letters=25, phone_calls=12)


def prepare(session: Session) -> None:
    """Deploy the diagrams, load the demo county and put the database on a simulated clock at START."""
    Base.metadata.create_all(session.get_bind())
    SpecStore().deploy(session, read_bundle([ROOT / "bpmn"]), "test", START, set(BY_LANE))
    SimulatedClock.install(session, START)
    load_demo_county(session, START.date(), days=40)
    session.commit()


def engine_for(session: Session, specs: SpecStore | None = None) -> Engine:
    """The engine as the services build it: simulated clock, domain helpers, case projection."""
    projector = CaseProjector(session, "test-secret", packaged_config().deadlines)
    return Engine(session, SimulatedClock(session), specs or SpecStore(), helpers=script_helpers(session),
                  observers=(projector,))


def run(session: Session, seed: int = 7, months: int = 1, rates: Rates = SMALL, **kwargs: Any):
    return simulate(session, engine_for(session), months, seed, rates=rates, commit=session.commit, **kwargs)


def records(session: Session) -> list[dict[str, Any]]:
    """Every case record as plain values, in id order."""
    columns = [c.key for c in CaseRecord.__table__.columns]
    return [{key: getattr(record, key) for key in columns}
            for record in session.scalars(select(CaseRecord).order_by(CaseRecord.instance_id))]


def fresh_session(path: Path) -> Session:
    db = open_database(f"sqlite:///{path}")
    return sessionmaker(db, expire_on_commit=False)()


def test_the_same_seed_gives_the_same_summary_and_the_same_case_records(tmp_path: Path):
    results = []
    for seed, name in ((11, "first.db"), (11, "second.db"), (12, "other.db")):
        with fresh_session(tmp_path / name) as session:
            prepare(session)
            summary = run(session, seed=seed)
            results.append((summary.outcome(), records(session)))
    (first_summary, first_records), (second_summary, second_records), (_, other_records) = results
    assert first_summary == second_summary
    assert first_records == second_records
    assert len(first_records) > 10
    assert other_records != first_records


def test_every_case_comes_from_engine_steps(session: Session):
    prepare(session)
    summary = run(session, seed=3)

    assert summary.incidents == []
    assert {"reception", "online_message", "grid_visit", "monthly_report"} <= set(summary.routes)
    assert summary.steps > summary.timers > 0
    instances = {row.id: row for row in session.scalars(select(Instance))}
    events = dict(session.execute(select(Event.instance_id, func.count()).group_by(Event.instance_id)).all())
    started = set(session.scalars(select(Event.instance_id).where(Event.type == "started")))
    cases = records(session)
    assert len(cases) == len(instances)
    for case in cases:
        instance = instances[case["instance_id"]]
        assert case["instance_id"] in started
        assert events[instance.id] == instance.event_count >= 1
        assert case["registered_at"] == instance.started_at
        assert (case["status"] == "closed") == (instance.status == "completed")
    completed = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "completed"))
    task_events = session.scalar(select(func.count()).select_from(Event).where(Event.type == "task_completed"))
    assert completed == task_events > 0
    assert sum(counts["started"] for counts in summary.routes.values()) == len(cases)
    assert SimulatedClock(session).now() == datetime(2025, 4, 3, 1, 0, tzinfo=UTC)
    # Staff act in their lanes as the people of the org.
    actors = dict(session.execute(select(HumanTask.element_id, HumanTask.completed_by)
                                  .where(HumanTask.status == "completed")).all())
    lanes = dict(session.execute(select(HumanTask.element_id, HumanTask.lane)).all())
    assert lanes["record_issue"] == "网格员" and actors["record_issue"].endswith(".worker")
    assert lanes["respond"] == "县信访局" and actors["respond"].startswith("bureau")
    assert actors["publish"].startswith("bureau")  # the monthly report ran on 1 April


def test_a_second_run_goes_on_from_where_the_clock_stands(session: Session):
    prepare(session)
    run(session, seed=4)
    open_before = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "open"))
    second = run(session, seed=4)
    assert second.start.isoformat().startswith("2025-04-03T09:00")
    assert open_before > 0 and second.steps > 0 and second.incidents == []


def test_a_database_on_the_system_clock_is_refused(session: Session):
    Base.metadata.create_all(session.get_bind())
    engine = Engine(session, FixedClock(START), SpecStore())
    with pytest.raises(SimulationError, match="simulated-clock"):
        simulate(session, engine, 1, 1)


def test_rates_scale_the_volumes_not_the_shares():
    half = Rates().scaled(0.5)
    assert (half.visits, half.online_messages, half.repeats) == (166.5, 919.5, Rates().repeats)


def test_doorstep_simulate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'sim.db'}")
    monkeypatch.setenv("DOORSTEP_BPMN_DIR", str(ROOT / "bpmn"))
    runner = CliRunner()
    no_clock = runner.invoke(main, ["init"], catch_exceptions=False)
    assert no_clock.exit_code == 0
    refused = runner.invoke(main, ["simulate", "--months", "1"])
    assert refused.exit_code == 1 and "simulated-clock" in refused.output
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    ready = runner.invoke(main, ["init", "--demo", "--simulated-clock", "2025-03-03T09:00:00+08:00"])
    assert ready.exit_code == 0, ready.output
    result = runner.invoke(main, ["simulate", "--months", "1", "--seed", "2", "--scale", "0.05"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "网上群众路线 (online_message)" in result.output
    assert "steps per second" in result.output and "overdue cases" in result.output
    assert "与新华社报道对照：2021年" in result.output and "网上留言（另计）" in result.output
    report = runner.invoke(main, ["report", "monthly", "2025-03"], catch_exceptions=False)
    assert report.exit_code == 0 and "零上访村（社区）" in report.output


def test_every_user_task_has_one_handler_in_the_module_of_its_process():
    """diagram_staff/<process id>.py answers only tasks of that process; together they answer every user task."""
    bpmn = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    user_tasks: dict[str, set[str]] = {}
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        for process in etree.parse(str(path)).getroot().iter(f"{bpmn}process"):
            user_tasks[process.get("id")] = {task.get("id") for task in process.iter(f"{bpmn}userTask")}
    answered = {diagram.__name__.rsplit(".", 1)[-1]: set(diagram.HANDLERS) for diagram in DIAGRAMS}
    assert {process: elements - user_tasks.get(process, set()) for process, elements in answered.items()} == \
        dict.fromkeys(answered, set())
    assert set(HANDLERS) == set().union(*user_tasks.values())
    assert len(HANDLERS) == sum(len(elements) for elements in answered.values())  # no element in two modules


def test_the_discipline_body_accepts_accusations_under_its_own_code(small_org: Session, rules: RoutingRules):
    """A county whose discipline body is not `county-discipline`: its staff accept, the routing tables name the
    handling unit."""
    import_org_text(small_org, """
units: [{code: xp-jw, name: 溆浦县纪委监委, kind: office, parent: xupu}]
people:
  - {username: jw.staff, name: 钱进, positions: [{role: discipline, unit: xp-jw}]}
  - {username: jw.handler, name: 孙立, positions: [{role: handling_unit, unit: xp-jw}]}
""")
    local = RoutingRules(rules.domains, rules.categories, {}, {**rules.handlers, "accusation": ("xp-jw",)}, {}, ())
    rng = random.Random(1)
    staff = Staff(County(small_org, local, rng), packaged_config().calendar, rng, HANDLERS)
    petition = Petition(make_resident(rng, 1), "t01", "t01v01", None, "accusation", "村干部优亲厚友", "letter")
    task = TaskInfo("1", 1, "discipline_accept", "纪委监委", START, None)
    act = staff.act(task, petition, START)
    assert act is not None and act.actor == "jw.staff"
    assert act.data["handling_unit"] == "xp-jw" and petition.extras["unit"] == "xp-jw"


def test_the_bureau_is_whoever_holds_its_role_wherever_the_org_puts_it(small_org: Session, rules: RoutingRules):
    """A county whose petition bureau is not `county-petition-bureau`: its staff register and report."""
    import_org_text(small_org, """
units: [{code: xp-xfj, name: 溆浦县信访局, kind: office, parent: xupu}]
people:
  - {username: xfj.zhang, name: 张平, positions: [{role: county_bureau, unit: xp-xfj}]}
""")
    before = County(small_org, rules, random.Random(1)).bureau
    assert "xfj.zhang" in before and "county_bureau" not in before
    assert before == sorted(before) and len(before) >= 2  # the small county's own bureau staff too


def test_a_county_without_anyone_of_the_petition_bureau_is_refused(session: Session):
    prepare(session)
    session.execute(delete(Position).where(Position.role == "county_bureau"))
    with pytest.raises(SimulationError, match="county_bureau"):
        run(session)
