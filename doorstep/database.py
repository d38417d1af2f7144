"""Open the configured database and bring its schema to the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from engine.db import open_database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def connect(url: str) -> SqlEngine:
    """An SQLAlchemy engine for the URL, creating the SQLite file's folder when needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return open_database(url)


def session_factory(db: SqlEngine) -> sessionmaker:
    """Sessions that keep loaded rows usable after commit."""
    return sessionmaker(bind=db, expire_on_commit=False)


def alembic_config(db: SqlEngine) -> Config:
    """An Alembic configuration bound to an open database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db
    return config


def upgrade(db: SqlEngine) -> None:
    """Create or upgrade every table through the Alembic migrations."""
    command.upgrade(alembic_config(db), "head")
