"""The start page: what is deployed, what is open, what time it is."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from engine.models import HumanTask, Instance, ProcessVersion

from .extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    """Show deployed processes with case counts, and the open tasks."""
    services = current_app.extensions["doorstep"]
    session = db.session
    versions = session.execute(
        select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.version, ProcessVersion.deployed_at,
               func.count(Instance.id))
        .outerjoin(Instance, Instance.process_version_id == ProcessVersion.id)
        .group_by(ProcessVersion.id).order_by(ProcessVersion.process_id, ProcessVersion.version)).all()
    tasks = session.scalars(select(HumanTask).where(HumanTask.status == "open")
                            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at).limit(50)).all()
    return render_template("index.html", versions=versions, tasks=tasks, now=services.clock(session).now())
