"""Operators' accounts seen from the browser and the API: an initial password leads only to changing it and gets no
API token; a disabled account is logged out at once, cannot log in and its token stops; enabled, it works again."""

from __future__ import annotations

import csv
import re
import stat
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, select

from doorstep.cli import main
from web import create_app
from workflows.org.accounts import Account
from workflows.org.models import Person

from .conftest import PASSWORD

T02 = ["t02.cadre", "t02v01.secretary"]  # the people of 云岭乡 in tests/web/data/org.yaml


def _cli(services, *args: str):
    runner = CliRunner(env={"DOORSTEP_DATABASE_URL": services.settings.database_url})
    return runner.invoke(main, list(args))


def _csrf(client, url: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def _log_in(app, username: str, password: str):
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(client)})
    return client, answer


def _token(app, username: str, password: str):
    return app.test_client().post("/api/v1/tokens", json={"username": username, "password": password})


def _initial_logins(services, tmp_path: Path) -> dict[str, str]:
    """Take 云岭乡's accounts away, give them back with `account create`; the usernames and initial passwords."""
    with services.unit_of_work() as session:
        ids = select(Person.id).where(Person.username.in_(T02))
        session.execute(delete(Account).where(Account.person_id.in_(ids)))
    out = tmp_path / "t02.csv"
    done = _cli(services, "account", "create", "--township", "云岭乡", "--out", str(out), "--jobs", "1",
                "--as", "admin1")
    assert done.exit_code == 0, done.output
    with out.open(encoding="utf-8") as sheet:
        rows = list(csv.DictReader(sheet))
    assert "2 accounts created" in done.stdout
    for row in rows:
        assert row["initial_password"] not in done.output  # the passwords are in the file only
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [(r["username"], r["units"]) for r in rows] == [("t02.cadre", "云岭乡"), ("t02v01.secretary", "栗垄村")]
    again = _cli(services, "account", "create", "--township", "t02", "--out", str(out))
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    other = _cli(services, "account", "create", "--township", "t02", "--out", str(tmp_path / "again.csv"))
    assert other.exit_code == 0 and "everyone has an account" in other.output
    return {row["username"]: row["initial_password"] for row in rows}


def test_an_initial_password_leads_only_to_changing_it_and_gets_no_token_until_then(app, services, tmp_path):
    password = _initial_logins(services, tmp_path)["t02.cadre"]
    client, answer = _log_in(app, "t02.cadre", password)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password")
    for page in ("/tasks", "/cases", "/reception", "/"):
        sent = client.get(page)
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/account/password"), page
    assert client.get("/account/password").status_code == 200
    refused = _token(app, "t02.cadre", password)
    assert refused.status_code == 403 and "修改初始密码" in refused.get_json()["error"]["message"]
    listed = _cli(services, "account", "list", "--township", "t02")
    assert "t02.cadre\t黄丽\t有账号\t须改密码" in listed.output
    changed = client.post("/account/password", data={"current": password, "new": "my-own-secret-5",
                                                     "confirm": "my-own-secret-5",
                                                     "csrf_token": _csrf(client, "/account/password")})
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/tasks")
    assert client.get("/tasks").status_code == 200
    assert _token(app, "t02.cadre", "my-own-secret-5").status_code == 201
    assert "t02.cadre\t黄丽\t有账号\n" in _cli(services, "account", "list", "--township", "t02").output


def test_logout_still_works_while_the_password_is_unchanged(app, services, tmp_path):
    password = _initial_logins(services, tmp_path)["t02v01.secretary"]
    client, _ = _log_in(app, "t02v01.secretary", password)
    out = client.post("/logout", data={"csrf_token": _csrf(client, "/account/password")})
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    assert client.get("/tasks").headers["Location"].startswith("/login")


def test_an_operator_reset_must_be_changed_too(app, services):
    done = _cli(services, "account", "password", "t01.cadre", "--password", "given-by-admin")
    assert done.exit_code == 0
    client, answer = _log_in(app, "t01.cadre", "given-by-admin")
    assert answer.headers["Location"].endswith("/account/password")
    assert _token(app, "t01.cadre", "given-by-admin").status_code == 403


def test_a_disabled_account_is_logged_out_at_once_its_token_stops_and_it_cannot_log_in_until_enabled(app, services):
    client, _ = _log_in(app, "t01.cadre", PASSWORD)
    assert client.get("/tasks").status_code == 200
    token = _token(app, "t01.cadre", PASSWORD).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/tasks", headers=headers).status_code == 200
    missing = _cli(services, "account", "disable", "t01.cadre")
    assert missing.exit_code == 2 and "--reason" in missing.output
    done = _cli(services, "account", "disable", "t01.cadre", "--reason", "调离", "--as", "admin1")
    assert done.exit_code == 0 and "1 sessions ended" in done.output
    assert client.get("/tasks").headers["Location"].startswith("/login")
    # The CLI is another process: a worker that remembers the token serves it for TTL seconds more, one that does not
    # (or does no longer) refuses it.
    other_worker = create_app(services.settings, {"TESTING": True}, services=services).test_client()
    assert other_worker.get("/api/v1/tasks", headers=headers).status_code == 401
    _, wrong = _log_in(app, "t01.cadre", "not-the-password")
    assert wrong.status_code == 401 and "已停用" not in wrong.text  # nothing told to who lacks the password
    _, refused = _log_in(app, "t01.cadre", PASSWORD)
    assert refused.status_code == 403 and "此账号已停用" in refused.text
    assert _token(app, "t01.cadre", PASSWORD).status_code == 403
    assert "t01.cadre\t周明\t有账号\t\t已停用" in _cli(services, "account", "list", "--disabled").output
    assert _cli(services, "account", "enable", "t01.cadre", "--as", "admin1").exit_code == 0
    again, answer = _log_in(app, "t01.cadre", PASSWORD)
    assert answer.status_code == 302 and again.get("/tasks").status_code == 200
    assert _token(app, "t01.cadre", PASSWORD).status_code == 201
    assert _cli(services, "account", "list", "--disabled").output.strip() == "nobody"


def test_create_needs_exactly_one_scope_and_names_unknown_ones(services, tmp_path):
    out = str(tmp_path / "x.csv")
    both = _cli(services, "account", "create", "--all", "--township", "t01", "--out", out)
    assert both.exit_code == 1 and "exactly one of --township, --unit or --all" in both.output
    unknown = _cli(services, "account", "create", "--unit", "nowhere", "--out", out)
    assert unknown.exit_code == 1 and "nowhere" in unknown.output
    assert not Path(out).exists()
    assert _cli(services, "account", "disable", "nobody", "--reason", "x").exit_code == 1
