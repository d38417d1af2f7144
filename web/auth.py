"""Log in and out with a username and password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workflows.org.accounts import log_in_checked
from workflows.org.throttle import TooManyAttempts

from .extensions import db, services
from .security import current_viewer, log_in, log_out, safe_next

bp = Blueprint("auth", __name__)


@bp.get("/login")
def login() -> str | Response:
    """The login form (people already logged in go on to their tasks)."""
    if current_viewer() is not None:
        return redirect(safe_next(request.args.get("next"), url_for("tasks.inbox")))
    return render_template("login.html", username="", error=None, next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Check the password; on success start a fresh session."""
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    session = db.session
    try:
        person = log_in_checked(session, username, password, request.remote_addr or "unknown",
                                services().now(session))
    except TooManyAttempts as refused:
        session.rollback()
        page = render_template("login.html", username=username, error=str(refused), next=target)
        return page, 429, {"Retry-After": str(refused.retry_after)}
    if person is None:
        session.commit()  # the failed attempt is kept
        return render_template("login.html", username=username, error="用户名或密码不正确", next=target), 401
    log_in(person.username)
    flash(f"欢迎，{person.display_name}", "success")
    return redirect(safe_next(target.rstrip("?"), url_for("tasks.inbox")))


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    log_out()
    flash("您已安全退出", "success")
    return redirect(url_for("auth.login"))
