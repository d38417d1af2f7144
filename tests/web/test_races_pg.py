"""Simultaneous requests on PostgreSQL, as gunicorn's workers send them: exactly one wins, the others get 409.

Each racer is a thread with its own client, released together by a barrier; the app serves them at the same
moment on its own connections. Whether the requests really overlap or not, the answer must be the same: one
success, conflicts that say who was first, never a 500, and the winner's change recorded once.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from doorstep.services import Services
from engine.models import Event, HumanTask
from web import create_app
from web.extensions import db
from workflows.cases.record import CaseRecord
from workflows.intake.petitioner_query import Rating
from workflows.org.accounts import issue_api_token

from ..conftest import postgres_url, reset_postgres
from .conftest import Browser, Desk, set_up_deployment, settings_for
from .test_api import Api

pytestmark = pytest.mark.postgres
RACERS = 6
WAIT = 60  # seconds a racer waits for the others at the barrier (never reached when the test works)


@pytest.fixture(scope="module")
def pg_services() -> Iterator[Services]:
    """One deployment on PostgreSQL for the module (setting it up costs seconds); each test makes its own cases."""
    url = postgres_url()
    reset_postgres(url)
    services = Services.from_settings(dataclasses.replace(settings_for(Path("unused.db")), database_url=url))
    set_up_deployment(services)
    yield services
    services.db.dispose()


@pytest.fixture
def pg_app(pg_services: Services) -> Iterator[Flask]:
    app = create_app(pg_services.settings, {"TESTING": True}, services=pg_services)
    yield app
    with app.app_context():
        db.engine.dispose()  # the app's own pool: close its connections now, not when they are collected


@pytest.fixture
def pg_desk(pg_services: Services) -> Desk:
    return Desk(pg_services)


def race(requests: list[Callable[[], Any]]) -> list[Any]:
    """Send the requests at the same moment, one thread each; their responses in the same order."""
    barrier = threading.Barrier(len(requests))

    def send(request: Callable[[], Any]) -> Any:
        barrier.wait(WAIT)
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def api_as(app: Flask, services: Services, username: str) -> Api:
    with services.unit_of_work() as session:
        return Api(app, issue_api_token(session, username))


def count(services: Services, query: Any) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(query))


def test_simultaneous_api_completions_one_wins_the_others_409_naming_who(pg_app, pg_services, pg_desk):
    case_id = pg_desk.handed_over()
    task_id = pg_desk.task(case_id, "assign_unit").id
    leader = api_as(pg_app, pg_services, "t01.leader.social")  # one token per account: clients share it
    clients = [Api(pg_app, leader.headers["Authorization"].removeprefix("Bearer ")) for _ in range(RACERS)]
    responses = race([lambda c=c, day=day: c.post(f"/api/v1/tasks/{task_id}/complete", {"data": {
        "handling_unit": "county-hrss", "deadline": f"2026-03-{20 + day}"}}) for day, c in enumerate(clients)])

    assert sorted(r.status_code for r in responses) == [200] + [409] * (RACERS - 1)
    for lost in (r for r in responses if r.status_code == 409):
        assert "该任务已由 王芳（t01.leader.social）" in lost.get_json()["error"]["message"]
    assert count(pg_services, select(func.count()).select_from(Event).where(
        Event.instance_id == case_id, Event.type == "task_completed", Event.task_ref.like("%assign_unit%"))) == 1
    assert pg_desk.open_elements(case_id) == ["handle_case"]


def test_simultaneous_page_submissions_never_fail_and_complete_once(pg_app, pg_services, pg_desk):
    case_id = pg_desk.handed_over()
    task_id = pg_desk.task(case_id, "assign_unit").id
    browsers = [Browser(pg_app, "t01.leader.social") for _ in range(RACERS)]
    responses = race([lambda b=b, day=day: b.post(f"/tasks/{task_id}", {
        "handling_unit": "county-hrss", "deadline": f"2026-03-{20 + day}"}) for day, b in enumerate(browsers)])

    assert [r.status_code for r in responses] == [302] * RACERS  # to the inbox (the winner) or the case page
    assert sum(r.headers["Location"] == "/tasks" for r in responses) == 1
    assert count(pg_services, select(func.count()).select_from(Event).where(
        Event.instance_id == case_id, Event.type == "task_completed", Event.task_ref.like("%assign_unit%"))) == 1


def grid_issue(desk: Desk) -> str:
    """A grid worker's issue waiting for the village cadres of t01v01 (two people may take it)."""
    case_id = desk.start("grid_visit", {}, "t01v01g01.worker")
    desk.complete(case_id, "record_issue", {
        "township": "t01", "village": "t01v01", "grid": "t01v01g01", "household": "杨秀兰", "source": "home_visit",
        "category": "infrastructure", "claim": "路灯损坏", "complexity": "general"}, "t01v01g01.worker")
    return desk.task(case_id, "resolve_on_spot").id


def test_two_simultaneous_claimers_one_gets_the_task_the_other_409(pg_app, pg_services, pg_desk):
    for _ in range(3):  # a few rounds: the two requests meet in a different order each time
        task_id = grid_issue(pg_desk)
        claimers = {name: api_as(pg_app, pg_services, name) for name in ("t01v01.secretary", "t01v01.cadre")}
        url = f"/api/v1/tasks/{task_id}/claim"
        responses = dict(zip(claimers, race([lambda c=c, u=url: c.post(u) for c in claimers.values()]), strict=True))

        assert sorted(r.status_code for r in responses.values()) == [200, 409]
        (winner,) = [name for name, r in responses.items() if r.status_code == 200]
        (loser,) = [r.get_json()["error"]["message"] for r in responses.values() if r.status_code == 409]
        assert f"（{winner}）" in loser and "认领" in loser
        with pg_services.unit_of_work() as session:
            assert session.get(HumanTask, task_id).claimed_by == winner
            assert session.scalar(select(func.count()).select_from(Event).where(
                Event.type == "task_claimed", Event.task_ref == session.get(HumanTask, task_id).ref,
                Event.instance_id == session.get(HumanTask, task_id).instance_id)) == 1


def test_simultaneous_ratings_one_is_recorded_the_others_409(pg_app, pg_services, pg_desk):
    case_id = pg_desk.visit()
    pg_desk.complete(case_id, "hear_claim", {"disposition": "answer"}, "t01.cadre")
    pg_desk.complete(case_id, "record_answer", {"answer": "复核结果本月公示", "outcome": "explain"},
                     "t01v01.secretary")
    with pg_services.unit_of_work() as session:
        code = session.get(CaseRecord, case_id).query_code
    petitioners = [Browser(pg_app) for _ in range(RACERS)]
    choices = ["satisfied", "very_satisfied", "basic", "dissatisfied", "satisfied", "very_dissatisfied"]
    responses = race([lambda b=b, s=s: b.post("/query/rate", {"code": code, "satisfaction": s})
                      for b, s in zip(petitioners, choices, strict=True)])

    assert sorted(r.status_code for r in responses) == [200] + [409] * (RACERS - 1)
    assert all("已经评价过" in r.text for r in responses if r.status_code == 409)
    with pg_services.unit_of_work() as session:
        (rating,) = session.scalars(select(Rating).where(Rating.instance_id == case_id)).all()
        assert session.get(CaseRecord, case_id).satisfaction == rating.satisfaction
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.instance_id == case_id, Event.type == "satisfaction_rated")) == 1


def test_simultaneous_api_ratings_with_one_key_record_once_and_all_get_its_answer(pg_app, pg_services, pg_desk):
    """A call-centre client retrying a return-call rating (the same Idempotency-Key) while the first is still
    running: one rating, and every retry gets the first answer rather than a 409."""
    case_id = pg_desk.petition()
    pg_desk.complete(case_id, "village_resolve", {"resolved": True, "resolution_note": "已协调", "outcome": "support",
                                                  "reply": "已拆除猪圈"}, "t01v01.cadre")
    bureau = api_as(pg_app, pg_services, "bureau1")  # one token per account: clients share it
    clients = [Api(pg_app, bureau.headers["Authorization"].removeprefix("Bearer ")) for _ in range(RACERS)]
    responses = race([lambda c=c: c.post(f"/api/v1/cases/{case_id}/rating", {"satisfaction": "satisfied"},
                                         headers={"Idempotency-Key": "return-call-1"}) for c in clients])

    assert [r.status_code for r in responses] == [201] * RACERS, [r.get_json() for r in responses]
    assert all(r.get_json() == responses[0].get_json() for r in responses)
    assert responses[0].get_json()["rating_source"] == "recorded"
    assert count(pg_services, select(func.count()).select_from(Rating).where(Rating.instance_id == case_id)) == 1
    assert count(pg_services, select(func.count()).select_from(Event).where(
        Event.instance_id == case_id, Event.type == "task_completed", Event.task_ref.like("%rate%"))) == 1
