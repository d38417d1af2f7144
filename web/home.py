"""The start page: a person's inbox when logged in, the login page otherwise."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

from .security import current_viewer

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    """Send people to their tasks, or to log in first."""
    return redirect(url_for("tasks.inbox") if current_viewer() is not None else url_for("auth.login"))
