"""Fixtures of the command tests: `run` the `doorstep` command against a brand-new database (SQLite, and
PostgreSQL when DOORSTEP_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from doorstep.cli import main
from tests.conftest import postgres_url, reset_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def run(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `doorstep ...` against a brand-new database; return the click result."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", url)
    monkeypatch.setenv("DOORSTEP_BPMN_DIR", str(ROOT / "bpmn"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, result.output + result.stderr
    return result.output
