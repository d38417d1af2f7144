"""`/healthz`: is this web worker up and can it reach the database? No login, no personal data."""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger("doorstep.health")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 `{"status": "ok"}` when the database answers; 503 `{"status": "database unavailable"}` otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
