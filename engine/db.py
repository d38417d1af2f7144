"""The declarative base shared by every table of Doorstep, and the helpers to open a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and give them back aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Doorstep stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every mapped table; one metadata for engine and domain tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def open_database(url: str, **kwargs: Any) -> Engine:
    """Create an SQLAlchemy engine; SQLite files get foreign keys, WAL and a busy timeout."""
    db = create_engine(url, **{**engine_options(url), **kwargs})
    configure_connections(db)
    return db


def engine_options(url: str) -> dict[str, Any]:
    """Options of every engine Doorstep opens (web, commands, workers).

    A pooled connection to a database server is tested before use (`pool_pre_ping`): one the server closed
    meanwhile (a restart, a terminated backend) is replaced instead of failing the request. An SQLite file has no
    server to lose the connection (no test, which would cost every request a statement); it waits for a busy file.
    """
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def configure_connections(db: Engine) -> None:
    """Give every new SQLite connection foreign keys, WAL and relaxed syncing (PostgreSQL needs nothing)."""
    if db.dialect.name == "sqlite":
        event.listen(db, "connect", _configure_sqlite)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
