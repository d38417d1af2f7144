"""`/healthz`: answers without a login, says only whether the database answers."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from web.extensions import db


def test_health_check_needs_no_login_and_names_nothing_personal(client) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_health_check_says_503_when_the_database_does_not_answer(client, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with client.application.app_context():
        monkeypatch.setattr(type(db.session()), "execute", broken)
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "database unavailable"}
