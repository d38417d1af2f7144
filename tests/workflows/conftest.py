"""Fixtures of the domain tests. The database and `session` come from tests/conftest.py: a fresh SQLite file per
test, and PostgreSQL too when DOORSTEP_TEST_DATABASE_URL is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import workflows.org.models  # noqa: F401 - registers the domain tables on the shared metadata
from workflows.cases.calendar import WorkCalendar, load_work_calendar
from workflows.cases.routing import RoutingRules, load_routing_rules
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
