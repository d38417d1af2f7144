"""Fixtures shared by every test: a fresh database per test (SQLite always, PostgreSQL when asked), the engine."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

import engine
import engine.models  # noqa: F401 - registers the engine tables on the metadata
from engine.db import Base, open_database

POSTGRES_ENV = "DOORSTEP_TEST_DATABASE_URL"
POSTGRES_SKIP = (f"PostgreSQL tests need {POSTGRES_ENV} "
                 "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Asia/Shanghai


@pytest.fixture(autouse=True, scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Keep what commands write to the instance folder (the generated secret key) out of the checkout."""
    folder = str(tmp_path_factory.mktemp("instance"))
    before = os.environ.get("DOORSTEP_INSTANCE_DIR")
    os.environ["DOORSTEP_INSTANCE_DIR"] = folder
    yield folder
    if before is None:
        os.environ.pop("DOORSTEP_INSTANCE_DIR", None)
    else:
        os.environ["DOORSTEP_INSTANCE_DIR"] = before


def postgres_url() -> str:
    """The PostgreSQL URL the tests may use, or skip the test with the reason."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(POSTGRES_SKIP)
    return url


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema (what a previous test or run left, in whatever shape)."""
    db = open_database(url)
    try:
        with db.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> str:
    """The PostgreSQL URL, its public schema rebuilt once per run (a previous run may have left old tables)."""
    url = postgres_url()
    reset_postgres(url)
    return url


RESTART_SEQUENCES = """DO $$ DECLARE s record; BEGIN
  FOR s IN SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequence_name);
  END LOOP;
END $$"""


def empty_postgres(url: str) -> None:
    """Create any missing table, empty them all and restart ids at 1, as in a fresh database.

    Deleting rows is several times faster than TRUNCATE or rebuilding the schema for tables this small.
    """
    db = open_database(url)
    try:
        with db.begin() as connection:
            Base.metadata.create_all(connection)
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
            connection.execute(text(RESTART_SEQUENCES))
    finally:
        db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL to an empty database: an SQLite file always, PostgreSQL when DOORSTEP_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'doorstep.db'}"
    url: str = request.getfixturevalue("postgres_schema")
    empty_postgres(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[SqlEngine]:
    """An SQLAlchemy engine on a database holding every engine table."""
    sql_engine = open_database(database_url)
    Base.metadata.create_all(sql_engine)
    yield sql_engine
    sql_engine.dispose()


@pytest.fixture
def make_session(db: SqlEngine) -> sessionmaker[Session]:
    """The session factory (objects stay usable after commit)."""
    return sessionmaker(db, expire_on_commit=False)


@pytest.fixture
def session(make_session: sessionmaker[Session]) -> Iterator[Session]:
    """One session for the test, closed afterwards."""
    with make_session() as s:
        yield s


@pytest.fixture
def clock() -> engine.FixedClock:
    """A clock that stands still at START until a test moves it."""
    return engine.FixedClock(START)


@pytest.fixture
def specs() -> engine.SpecStore:
    """An empty spec cache."""
    return engine.SpecStore()


@pytest.fixture
def engine_(session: Session, clock: engine.FixedClock, specs: engine.SpecStore) -> Callable[..., engine.Engine]:
    """Build an Engine on the test's session, clock and spec store (other collaborators may be given)."""

    def build(session: Session = session, clock: engine.Clock = clock, specs: engine.SpecStore = specs,
              helpers: dict[str, Callable] | None = None) -> engine.Engine:
        return engine.Engine(session, clock, specs, helpers=helpers)

    return build
