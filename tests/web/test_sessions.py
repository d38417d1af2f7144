"""Server-side sessions: the cookie is a random id with nothing readable in it, and it opens nothing once the
session has ended (logout, password change); HttpOnly, SameSite=Lax, and Secure when the operator asks."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import update

from doorstep.cli import main
from web import create_app
from workflows.org.accounts import authenticate, set_password
from workflows.org.login_sessions import IDLE_LIMIT, LoginSession, live_session_count, wall_now

from .conftest import PASSWORD, START, VISIT


def _logged_in(app, username: str = "t01v01.secretary"):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client, answer


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def test_the_cookie_holds_only_a_random_id_nothing_readable(app, services):
    client, answer = _logged_in(app)
    cookie = _cookie(client, app)
    registered = client.post("/reception", data={**VISIT, "csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/reception").text).group(1)})
    assert registered.status_code == 302
    after_flash = _cookie(client, app)
    assert after_flash == cookie  # the flashed query code went to the server, not into the cookie
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    decoded = base64.urlsafe_b64decode(cookie + "=")
    for secret in (b"t01v01.secretary", b"csrf", b"user", b"_flashes"):
        assert secret not in decoded and secret.decode() not in cookie
    page = client.get("/reception")
    assert "查询码" in page.text  # the flash was kept server-side and shown once


def test_the_cookie_is_httponly_samesite_lax_and_secure_only_when_asked(app, services):
    _, answer = _logged_in(app)
    header = answer.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    secure_app = create_app(replace(services.settings, secure_cookies=True), {"TESTING": True}, services=services)
    _, secure = _logged_in(secure_app)
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_cookie_opens_nothing_after_logout_wherever_a_copy_of_it_is(app):
    client, _ = _logged_in(app)
    copy = _with_cookie(app, _cookie(client, app))
    assert copy.get("/tasks").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/tasks").text).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/tasks").status_code == 302  # sent to the login page
    assert client.get("/tasks").status_code == 302


def test_a_password_change_ends_every_session_of_the_account(app, services):
    first, _ = _logged_in(app)
    second, _ = _logged_in(app)
    bystander, _ = _logged_in(app, "t01.cadre")
    with services.unit_of_work() as session:
        assert live_session_count(session, "t01v01.secretary") == 2
        set_password(session, "t01v01.secretary", "a-new-secret-77", START)
    assert first.get("/tasks").status_code == 302 and second.get("/tasks").status_code == 302
    assert bystander.get("/tasks").status_code == 200
    with services.unit_of_work() as session:
        assert live_session_count(session, "t01v01.secretary") == 0


def test_login_gives_a_new_session_id_so_a_planted_one_is_useless(app):
    client = app.test_client()
    client.get("/login")
    planted = _cookie(client, app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "t01.cadre", "password": PASSWORD, "csrf_token": token})
    assert _cookie(client, app) != planted
    assert _with_cookie(app, planted).get("/tasks").status_code == 302


def test_a_forged_or_garbage_cookie_is_just_no_session(app):
    for value in ("x", "A" * 43, "../../etc", "é" * 30):
        assert _with_cookie(app, value).get("/tasks").status_code == 302


def _token_of(client, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, services):
    here, _ = _logged_in(app, "t01.cadre")
    elsewhere, _ = _logged_in(app, "t01.cadre")
    old_cookie = _cookie(here, app)
    form = {"current": PASSWORD, "new": "brand-new-secret-8", "confirm": "brand-new-secret-8",
            "csrf_token": _token_of(here, "/account/password")}
    changed = here.post("/account/password", data=form)
    assert changed.status_code == 302 and changed.headers["Location"] == "/tasks"
    assert "密码已修改" in here.get("/tasks").text
    assert _cookie(here, app) != old_cookie and _with_cookie(app, old_cookie).get("/tasks").status_code == 302
    assert elsewhere.get("/tasks").status_code == 302
    with services.unit_of_work() as session:
        assert live_session_count(session, "t01.cadre") == 1


def test_a_wrong_current_password_or_a_weak_new_one_is_refused_on_the_field(app):
    client, _ = _logged_in(app, "t01.cadre")
    token = _token_of(client, "/account/password")
    cases = {("wrong-password", "brand-new-secret-8", "brand-new-secret-8"): "当前密码不正确",
             (PASSWORD, "short", "short"): "新密码至少8个字符",
             (PASSWORD, "brand-new-secret-8", "brand-new-secret-9"): "两次输入的新密码不一致"}
    for (current, new, confirm), message in cases.items():
        answer = client.post("/account/password", data={"current": current, "new": new, "confirm": confirm,
                                                        "csrf_token": token})
        assert answer.status_code == 422 and message in answer.text
    assert client.get("/tasks").status_code == 200  # still logged in, password unchanged
    assert _logged_in(app, "t01.cadre")[1].status_code == 302


def test_a_request_still_running_when_its_session_ends_does_not_bring_it_back(app, services):
    client, _ = _logged_in(app, "t01.cadre")
    cookie = _cookie(client, app)
    interface = app.session_interface
    with app.test_request_context("/tasks", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        from flask import request

        running = interface.open_session(app, request)
        assert running["user"] == "t01.cadre"
        with services.unit_of_work() as session:  # logged out (or the password changed) meanwhile
            set_password(session, "t01.cadre", "changed-meanwhile-1", START)
        running["_flashes"] = [("info", "written after the end")]
        response = app.response_class()
        interface.save_session(app, running, response)
        assert "Expires=Thu, 01 Jan 1970" in response.headers["Set-Cookie"]  # the cookie is dropped
    with services.unit_of_work() as session:
        assert live_session_count(session, "t01.cadre") == 0
    assert _with_cookie(app, cookie).get("/tasks").status_code == 302


def test_a_session_idle_too_long_is_over_and_swept_at_the_next_login(app, services):
    client, _ = _logged_in(app, "t01.cadre")
    with services.unit_of_work() as session:
        session.execute(update(LoginSession).values(last_seen=wall_now() - IDLE_LIMIT - timedelta(minutes=1)))
    assert client.get("/tasks").status_code == 302
    _logged_in(app, "bureau1")
    with services.unit_of_work() as session:
        assert live_session_count(session, "t01.cadre") == 0 and live_session_count(session, "bureau1") == 1


def test_an_operator_resets_a_password_from_the_command_line_and_its_sessions_end(app, services):
    client, _ = _logged_in(app, "t01.cadre")
    runner = CliRunner(env={"DOORSTEP_DATABASE_URL": services.settings.database_url})
    short = runner.invoke(main, ["account", "password", "t01.cadre", "--password", "short"])
    assert short.exit_code == 1 and "8" in short.output
    assert client.get("/tasks").status_code == 200
    done = runner.invoke(main, ["account", "password", "t01.cadre", "--password", "reset-by-operator-1"])
    assert done.exit_code == 0 and "must log in again" in done.output
    assert client.get("/tasks").status_code == 302
    with services.unit_of_work() as session:
        assert authenticate(session, "t01.cadre", "reset-by-operator-1") is not None
