"""Flask sessions kept in the database (`workflows.org.login_sessions`): the cookie carries a random id only.

Nothing in the cookie can be read (no username, CSRF token or flashed query code) and a session ended on the server
is over for every copy of its cookie. Logging in and out start a new id, so an id seen before login (fixation) or
kept after logout opens nothing. The cookie is HttpOnly and SameSite=Lax, and Secure when the operator sets
`DOORSTEP_SECURE_COOKIES` (behind HTTPS).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict
from werkzeug.wrappers import Response

from workflows.org.login_sessions import (
    end_session,
    forget_idle,
    load_session,
    needs_touch,
    new_session_id,
    save_session,
    wall_now,
)

from .extensions import request_session

_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The data of one browser session, loaded from its row; `renew()` gives it a new id when it is next saved."""

    def __init__(self, data: dict[str, Any] | None = None, sid: str | None = None, stale: bool = False):
        def changed(_: Any) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(data or {}, changed)
        self.sid, self.stale, self.renewed = sid, stale, False
        self.modified = False

    def renew(self) -> None:
        """Drop the current id (its row is deleted) and save the data under a fresh one."""
        self.renewed = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    """Load the session row named by the cookie; save it (one short transaction) only when it changed."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if _SESSION_ID.match(sid):
            now = wall_now()
            found = load_session(request_session(), sid, now)
            if found is not None:
                return ServerSession(dict(found.data), sid, stale=needs_touch(found, now))
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.accessed:
            response.vary.add("Cookie")
        if not (session.modified or session.stale):
            return
        # Whatever the view left uncommitted is discarded at the end of the request anyway; discard it first, so
        # that saving the session commits the session row and nothing else.
        db_session = request_session()
        db_session.rollback()
        now, old = wall_now(), session.sid
        if old is not None and (session.renewed or not session):
            end_session(db_session, old)
        if session.renewed:  # a login or logout: a good moment to sweep sessions idle too long
            forget_idle(db_session, now)
        kept = False
        if session:
            sid = new_session_id() if session.renewed or old is None else old
            kept = save_session(db_session, sid, dict(session), now, new=sid != old)
        db_session.commit()
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not kept:
            if old is not None:
                response.delete_cookie(name, domain=domain, path=path, secure=self.get_cookie_secure(app),
                                       httponly=True, samesite=self.get_cookie_samesite(app))
            return
        response.set_cookie(name, sid, domain=domain, path=path, secure=self.get_cookie_secure(app),
                            httponly=self.get_cookie_httponly(app), samesite=self.get_cookie_samesite(app),
                            partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")


def init_app(app: Flask) -> None:
    """Keep this app's sessions in the database."""
    app.session_interface = ServerSessionInterface()
