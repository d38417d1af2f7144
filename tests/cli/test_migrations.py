"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from doorstep.database import connect, upgrade
from doorstep.schema import load_all_models
from engine.db import Base
from tests.conftest import postgres_url, reset_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    url = postgres_url()
    reset_postgres(url)
    return url


def test_upgrade_from_nothing_matches_the_models_and_can_run_twice(empty_url: str) -> None:
    load_all_models()
    db = connect(empty_url)
    try:
        upgrade(db)
        upgrade(db)
        with db.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
        assert {"instance", "event", "human_task", "case_record", "org_unit"} <= set(inspect(db).get_table_names())
    finally:
        db.dispose()
