"""Every task of every scenario has someone who may act on it, and nobody of the wrong role or place may.

The scenarios of bpmn/scenarios run against the scenario org (org.yaml) through the real access rules
(`workflows.cases.access`): before each completion and each move of the clock, every open task of the case is
checked — someone may act, and someone still may once all of them have stepped aside (回避: the stand-in body,
`workflows.cases.stand_in`; tried in a savepoint that is rolled back); whoever may act holds the lane's role
where the task is (the case's place, or the unit the case names for handling units, agency heads, review and
re-examination bodies, or its leader); the person the scenario names may act (the petitioner's tasks excepted:
staff never act in the 信访人 lane). The reception room's rota is built from the scenarios themselves: whoever a
scenario seats in the room that day.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import Engine, FixedClock, SpecStore, read_bundle
from engine.db import Base, open_database
from engine.models import HumanTask
from engine.scenarios import Scenario, load_scenarios, run_scenario
from workflows.cases.access import RECEPTION_LANES, RECEPTION_PROCESS, UNIT_ROLES, Access, load_viewer, task_place
from workflows.cases.record import CaseProjector, CaseRecord
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.cases.stand_in import stand_in_role
from workflows.cases.task_work import step_aside
from workflows.design.library_check import DEFAULT_START, ORG_FILE, SCENARIO_SECRET
from workflows.org.importer import import_org_file
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.roles import BY_LANE

BPMN = Path(__file__).parents[2] / "bpmn"
SCENARIOS = load_scenarios(BPMN / "scenarios", skip=(ORG_FILE,))
PETITIONER_LANE = BY_LANE["信访人"].name


@pytest.fixture(scope="module")
def sessions() -> Iterator[Any]:
    """A scratch database with the scenario org and the diagrams deployed."""
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'authority.db'}")
        Base.metadata.create_all(db)
        factory = sessionmaker(bind=db, expire_on_commit=False)
        specs = SpecStore()
        with factory() as session:
            import_org_file(session, BPMN / "scenarios" / ORG_FILE)
            specs.deploy(session, read_bundle([BPMN]), "authority", DEFAULT_START, set(BY_LANE))
            session.commit()
        yield factory, specs
        db.dispose()


class Inspector:
    """Checks the open tasks of a case against the access rules; collects what is wrong."""

    def __init__(self, session: Session, clock: FixedClock):
        self.session, self.clock = session, clock
        self.people = list(session.scalars(select(Person.username).order_by(Person.username)))
        self.problems: list[str] = []
        self._viewers: dict[tuple[str, Any], Any] = {}
        self._probed: set[str] = set()  # tasks whose people have all stepped aside once (in a savepoint)
        self.engine: Engine

    def viewer(self, username: str) -> Any:
        """The person as the access rules see them today (cached until the rota changes)."""
        day = packaged_config().calendar.local_day(self.clock.now())
        if (username, day) not in self._viewers:
            self._viewers[username, day] = load_viewer(self.session, username, day)
        return self._viewers[username, day]

    def check_case(self, case_id: int, task_id: str | None = None, actor: str | None = None) -> None:
        self.session.flush()
        case = self.session.get(CaseRecord, case_id)
        tasks = self.session.scalars(select(HumanTask).where(HumanTask.instance_id == case_id,
                                                             HumanTask.status == "open")).all()
        for task in tasks:
            if task.id == task_id and task.lane in RECEPTION_LANES and task.process_id == RECEPTION_PROCESS:
                self._seat_on_duty(task, actor)
            allowed = self._may_act(task, case)
            where = f"{task.process_id}/{task.element_id} ({task.lane}, place {task.scope})"
            if task.lane == PETITIONER_LANE:
                if allowed:
                    self.problems.append(f"{where}: staff may act in the petitioner's lane: {allowed}")
                continue
            if not allowed:
                self.problems.append(f"{where}: nobody may act")
            for username in allowed:
                if not self._rightly_placed(username, task, case):
                    self.problems.append(f"{where}: {username} may act without the role there")
            if task.id == task_id and actor not in allowed:
                self.problems.append(f"{where}: the scenario's {actor} may not act (may: {allowed})")
            if allowed and task.id not in self._probed:
                self._probed.add(task.id)
                self._all_step_aside(task, case, allowed, where)

    def _all_step_aside(self, task: HumanTask, case: CaseRecord | None, allowed: list[str], where: str) -> None:
        """Everyone who may act steps aside (回避), inside a savepoint: someone of the stand-in body must be left."""
        savepoint = self.session.begin_nested()
        try:
            for username in allowed:
                step_aside(self.session, self.engine, Access(self.session, self.viewer(username)), task.id, "回避")
            left = self._may_act(task, case)
            if not left:
                self.problems.append(f"{where}: nobody may act once {allowed} stepped aside")
            stand_in = stand_in_role(task, case)
            for username in left:
                if not any(seat.role == stand_in for seat in self.viewer(username).seats):
                    self.problems.append(f"{where}: after the step-asides {username} may act without being "
                                         f"{stand_in}")
        finally:
            savepoint.rollback()

    def _may_act(self, task: HumanTask, case: CaseRecord | None) -> list[str]:
        found = []
        for username in self.people:
            viewer = self.viewer(username)
            if viewer is not None and Access(self.session, viewer).may_act_on_task(task, case):
                found.append(username)
        return found

    def _rightly_placed(self, username: str, task: HumanTask, case: CaseRecord | None) -> bool:
        """Independent of access.py: the person holds the lane's role at the task's place or named unit."""
        role = BY_LANE[task.lane or ""].code
        viewer = self.viewer(username)
        if task.process_id == RECEPTION_PROCESS and any(d.lane == task.lane for d in viewer.duty):
            return True
        seats = [seat for seat in viewer.seats if seat.role == role]
        if role in UNIT_ROLES:
            named = getattr(case, UNIT_ROLES[role], None)
            return any(seat.unit_code == named for seat in seats)
        if role == "responsible_leader" and case is not None and case.leader:
            return username == case.leader and bool(seats)
        place = self.session.scalar(select(OrgUnit.path).where(OrgUnit.code == task.scope)) if task.scope else None
        if place is None:
            return any(seat.area_path.count("/") == 2 for seat in seats)
        return any(place.startswith(seat.area_path) for seat in seats)

    def _seat_on_duty(self, task: HumanTask, actor: str | None) -> None:
        """Put the scenario's actor in the reception room's rota of the day, as the rota page would."""
        town_path = self.session.scalar(select(OrgUnit.path).where(OrgUnit.code == task.scope))
        person = self.session.scalar(select(Person).where(Person.username == actor))
        if town_path is None or person is None:
            return
        town = self.session.scalar(select(OrgUnit).where(OrgUnit.path == "/" + "/".join(
            town_path.strip("/").split("/")[:2]) + "/"))
        day = packaged_config().calendar.local_day(self.clock.now())
        entry = self.session.scalar(select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day == day))
        if entry is None:
            cadre = self.session.scalar(select(Person).join(Position, Position.person_id == Person.id).where(
                Position.role == "township_cadre", Position.org_unit_id == town.id).limit(1)) or person
            entry = RotaEntry(day=day, township_id=town.id, secretary_id=person.id, cadre_id=cadre.id)
            self.session.add(entry)
        elif task.lane == RECEPTION_LANES[0]:
            entry.secretary_id = person.id
        self.session.flush()
        self._viewers.clear()


class InspectedEngine(Engine):
    """The engine, with every open task of the case checked before each completion and each move of time."""

    inspector: Inspector

    def complete_task(self, task_id: str, data: Any, actor: str) -> Any:
        row = self.session.get(HumanTask, task_id)
        if row is not None:
            self.inspector.check_case(row.instance_id, task_id, actor)
        return super().complete_task(task_id, data, actor)

    def run_until(self, target: datetime, move_clock: Any) -> Any:
        for case_id in {t.instance_id for t in self.open_tasks()}:
            self.inspector.check_case(case_id)
        return super().run_until(target, move_clock)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.process}:{s.name}")
def test_every_task_reached_has_the_right_people(sessions: Any, scenario: Scenario):
    factory, specs = sessions
    with factory() as session:
        inspectors: list[Inspector] = []

        def make(clock: FixedClock) -> Engine:
            projector = CaseProjector(session, SCENARIO_SECRET, packaged_config().deadlines)
            engine = InspectedEngine(session, clock, specs, helpers=script_helpers(session, secret=SCENARIO_SECRET),
                                     task_scope=task_place, observers=(projector,))
            engine.inspector = Inspector(session, clock)
            engine.inspector.engine = engine
            inspectors.append(engine.inspector)
            return engine

        ignore_case_fields = {"case": lambda _case, _expected: None}  # test_library checks them
        result = run_scenario(scenario, make, session.commit, DEFAULT_START, ignore_case_fields)
        assert result.passed, str(result)
        problems = sorted(set(inspectors[0].problems))
        assert not problems, "\n".join(problems)
