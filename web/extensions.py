"""Unbound extensions, bound in `create_app`: Flask-SQLAlchemy's per-request session, and the Doorstep services.

Flask-SQLAlchemy owns the app's one SQLAlchemy engine (with the SQLite pragmas of `engine.db`) and gives each
request a session that is removed, rolled back if uncommitted, when the request ends. The services (spec store,
clock, domain helpers) are built on that same engine, so pages and the workflow engine share one connection pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from doorstep.services import Services
from engine import Conflict, Engine

# The tables are declared on `engine.db.Base` (shared with the CLI and the engine) and created by Alembic, so
# Flask-SQLAlchemy is used for its engine and its per-request session, not for a model base of its own.
db = SQLAlchemy(session_options={"expire_on_commit": False})
T = TypeVar("T")


def request_session() -> Session:
    """The request's session: the one `db.session` (a scoped proxy) stands for, typed as the Session it is."""
    return db.session()


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions["doorstep"]
    return found


def workflow_engine() -> Engine:
    """The workflow engine bound to the request's session, with the domain's helpers and projections."""
    if "workflow_engine" not in g:
        g.workflow_engine = services().engine(request_session())
    engine: Engine = g.workflow_engine
    return engine


def once_more_after_conflict(step: Callable[[], T]) -> T:
    """Run a step of the request's transaction; after a Conflict roll back and run it once more on fresh reads.

    A step that lost a race to another transaction then meets what that transaction did: the engine answers
    "already applied" to the same submission and names who acted first otherwise, instead of a bare conflict.
    """
    try:
        return step()
    except Conflict:
        db.session.rollback()
        return step()
