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


def _open_task(client: Api, case: dict[str, Any]) -> str:
    [task] = client.get(f"/api/v1/tasks?case={case['id']}").get_json()["items"]
    return str(task["id"])


@pytest.mark.parametrize("disposition", ["answer", "coordinate"])
def test_a_completion_that_reaches_the_next_user_task_takes_at_most_8_statements(api, statements,
                                                                                 disposition) -> None:
    """接谈研判 → gateway (a script on the answer path) → the next user task, as the HTTP benchmark drives it."""
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    tasks = [_open_task(cadre, _start(secretary)) for _ in range(2)]
    body = {"data": {"disposition": disposition, "note": "当场处理"}}
    assert cadre.post(f"/api/v1/tasks/{tasks[0]}/complete", body).status_code == 200
    with statements.counting() as seen:
        answer = cadre.post(f"/api/v1/tasks/{tasks[1]}/complete", body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["next_tasks"], "the completion reaches the next user task"
    assert len(seen) <= 8, "\n".join(seen)


def test_the_benchmark_calls_after_a_start_stay_within_their_budgets(api, statements) -> None:
    """The rest of the HTTP benchmark's case: find the task (≤ 4), read the next one (≤ 4), end the case (≤ 8)."""
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    hear = {"data": {"disposition": "answer", "note": "当场答复"}}
    answer = {"data": {"answer": "按政策答复", "outcome": "explain"}}
    for _round in ("warm-up", "counted"):
        case = _start(secretary)
        with statements.counting() as listed:
            task = _open_task(cadre, case)
        [record] = cadre.post(f"/api/v1/tasks/{task}/complete", hear).get_json()["next_tasks"]
        with statements.counting() as read:
            assert secretary.get(record["links"]["self"]).status_code == 200
        with statements.counting() as ended:
            done = secretary.post(record["links"]["complete"], answer)
        assert done.status_code == 200 and done.get_json()["case_status"] == "completed", done.get_json()
    assert len(listed) <= 4, "\n".join(listed)
    assert len(read) <= 4, "\n".join(read)
    assert len(ended) <= 8, "\n".join(ended)


def test_an_inbox_read_takes_at_most_4_statements_however_many_tasks(api, statements) -> None:
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    for _ in range(3):
        _start(secretary)
    assert cadre.get("/api/v1/tasks").status_code == 200
    with statements.counting() as seen:
        answer = cadre.get("/api/v1/tasks")
    assert answer.status_code == 200 and len(answer.get_json()["items"]) == 3
    assert len(seen) <= 4, "\n".join(seen)


def test_the_inbox_page_takes_at_most_4_statements_however_many_tasks(api, browser, statements) -> None:
    secretary = api("t01v01.secretary")
    for _ in range(3):
        _start(secretary)
    cadre = browser("t01.cadre")
    assert cadre.get("/tasks").status_code == 200
    with statements.counting() as seen:
        page = cadre.get("/tasks")
    assert page.status_code == 200 and page.get_data(as_text=True).count("接谈研判") >= 3
    assert len(seen) <= 4, "\n".join(seen)


def test_a_stand_in_bodys_inbox_asks_about_accusations_only(api, desk, statements) -> None:
    """The county bureau stands in for a lane nobody may act in (workflows.cases.stand_in): its inbox asks whether
    anybody is left only for the tasks of accusations (at most 5 statements each), never for ordinary cases."""
    bureau = api("bureau1")
    for _ in range(3):
        desk.petition()  # 村级就地化解 at 桃园社区: another lane, nobody stepped aside
    counted = []
    for accusations in (0, 2):
        for _ in range(accusations):
            desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
        assert bureau.get("/api/v1/tasks").status_code == 200
        with statements.counting() as seen:
            answer = bureau.get("/api/v1/tasks")
        assert answer.status_code == 200 and answer.get_json()["items"] == []  # the discipline body's, not its own
        counted.append(seen)
    assert len(counted[0]) <= 4, "\n".join(counted[0])
    assert len(counted[1]) - len(counted[0]) <= 2 * 5, "\n".join(counted[1])


def test_the_rota_month_page_reads_the_month_in_one_statement(browser, statements) -> None:
    cadre = browser("t01.cadre")
    assert cadre.get("/rota").status_code == 200  # warm-up: the viewer is remembered, as in a running server
    with statements.counting() as seen:
        assert cadre.get("/rota").status_code == 200
    assert sum(s.startswith("SELECT rota_entry.") for s in seen) == 1, seen
    assert len(seen) <= 6, seen  # session, clock, townships, the month, secretaries with villages, cadres
