"""Failed logins and query codes slow down each address, account and code: a growing delay, never a lock-out —
the right password or code works once the wait is over, whatever addresses the wrong guesses came from."""

from __future__ import annotations

import re
from datetime import timedelta

from workflows.cases.record import CaseRecord
from workflows.org.throttle import FIRST_DELAY, MAX_DELAY, delay_after

from .conftest import PASSWORD


def _login(app, username: str, password: str, address: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_the_delays_double_from_thirty_seconds_to_fifteen_minutes():
    assert [delay_after(n, 5).total_seconds() for n in range(4, 12)] == [0, 30, 60, 120, 240, 480, 900, 900]
    assert delay_after(10_000, 5) == MAX_DELAY and FIRST_DELAY == timedelta(seconds=30)


def test_guesses_at_one_account_from_thirty_addresses_are_slowed_down_per_account(app, desk):
    answers = [_login(app, "t01.cadre", f"guess-{n}", f"10.0.{n}.1").status_code for n in range(30)]
    assert answers == [401] * 5 + [429] * 25  # 5 tries checked, then the account waits: 25 refused unchecked
    refused = _login(app, "t01.cadre", PASSWORD, "10.9.9.9")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert "登录失败次数过多，请30秒后再试" in refused.text
    assert _login(app, "t02.cadre", PASSWORD, "10.0.1.1").status_code == 302  # other accounts are not affected
    desk.advance(timedelta(seconds=30))
    assert _login(app, "t01.cadre", PASSWORD, "10.9.9.9").status_code == 302  # after the wait the right one works


def test_each_further_failure_doubles_the_wait_and_a_success_forgets_them(app, desk):
    for n in range(5):
        assert _login(app, "t01.cadre", "wrong", f"10.1.0.{n}").status_code == 401
    waits = []
    for _ in range(3):
        refused = _login(app, "t01.cadre", "wrong", "10.1.1.1")
        waits.append(int(refused.headers["Retry-After"]))
        desk.advance(timedelta(seconds=waits[-1]))
        assert _login(app, "t01.cadre", "wrong", "10.1.1.1").status_code == 401
    assert waits == [30, 60, 120]
    assert _login(app, "t01.cadre", PASSWORD, "10.1.1.2").status_code == 429
    desk.advance(timedelta(seconds=240))
    assert _login(app, "t01.cadre", PASSWORD, "10.1.1.2").status_code == 302
    assert _login(app, "t01.cadre", "wrong", "10.1.1.3").status_code == 401  # forgotten: a free try again


def test_one_query_code_tried_from_many_addresses_is_slowed_down_per_code(browser, desk, services):
    case_id = desk.visit()
    with services.unit_of_work() as session:
        code = session.get(CaseRecord, case_id).query_code
    wrong = "Z" * 12
    public = browser()
    answers = [public.client.post("/query", data={"code": wrong, "csrf_token": public.token},
                                  environ_base={"REMOTE_ADDR": f"10.2.{n}.1"}).status_code for n in range(8)]
    assert answers == [404] * 5 + [429] * 3
    right = public.client.post("/query", data={"code": code, "csrf_token": public.token},
                               environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert right.status_code == 200  # another code from an address with failures to spare works
    desk.advance(timedelta(seconds=30))
    assert public.client.post("/query", data={"code": wrong, "csrf_token": public.token},
                              environ_base={"REMOTE_ADDR": "10.2.9.1"}).status_code == 404
