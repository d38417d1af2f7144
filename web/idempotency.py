"""`Idempotency-Key` on the API's steps: a client that lost an answer sends the same request with the same key
and gets the first answer again — not a second case, not a 409.

The answer is stored with the step, in its transaction (`doorstep.replies`), for the reply lifetime (setting
`reply_lifetime`, 24 h); a key is the caller's own (two people may use the same key). The same key with a
different request is refused with 422. Only successful answers are stored: a refused request changed nothing and
may be sent again as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from doorstep.replies import MAX_KEY_LENGTH, StoredReply, find_reply, fingerprint, store_reply
from engine import Conflict, TaskNotReady

from .errors import error_response
from .extensions import db, request_session, services

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
F = TypeVar("F", bound=Callable[..., Any])
Answer = tuple[dict[str, Any], int, dict[str, str]]


def idempotent(view: F) -> F:
    """Answer a repeated key with the stored answer; otherwise run the view (which ends in `commit_answer`)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        pending = _pending_key()
        if pending is None:
            return view(*args, **kwargs)
        stored = _find(pending[0])
        if stored is not None:
            return _replay(stored, pending[1])
        try:
            return view(*args, **kwargs)
        except (HTTPException, Conflict, TaskNotReady) as refused:
            if isinstance(refused, HTTPException) and _status(refused) != 409:
                raise
            # The same request may have just won the race in another worker: answer as it did.
            db.session.rollback()
            stored = _find(pending[0])
            if stored is None:
                raise
            return _replay(stored, pending[1])

    return cast(F, wrapped)


def commit_answer(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Answer:
    """Commit the step together with its answer (kept for the request's idempotency key, if it has one)."""
    headers = headers or {}
    pending = g.get("idempotency")
    session = request_session()
    if pending is not None:
        store_reply(session, g.viewer.username, pending[0], pending[1], status, body, headers,
                    services().now(session))
    try:
        session.commit()
    except IntegrityError:
        if pending is None:
            raise
        session.rollback()  # the same key was answered meanwhile by a concurrent retry: give its answer
        stored = _find(pending[0])
        if stored is None:
            raise
        abort(_replay(stored, pending[1]))
    return body, status, headers


def _status(error: HTTPException) -> int | None:
    """The status an HTTP exception answers with (`abort(response)` carries it on its response, not as `code`)."""
    return error.response.status_code if error.response is not None else error.code


def _find(key: str) -> StoredReply | None:
    settings = current_app.config["DOORSTEP_SETTINGS"]
    session = request_session()
    return find_reply(session, g.viewer.username, key, services().now(session), settings.reply_lifetime)


def _pending_key() -> tuple[str, str] | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        abort(error_response(422, f"{HEADER} 应为 1–{MAX_KEY_LENGTH} 个可见字符（建议每个请求用一个新的 UUID）",
                             {HEADER: "格式不正确"}))
    g.idempotency = (key, fingerprint(request.method, request.path, request.get_json(silent=True)))
    return cast(tuple[str, str], g.idempotency)


def _replay(stored: StoredReply, request_print: str) -> Response:
    if stored.fingerprint != request_print:
        return error_response(422, f"此 {HEADER} 已用于另一个请求：请为新的请求使用新的键",
                              {HEADER: "已用于另一个请求"})
    response = jsonify(stored.body)
    response.status_code = stored.status
    response.headers.update(stored.headers)
    response.headers[REPLAYED_HEADER] = "true"
    return response
