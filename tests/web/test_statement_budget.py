"""One pass per request: the SQL statements of the hot API calls are counted (not timed), so the line holds.

Counted with an SQLAlchemy event listener on the app's engine, through the API with token auth, after one
warm-up call of the same kind (per-process caches — parsed diagrams, forms, the token's viewer — are warm in a
running server).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from web.extensions import db

from .conftest import Api
from .test_api import VISIT


class Statements:
    """Every SQL statement the app's engine sends while counting."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.on = False

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on:
            self.seen.append(statement.split("\n")[0][:160])

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.seen, self.on = [], True
        try:
            yield self.seen
        finally:
            self.on = False


@pytest.fixture
def statements(app) -> Iterator[Statements]:
    counter = Statements()
    with app.app_context():
        sql = db.engine
    event.listen(sql, "before_cursor_execute", counter)
    yield counter
    event.remove(sql, "before_cursor_execute", counter)


def _start(client: Api) -> dict[str, Any]:
    answer = client.post("/api/v1/cases", {"process_id": "reception", "data": VISIT})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_start_takes_at_most_12_statements(api, statements) -> None:
    secretary = api("t01v01.secretary")
    _start(secretary)
    with statements.counting() as seen:
        _start(secretary)
    assert len(seen) <= 12, "\n".join(seen)


def test_a_completion_that_reaches_the_next_user_task_takes_at_most_8_statements(api, statements) -> None:
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    first, second = _start(secretary), _start(secretary)
    tasks = [cadre.get(f"/api/v1/tasks?case={c['id']}").get_json()["items"][0]["id"] for c in (first, second)]
    body = {"data": {"disposition": "coordinate", "note": "当场协调"}}
    assert cadre.post(f"/api/v1/tasks/{tasks[0]}/complete", body).status_code == 200
    with statements.counting() as seen:
        answer = cadre.post(f"/api/v1/tasks/{tasks[1]}/complete", body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["next_tasks"], "the completion reaches the next user task"
    assert len(seen) <= 8, "\n".join(seen)


def test_an_inbox_read_takes_at_most_4_statements(api, statements) -> None:
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    _start(secretary)
    assert cadre.get("/api/v1/tasks").status_code == 200
    with statements.counting() as seen:
        answer = cadre.get("/api/v1/tasks")
    assert answer.status_code == 200 and answer.get_json()["items"]
    assert len(seen) <= 4, "\n".join(seen)
