"""Fixtures of the web tests: an app on a fresh SQLite database per test, with the diagrams of bpmn/ deployed,
the org of tests/web/data/org.yaml, a rota, an account for everyone, and a simulated clock at 2026-03-02 09:00
(a Monday, Xupu time).

The database is built once per run (migrations, deployment, org, rota, password hashes) and copied for each test,
so every test starts from the same fresh file without paying for the setup again.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from doorstep.config import PROJECT_DIR, Settings
from doorstep.database import upgrade
from doorstep.services import Services
from engine import SimulatedClock, read_bundle
from engine.models import HumanTask
from web import create_app
from workflows.cases.calendar import load_work_calendar
from workflows.org.accounts import Account, issue_api_token
from workflows.org.importer import import_org_file
from workflows.org.models import Person
from workflows.org.rota import generate_rota

DATA = Path(__file__).parent / "data"
LOCAL = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL)  # a Monday
PASSWORD = "correct-horse-42"
VISIT = {"p-0-petitioner_name": "王桂英", "p-0-id_number": "431224196802150021", "p-0-phone": "13807451234",
         "headcount": "1", "village": "t01v01", "category": "social_security", "claim": "低保资格复核进度"}


def settings_for(path: Path) -> Settings:
    """Settings of a test deployment on the SQLite file `path`."""
    return Settings(database_url=f"sqlite:///{path}", bpmn_dir=PROJECT_DIR / "bpmn", secret_key="web-test-secret",
                    host="127.0.0.1", port=5000)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with schema, diagrams, org, rota and accounts, built once and copied per test."""
    path = tmp_path_factory.mktemp("web-template") / "doorstep.db"
    services = Services.from_settings(settings_for(path))
    set_up_deployment(services)
    services.db.dispose()  # checkpoints the WAL into the file
    return path


def set_up_deployment(services: Services) -> None:
    """Migrate an empty database, then install the clock, diagrams, org, rota and an account for everyone."""
    upgrade(services.db)
    with services.unit_of_work() as session:
        SimulatedClock.install(session, START)
        services.specs.deploy(session, read_bundle([PROJECT_DIR / "bpmn"]), "test", START.astimezone(UTC),
                              services.lanes())
        import_org_file(session, DATA / "org.yaml")
        generate_rota(session, load_work_calendar(), START.date(), START.date() + timedelta(days=13))
        password_hash = generate_password_hash(PASSWORD)  # hashed once: scrypt is slow on purpose
        for person in session.scalars(select(Person)):
            session.add(Account(person=person, password_hash=password_hash, created_at=START))


@pytest.fixture
def services(template_db: Path, tmp_path: Path) -> Iterator[Services]:
    """The services of a fresh copy of the template database."""
    path = tmp_path / "doorstep.db"
    shutil.copyfile(template_db, path)
    svc = Services.from_settings(settings_for(path))
    yield svc
    svc.db.dispose()


@pytest.fixture
def app(services: Services) -> Flask:
    """The web app on the test's database."""
    return create_app(services.settings, {"TESTING": True}, services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser without a login."""
    return app.test_client()


class Browser:
    """A test client that logs in as someone and sends each form with the session's CSRF token."""

    def __init__(self, app: Flask, username: str | None = None):
        self.client = app.test_client()
        if username is not None:
            self.login_as(username)

    def login_as(self, username: str) -> Browser:
        """Be logged in as `username` (without the password round trip; tests of login do that)."""
        with self.client.session_transaction() as session:
            session.clear()
            session["user"] = username
            session["csrf"] = f"token-of-{username}"
        return self

    @property
    def token(self) -> str:
        with self.client.session_transaction() as session:
            if "csrf" not in session:
                session["csrf"] = "anonymous-token"
            return str(session["csrf"])

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token)
        return self.client.post(url, data=form, **kwargs)


@pytest.fixture
def browser(app: Flask) -> Any:
    """Make a browser logged in as the given username: `browser("t01.cadre")`."""
    return lambda username=None: Browser(app, username)


class Api:
    """A JSON client that sends one person's API token."""

    def __init__(self, app: Any, token: str | None):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, json=body, headers={**self.headers, **(headers or {})}, **kwargs)


@pytest.fixture
def api(app, services):
    """Make a JSON client for a person: `api("t01.cadre")` (a token is issued for them first)."""

    def for_person(username: str | None = None) -> Api:
        if username is None:
            return Api(app, None)
        with services.unit_of_work() as session:
            token = issue_api_token(session, username)
        return Api(app, token)

    return for_person


@dataclass
class Desk:
    """Shortcuts that drive cases through the engine as the people of the test org would."""

    services: Services

    def run(self, step: Any) -> Any:
        """Run `step(session, engine)` in one committed transaction."""
        with self.services.unit_of_work() as session:
            return step(session, self.services.engine(session))

    def start(self, process_id: str, data: dict[str, Any], actor: str) -> int:
        """Start a case; return its id."""
        return int(self.run(lambda s, e: e.start(process_id, data, actor).instance.id))

    def task(self, case_id: int, element: str) -> HumanTask:
        """The open task of a case at an element."""
        def find(session: Any, engine: Any) -> HumanTask:
            tasks = [t for t in engine.open_tasks(case_id) if t.element_id == element]
            assert tasks, f"case {case_id} has no open {element}: {[t.element_id for t in engine.open_tasks(case_id)]}"
            return tasks[0]
        return self.run(find)  # type: ignore[no-any-return]

    def complete(self, case_id: int, element: str, data: dict[str, Any], actor: str) -> None:
        """Complete the open task of a case at an element."""
        task_id = self.task(case_id, element).id
        self.run(lambda s, e: e.complete_task(task_id, data, actor))

    def open_elements(self, case_id: int) -> list[str]:
        """The elements of the case's open tasks."""
        return [t.element_id for t in self.run(lambda s, e: e.open_tasks(case_id))]

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock on, firing each timer at its own due time."""
        def move(session: Any, engine: Any) -> None:
            clock = SimulatedClock(session)
            engine.run_until(clock.now() + delta, clock.set)
        self.run(move)

    def visit(self, actor: str = "t01v01.secretary", **changes: Any) -> int:
        """A reception case registered at 青溪镇 (t01) by the duty secretary, waiting for 接谈研判."""
        data = {"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234",
                "headcount": 1, "township": "t01", "village": "t01v01", "category": "social_security",
                "claim": "低保资格复核进度", **changes}
        case_id = self.start("reception", {"township": data["township"], "village": data["village"]}, actor)
        self.complete(case_id, "register_visit", data, actor)
        return case_id

    def handed_over(self, fire: bool = True, **changes: Any) -> int:
        """A visit handed over; with `fire`, the end of the workday has come and the leader's 交办 is open."""
        case_id = self.visit(**changes)
        cadre = "t02.cadre" if changes.get("township") == "t02" else "t01.cadre"
        self.complete(case_id, "hear_claim", {"disposition": "hand_over", "note": "登记移交"}, cadre)
        if fire:
            self.run_timer(case_id)
        return case_id

    def run_timer(self, case_id: int) -> None:
        """Move the clock just past the case's next timer (e.g. the end of the workday), firing it."""
        def move(session: Any, engine: Any) -> None:
            clock = SimulatedClock(session)
            due = engine.instance(case_id).next_timer_at
            assert due is not None, f"case {case_id} waits for no timer"
            engine.run_until(max(due + timedelta(minutes=1), clock.now()), clock.set)
        self.run(move)

    def petition(self, actor: str = "bureau1", **changes: Any) -> int:
        """A petition registered and accepted by the county bureau (village tier unless changed)."""
        data = {"channel": "letter", "category": "dispute", "petitioner_name": "张秋菊",
                "id_number": "431224196504110529", "phone": "13873025571", "headcount": 1, "township": "t01",
                "village": "t01v01", "claim": "邻居搭建猪圈堵塞排水沟", "confidentiality_requested": False,
                **changes}
        tier = data.pop("tier", "village")
        case_id = self.start("petition", {}, actor)
        self.complete(case_id, "register", data, actor)
        self.complete(case_id, "decide_registration", {"decision": "accept", "notice": "已受理", "tier": tier}, actor)
        return case_id


@pytest.fixture
def desk(services: Services) -> Desk:
    """Drive cases through the engine directly (for the state a page test starts from)."""
    return Desk(services)
