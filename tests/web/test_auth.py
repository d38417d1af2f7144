"""Logging in and out, hashed passwords, CSRF on every form, login_required, demo and API accounts."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from workflows.org.accounts import (
    DEMO_PASSWORD,
    Account,
    AccountError,
    authenticate,
    authenticate_token,
    ensure_demo_accounts,
    issue_api_token,
    rota_usernames,
    set_password,
)
from workflows.org.models import OrgUnit, Person, Position

from .conftest import PASSWORD, START
from .pages import text_of


def _login_form_token(client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_login_with_the_right_password_starts_a_session(client):
    token = _login_form_token(client)
    response = client.post("/login", data={"username": "t01.cadre", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    inbox = client.get("/tasks")
    assert inbox.status_code == 200
    assert "周明" in inbox.text and "欢迎，周明" in inbox.text


def test_login_with_a_wrong_password_or_name_is_refused_and_keeps_the_name(client):
    token = _login_form_token(client)
    for username in ("t01.cadre", "nobody"):
        response = client.post("/login", data={"username": username, "password": "wrong-password",
                                               "csrf_token": token})
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text
        assert f'value="{username}"' in response.text
    assert client.get("/tasks").status_code == 302


def test_ten_failed_logins_from_one_address_slow_it_down_for_a_while(client, desk):
    token = _login_form_token(client)
    for guess in range(10):
        wrong = client.post("/login", data={"username": f"nobody{guess}", "password": "guess", "csrf_token": token})
        assert wrong.status_code == 401
    locked = client.post("/login", data={"username": "t01.cadre", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and "登录失败次数过多，请30秒后再试" in locked.text
    assert locked.headers["Retry-After"] == "30"
    other = client.application.test_client()
    right = {"username": "t01.cadre", "password": PASSWORD, "csrf_token": _login_form_token(other)}
    elsewhere = other.post("/login", data=right, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 302
    desk.advance(timedelta(seconds=30))
    assert client.post("/login", data={"username": "t01.cadre", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_api_tokens_are_slowed_down_too(client):
    for _ in range(5):
        assert client.post("/api/v1/tokens", json={"username": "t01.cadre", "password": "guess"}).status_code == 401
    locked = client.post("/api/v1/tokens", json={"username": "t01.cadre", "password": PASSWORD})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_json()["error"]["message"]
    assert locked.headers["Retry-After"] == "30"


def test_passwords_are_stored_hashed(services):
    with services.unit_of_work() as session:
        account = set_password(session, "t01.cadre", "another-secret-9", START)
        assert "another-secret-9" not in account.password_hash
        assert account.password_hash.startswith("scrypt:")
        assert authenticate(session, "t01.cadre", "another-secret-9").username == "t01.cadre"
        assert authenticate(session, "t01.cadre", PASSWORD) is None
        try:
            set_password(session, "t01.cadre", "short", START)
        except AccountError as error:
            assert "8" in str(error)
        else:
            raise AssertionError("a short password was accepted")


def test_login_is_required_and_brings_you_back(client):
    response = client.get("/cases/1?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    token = _login_form_token(client)
    back = client.post("/login", data={"username": "bureau1", "password": PASSWORD, "csrf_token": token,
                                       "next": "/cases?q=XP"})
    assert back.headers["Location"] == "/cases?q=XP"


def test_login_never_redirects_to_another_site(client):
    token = _login_form_token(client)
    response = client.post("/login", data={"username": "bureau1", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/steal"})
    assert response.headers["Location"] == "/tasks"


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused(browser, desk):
    clerk = browser("t01v01.secretary")
    before = desk.run(lambda s, e: len(e.open_tasks()))
    from .conftest import VISIT

    missing = clerk.post("/reception", VISIT, csrf=False)
    assert missing.status_code == 400
    assert "CSRF" in missing.text
    forged = clerk.post("/reception", {**VISIT, "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    assert desk.run(lambda s, e: len(e.open_tasks())) == before  # nothing was registered
    assert clerk.post("/reception", VISIT).status_code == 302


def test_login_itself_needs_the_csrf_token(client):
    response = client.post("/login", data={"username": "t01.cadre", "password": PASSWORD})
    assert response.status_code == 400


def test_logout_ends_the_session_and_needs_a_post_with_the_token(browser):
    cadre = browser("t01.cadre")
    assert cadre.get("/logout").status_code == 405
    assert cadre.post("/logout", csrf=False).status_code == 400
    assert cadre.get("/tasks").status_code == 200
    response = cadre.post("/logout")
    assert response.status_code == 302
    assert cadre.get("/tasks").status_code == 302


def test_every_page_has_the_csrf_token_in_its_forms(browser, desk):
    case_id = desk.visit()
    cadre = browser("t01.cadre")
    for url in ("/tasks", "/reception", f"/cases/{case_id}"):
        page = cadre.get(url)
        forms = page.text.count('method="post"')
        assert forms > 0
        assert page.text.count('name="csrf_token"') == forms, url


def test_demo_accounts_give_one_person_per_role(services):
    with services.unit_of_work() as session:
        accounts = ensure_demo_accounts(session, date(2026, 3, 2), START)
    roles = {a.role: a for a in accounts}
    assert roles["duty_secretary"].username == "t01v01.secretary"
    assert roles["township_cadre"].username == "t01.cadre"
    assert roles["responsible_leader"].username == "t01.leader.social"
    assert roles["handling_unit"].username == "hrss.handler"
    assert {"county_bureau", "case_leader", "auditor", "designer", "grid_worker", "village_cadre"} <= set(roles)
    assert len({a.username for a in accounts}) == len(accounts)
    with services.unit_of_work() as session:
        for account in (roles["duty_secretary"], roles["county_bureau"]):
            assert authenticate(session, account.username, DEMO_PASSWORD) is not None, account.username


def test_demo_accounts_take_the_head_of_the_demo_handling_unit_and_the_village_mediation_room(services):
    """The printed head can approve the demo case's extension; the mediators are the demo village's own."""
    with services.unit_of_work() as session:
        units = {unit.code: unit for unit in session.scalars(select(OrgUnit))}
        for username, role, unit in (("civil.head", "agency_head", "county-civil-affairs"),
                                     ("t01.mediator", "mediation_panel", "t01"),
                                     ("t01v01.mediator", "mediation_panel", "t01v01"),
                                     ("t01v01.lawyer", "legal_adviser", "t01v01")):
            session.add(Person(username=username, display_name=username,
                               positions=[Position(role=role, org_unit_id=units[unit].id, domain="")]))
    with services.unit_of_work() as session:
        roles = {a.role: a for a in ensure_demo_accounts(session, date(2026, 3, 2), START)}
    assert roles["agency_head"].username == "hrss.head"  # the unit of hrss.handler, not the first head found
    assert roles["mediation_panel"].username == "t01v01.mediator"
    assert roles["legal_adviser"].username == "t01v01.lawyer"


def test_everyone_on_the_rota_can_log_in_with_the_demo_password(services):
    with services.unit_of_work() as session:
        ensure_demo_accounts(session, date(2026, 3, 2), START)
        on_rota = rota_usernames(session)
        assert {"t01v01.secretary", "t01v02.secretary", "t02v01.secretary", "t01.cadre", "t02.cadre"} <= set(on_rota)
        for username in on_rota:  # the secretaries of later days too
            assert authenticate(session, username, DEMO_PASSWORD) is not None, username


def test_demo_accounts_on_a_weekend_take_the_next_duty_day(services):
    with services.unit_of_work() as session:
        accounts = ensure_demo_accounts(session, date(2026, 3, 7), START)  # a Saturday
    secretary = next(a for a in accounts if a.role == "duty_secretary")
    assert "2026-03-09" in secretary.note


def test_api_tokens_are_stored_as_digests(services):
    with services.unit_of_work() as session:
        token = issue_api_token(session, "bureau1")
        stored = session.scalar(select(Account.api_token_hash).join(Person).where(Person.username == "bureau1"))
        assert stored != token and len(stored) == 64
        assert authenticate_token(session, token).username == "bureau1"
        assert authenticate_token(session, token + "x") is None
        assert authenticate_token(session, "") is None


def test_the_home_page_sends_people_where_they_belong(client, browser):
    assert client.get("/").headers["Location"] == "/login"
    assert browser("t01.cadre").get("/").headers["Location"] == "/tasks"
    assert "工作人员登录" in text_of(client.get("/login"))


def test_every_post_route_refuses_a_missing_token(browser, desk, app):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    cadre = browser("t01.cadre")
    posts = [rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())]
    urls = {rule.replace("<task_id>", task_id).replace("<int:case_id>", str(case_id)) for rule in posts}
    assert len(urls) >= 9
    # The JSON API ignores the session cookie (401 without an API token; a token is had only for JSON credentials).
    refusals = {"/api/v1/tokens": 422}
    for url in sorted(urls):
        expected = refusals.get(url, 401) if url.startswith("/api/") else 400
        assert cadre.post(url, {"disposition": "answer", "code": "X"}, csrf=False).status_code == expected, url
    assert desk.open_elements(case_id) == ["hear_claim"]
