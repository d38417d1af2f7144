"""The process names the inbox remembers per database, whatever the session is bound to."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

import engine
from tests.conftest import START
from workflows.views import inbox
from workflows.views.inbox import recent_process_names

LINEAR = Path(__file__).parents[1] / "engine" / "data" / "linear.bpmn"


def test_a_session_on_one_connection_reads_the_names_as_one_on_the_engine(
        db: SqlEngine, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timer worker's session is bound to a Connection (which has no `url`): the names are found all the same,
    and remembered under the same database key as for a session bound to the engine."""
    monkeypatch.setattr(inbox, "_names", {})
    engine.SpecStore().deploy(session, {"linear.bpmn": LINEAR.read_bytes()}, "designer", START)
    session.commit()
    with db.connect() as connection, Session(bind=connection) as on_connection:
        assert recent_process_names(on_connection) == {"linear": "linear"}
    assert list(inbox._names) == [db.url.render_as_string(hide_password=True)]
    assert recent_process_names(session) == {"linear": "linear"}
