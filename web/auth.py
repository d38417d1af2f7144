"""Log in and out with a username and password, and change one's own password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workflows.org.accounts import MIN_PASSWORD_LENGTH, AccountDisabled, log_in_checked, set_password
from workflows.org.throttle import TooManyAttempts

from .extensions import request_session, services
from .security import current_viewer, log_in, log_out, login_required, safe_next

bp = Blueprint("auth", __name__)
MAX_PASSWORD_LENGTH = 200


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
    session = request_session()
    try:
        account = log_in_checked(session, username, password, request.remote_addr or "unknown",
                                 services().now(session))
    except TooManyAttempts as refused:
        session.rollback()
        page = render_template("login.html", username=username, error=str(refused), next=target)
        return page, 429, {"Retry-After": str(refused.retry_after)}
    except AccountDisabled as disabled:  # the right password: its owner may know why they cannot come in
        session.rollback()
        return render_template("login.html", username=username, error=str(disabled), next=target), 403
    if account is None:
        session.commit()  # the failed attempt is kept
        return render_template("login.html", username=username, error="用户名或密码不正确", next=target), 401
    person = account.person
    log_in(person.username, account.must_change_password)
    if account.must_change_password:
        flash(f"欢迎，{person.display_name}。这是管理员发给您的初始密码：请先设置您自己的新密码", "info")
        return redirect(url_for("auth.password_form"))
    flash(f"欢迎，{person.display_name}", "success")
    return redirect(safe_next(target.rstrip("?"), url_for("tasks.inbox")))


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    log_out()
    flash("您已安全退出", "success")
    return redirect(url_for("auth.login"))


@bp.get("/account/password")
@login_required
def password_form() -> str:
    """The form to change one's own password."""
    return render_template("password.html", errors={}, minimum=MIN_PASSWORD_LENGTH)


@bp.post("/account/password")
@login_required
def change_password() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Check the current password, set the new one and end every session of the account (this one starts afresh)."""
    viewer = current_viewer()
    assert viewer is not None  # login_required
    current, new = request.form.get("current", ""), request.form.get("new", "")
    errors: dict[str, str] = {}
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["new"] = f"新密码至少{MIN_PASSWORD_LENGTH}个字符"
    elif len(new) > MAX_PASSWORD_LENGTH:
        errors["new"] = f"新密码最多{MAX_PASSWORD_LENGTH}个字符"
    elif new != request.form.get("confirm", ""):
        errors["confirm"] = "两次输入的新密码不一致"
    elif new == current:
        errors["new"] = "新密码不能与当前密码相同"
    session = request_session()
    now = services().now(session)
    try:
        account = log_in_checked(session, viewer.username, current, request.remote_addr or "unknown", now)
    except TooManyAttempts as refused:
        session.rollback()
        page = render_template("password.html", errors={"current": str(refused)}, minimum=MIN_PASSWORD_LENGTH)
        return page, 429, {"Retry-After": str(refused.retry_after)}
    if account is None:
        errors = {"current": "当前密码不正确"}
    if errors:
        session.commit()  # a wrong current password is kept as a failed attempt
        return render_template("password.html", errors=errors, minimum=MIN_PASSWORD_LENGTH), 422
    set_password(session, viewer.username, new, now)  # ends every session of the account, this one's row too
    session.commit()
    log_in(viewer.username)  # without the mark of an operator's password: every page opens again
    flash("密码已修改；此前在其他浏览器或设备上的登录均已退出", "success")
    return redirect(url_for("tasks.inbox"))
