"""Unbound extensions, bound in `create_app`: Flask-SQLAlchemy's per-request session, and the Doorstep services.

Flask-SQLAlchemy owns the app's one SQLAlchemy engine (with the SQLite pragmas of `engine.db`) and gives each
request a session that is removed, rolled back if uncommitted, when the request ends. The services (spec store,
clock, domain helpers) are built on that same engine, so pages and the workflow engine share one connection pool.
"""

from __future__ import annotations

from flask import current_app, g
from flask_sqlalchemy import SQLAlchemy

from doorstep.services import Services
from engine import Engine

# The tables are declared on `engine.db.Base` (shared with the CLI and the engine) and created by Alembic, so
# Flask-SQLAlchemy is used for its engine and its per-request session, not for a model base of its own.
db = SQLAlchemy(session_options={"expire_on_commit": False})


def services() -> Services:
    """The services of the current app."""
    found: Services = current_app.extensions["doorstep"]
    return found


def workflow_engine() -> Engine:
    """The workflow engine bound to the request's session, with the domain's helpers and projections."""
    if "workflow_engine" not in g:
        g.workflow_engine = services().engine(db.session)
    engine: Engine = g.workflow_engine
    return engine
