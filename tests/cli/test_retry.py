"""Workers survive what passes: lost connections, deadlocks, conflicts — retried with backoff, one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from doorstep.cli import main
from doorstep.retry import Backoff, is_passing, retrying
from doorstep.services import Services
from engine import Conflict, InvalidTaskData
from engine.db import open_database
from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]


def lost_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))


def failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "fired"

    return calls, step


def test_a_passing_failure_is_retried_with_doubling_waits_and_one_line_each():
    calls, step = failing(3, lost_connection())
    waits: list[float] = []
    lines: list[str] = []
    assert retrying(step, "firing due timers", lines.append, Backoff(first=0.5, longest=1.5, sleep=waits.append)) \
        == "fired"
    assert (len(calls), waits) == (4, [0.5, 1.0, 1.5])
    assert len(lines) == 3
    assert lines[0] == ("firing due timers failed (Exception: terminating connection due to administrator command); "
                        "retrying in 0.5 s (attempt 2)")


def test_conflicts_deadlocks_and_duplicate_sequence_numbers_pass_a_bad_input_does_not():
    duplicate = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: event.instance_id, event.seq"))
    deadlock = OperationalError("UPDATE", {}, Exception("deadlock detected"))
    assert all(is_passing(e) for e in (Conflict("changed"), duplicate, deadlock, lost_connection()))
    calls, step = failing(1, InvalidTaskData("not a JSON object"))
    with pytest.raises(InvalidTaskData):
        retrying(step, "firing", lambda _line: None, Backoff(sleep=lambda _s: None))
    assert len(calls) == 1


def test_a_bounded_retry_gives_up_with_the_last_error():
    calls, step = failing(5, lost_connection())
    lines: list[str] = []
    with pytest.raises(OperationalError):
        retrying(step, "moving the clock", lines.append, Backoff(attempts=3, sleep=lambda _s: None))
    assert (len(calls), len(lines)) == (3, 2)


def test_the_worker_command_survives_a_lost_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'worker.db'}")
    monkeypatch.setenv("DOORSTEP_BPMN_DIR", str(ROOT / "bpmn"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"], catch_exceptions=False).exit_code == 0
    rounds: list[int] = []
    real = Services.fire_due_timers

    def down_once(self: Services, *args: Any) -> list:
        rounds.append(1)
        if len(rounds) == 1:
            raise lost_connection()
        return real(self, *args)

    monkeypatch.setattr(Services, "fire_due_timers", down_once)
    monkeypatch.setattr("doorstep.retry.time.sleep", lambda _seconds: None)
    result = runner.invoke(main, ["worker", "--once"], catch_exceptions=False)
    assert result.exit_code == 0 and len(rounds) == 2
    assert "firing due timers failed (Exception: terminating connection due to administrator command); " \
           "retrying in 0.5 s" in result.stderr


@pytest.mark.postgres
def test_a_pooled_connection_the_server_terminated_is_replaced_before_use():
    url = postgres_url()
    db, admin = open_database(url), open_database(url, poolclass=NullPool)
    try:
        with db.connect() as connection:
            first = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as connection:  # as an operator's pg_terminate_backend or a server restart would
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with db.connect() as connection:  # the pooled connection is dead: pre-ping replaces it, no error
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        db.dispose()
        admin.dispose()
