"""Run the process library's scenarios against its diagrams and report flow coverage."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine import Engine, FixedClock, SpecStore, read_bundle
from engine.db import Base, open_database
from engine.scenarios import (
    Flow,
    ScenarioFailed,
    ScenarioResult,
    load_scenarios,
    matches,
    run_scenario,
    sequence_flows,
    untaken_flows,
)
from workflows.cases.access import task_place
from workflows.cases.record import CaseProjector, CaseRecord
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org import models as org_models  # noqa: F401 - registers the org tables
from workflows.org.importer import import_org_file
from workflows.org.roles import BY_LANE

DEFAULT_START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Xupu
SCENARIO_SECRET = "scenarios"
ORG_FILE = "org.yaml"  # the org the scenarios run against, beside them


@dataclass
class LibraryReport:
    """Every scenario's result and the flows none of them took."""

    results: list[ScenarioResult] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    untaken: list[Flow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results) and not self.untaken


def check_library(bpmn_dir: Path, scenario_dir: Path | None = None, only: str | None = None,
                  overrides: dict[str, bytes] | None = None) -> LibraryReport:
    """Deploy the diagrams into a scratch database with the scenario org and run every scenario there.

    `overrides` are files (name → content, as `read_bundle` names them) used instead of, or beside, those in
    `bpmn_dir`: e.g. a draft being edited. Raises ValidationFailed when the diagrams cannot be deployed.
    """
    scenario_dir = scenario_dir or bpmn_dir / "scenarios"
    files = {**read_bundle([bpmn_dir]), **(overrides or {})}
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'scenarios.db'}")
        try:
            return _check(db, files, scenario_dir, only)
        finally:
            db.dispose()


def _check(db: Any, files: dict[str, bytes], scenario_dir: Path, only: str | None) -> LibraryReport:
    Base.metadata.create_all(db)
    sessions = sessionmaker(bind=db, expire_on_commit=False)
    specs = SpecStore()
    with sessions() as session:
        import_org_file(session, scenario_dir / ORG_FILE)
        specs.deploy(session, files, "scenarios", DEFAULT_START, set(BY_LANE))
        session.commit()
    report = LibraryReport(flows=sequence_flows(files))
    taken: set[str] = set()
    for scenario in load_scenarios(scenario_dir, skip=(ORG_FILE,)):
        if only and scenario.process != only:
            continue
        with sessions() as session:
            result = run_scenario(scenario, _engine_factory(session, specs), session.commit, DEFAULT_START,
                                  {"case": _case_check(session)})
        report.results.append(result)
        taken.update(result.flows)
    report.untaken = untaken_flows([f for f in report.flows if not only or f.process == only], taken)
    return report


def _engine_factory(session: Session, specs: SpecStore) -> Any:
    def make(clock: FixedClock) -> Engine:
        projector = CaseProjector(session, SCENARIO_SECRET, packaged_config().deadlines)
        return Engine(session, clock, specs, helpers=script_helpers(session, secret=SCENARIO_SECRET),
                      task_scope=task_place, observers=(projector,))

    return make


def _case_check(session: Session) -> Any:
    def check(case_id: int, expected: Any) -> None:
        record = session.get(CaseRecord, case_id)
        if record is None:
            raise ScenarioFailed(f"case {case_id} has no case record")
        for key, value in (expected or {}).items():
            found = getattr(record, key, None) if hasattr(CaseRecord, key) else None
            if not hasattr(CaseRecord, key):
                raise ScenarioFailed(f"the case record has no field '{key}'")
            if not matches(found, value):  # a mapping (deadlines) only needs the keys the scenario names
                raise ScenarioFailed(f"case field {key} is {found!r}, expected {value!r}")

    return check
