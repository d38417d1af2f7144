"""Fixtures of the domain tests. The database and `session` come from tests/conftest.py: a fresh SQLite file per
test, and PostgreSQL too when DOORSTEP_TEST_DATABASE_URL is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

import workflows.org.models  # noqa: F401 - registers the domain tables on the shared metadata
from engine import Engine, FixedClock, SpecStore
from workflows.cases.access import task_place
from workflows.cases.calendar import WorkCalendar, load_work_calendar
from workflows.cases.record import CaseProjector
from workflows.cases.routing import RoutingRules, load_routing_rules
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org.importer import import_org_file

DATA = Path(__file__).parent / "data"


@pytest.fixture
def small_org(session: Session) -> Session:
    """The session, with tests/workflows/data/small_org.yaml imported and committed."""
    import_org_file(session, DATA / "small_org.yaml")
    session.commit()
    return session


@pytest.fixture
def calendar() -> WorkCalendar:
    """The working calendar shipped in workflows/data/calendar.yaml."""
    return load_work_calendar()


@pytest.fixture
def rules() -> RoutingRules:
    """The routing rules shipped in workflows/data/."""
    return load_routing_rules()


def case_engine(session: Session, clock: FixedClock, specs: SpecStore) -> Engine:
    """An engine with the domain's script helpers, task places and case projection (as the app wires it)."""
    return Engine(session, clock, specs, helpers=script_helpers(session, secret="s"), task_scope=task_place,
                  observers=(CaseProjector(session, "s", packaged_config().deadlines),))


def complete_open(engine: Engine, case_id: int, element: str, data: dict[str, Any], actor: str) -> None:
    """Complete the case's one open task at `element`."""
    [task] = [t for t in engine.open_tasks(case_id) if t.element_id == element]
    engine.complete_task(task.id, data, actor)
