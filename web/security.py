"""Who is asking: the logged-in person (Flask session), the CSRF token of every form, `login_required`.

CSRF: each browser session gets a random token, put in every form as `csrf_token` (or sent by scripts in the
`X-CSRF-Token` header); every state-changing request must bring it back, compared in constant time. Blueprints
authenticated by API token instead of the session cookie are listed in `CSRF_EXEMPT_BLUEPRINTS`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from workflows.cases.access import Access, Viewer, load_viewer
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import AccessDenied

from .extensions import db, request_session, services
from .viewer_cache import SESSION, ViewerCache

F = TypeVar("F", bound=Callable[..., Any])
LOCAL = ZoneInfo("Asia/Shanghai")
CSRF_KEY = "csrf"
USER_KEY = "user"
MUST_CHANGE_KEY = "must_change_password"
# What a session whose password an operator set may still open: the form to change it, logging in and out, files.
WHILE_PASSWORD_UNCHANGED = frozenset({"auth.password_form", "auth.change_password", "auth.login", "auth.login_post",
                                      "auth.logout", "static"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VIEWERS = "doorstep.viewers"


def init_app(app: Flask) -> None:
    """Check the CSRF token before every state-changing request and offer `csrf_token()` to templates."""
    app.config.setdefault("CSRF_EXEMPT_BLUEPRINTS", set())
    app.extensions[VIEWERS] = ViewerCache()
    app.before_request(_check_csrf)
    app.before_request(_send_to_password_change)
    app.jinja_env.globals["csrf_token"] = csrf_token


def remembered_viewers() -> ViewerCache:
    """This worker's short-lived memory of who a session's person or an API token stands for (`viewer_cache`)."""
    found: ViewerCache = current_app.extensions[VIEWERS]
    return found


def csrf_token() -> str:
    """The CSRF token of this browser session (created on first use)."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.blueprint in current_app.config["CSRF_EXEMPT_BLUEPRINTS"]:
        return
    if request.routing_exception is not None:
        return  # no view will run: the 404 or 405 is the honest answer
    expected = session.get(CSRF_KEY)
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(400, description="页面已过期或表单来源不明（CSRF 校验失败）：请刷新页面后重新提交。")


def _send_to_password_change() -> Response | None:
    """A session logged in with an operator's password leads only to the form to change it (the mark lives in the
    server-side session row every request loads anyway, so this costs no statement). The API authenticates by token
    and refuses to issue one to such an account."""
    if not session.get(MUST_CHANGE_KEY) or request.endpoint in WHILE_PASSWORD_UNCHANGED:
        return None
    if request.blueprint in current_app.config["CSRF_EXEMPT_BLUEPRINTS"]:
        return None
    return redirect(url_for("auth.password_form"))


def log_in(username: str, must_change_password: bool = False) -> None:
    """Start a fresh session for `username` under a new id, with a new CSRF token (neither can be replayed); a
    session that `must_change_password` opens only the password form until the change (which logs in afresh)."""
    session.clear()
    session[USER_KEY] = username
    if must_change_password:
        session[MUST_CHANGE_KEY] = True
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    _renew()


def log_out() -> None:
    """End the session on the server: its cookie opens nothing any more, wherever a copy of it is."""
    session.clear()
    _renew()


def _renew() -> None:
    """Give the session a new id (the server-side store deletes the old one's row)."""
    renew = getattr(session, "renew", None)
    if callable(renew):
        renew()


def current_viewer() -> Viewer | None:
    """The logged-in person with positions and today's duty, or None."""
    if "viewer" not in g:
        username = session.get(USER_KEY)
        viewer = None
        if isinstance(username, str):
            db_session = request_session()
            today = services().now(db_session).astimezone(LOCAL).date()
            viewer = remembered_viewers().get(SESSION, username, today)
            if viewer is None:
                viewer = load_viewer(db_session, username, today)
                if viewer is not None:
                    remembered_viewers().put(SESSION, username, today, viewer)
        g.viewer = viewer
    return cast(Viewer | None, g.viewer)


def current_access() -> Access:
    """The access rules for the logged-in person (login_required views only)."""
    if "access" not in g:
        viewer = current_viewer()
        if viewer is None:
            abort(401)
        g.access = Access(request_session(), viewer)
    return cast(Access, g.access)


def visible_case(case_id: int, refusal: str = "此案件不属于您的职责范围") -> CaseRecord:
    """The case with this id if the caller may see it: 404 when there is none, AccessDenied (403, `refusal`) when
    the access rules keep it from the caller."""
    case = db.session.get(CaseRecord, case_id)
    if case is None:
        abort(404)
    if not current_access().may_see_case(case):
        raise AccessDenied(refusal)
    return case


def login_required(view: F) -> F:
    """Send people who are not logged in to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_viewer() is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def safe_next(target: str | None, default: str) -> str:
    """A redirect target from a form or query: only paths of this site, never another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect_next(default: str) -> Response:
    """Redirect to the form's `next` path when it is safe, else to `default`."""
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), default))
