"""Browser sessions kept on the server: the cookie holds only a random id, the data lives in this table.

Only the SHA-256 digest of the id is stored, so the table cannot be used to forge a cookie. Ending a session deletes
its row: the old cookie then opens nothing (logout; a password change ends every session of that account). A
session unused for `IDLE_LIMIT` is over too. Times are wall-clock times: a simulated business clock (demos,
training) must not keep a session alive or end it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

IDLE_LIMIT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=5)  # how stale `last_seen` may get before a request writes it again


class LoginSession(Base):
    """One browser's session: who is logged in (if anyone) and the session's data (CSRF token, flashes)."""

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_username", "username"),)

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]


def wall_now() -> datetime:
    """The real time (sessions live in it, whatever the business clock says)."""
    return datetime.now(UTC)


def new_session_id() -> str:
    """A fresh random session id for a cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(session_id: str) -> str:
    """What the table keeps of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def load_session(session: Session, session_id: str, now: datetime) -> LoginSession | None:
    """The live session with this id, or None (unknown, ended, or idle too long)."""
    found = session.get(LoginSession, digest(session_id))
    if found is None or found.last_seen < now - IDLE_LIMIT:
        return None
    return found


def save_session(session: Session, session_id: str, data: dict[str, Any], now: datetime, new: bool) -> bool:
    """Create (`new`) or update the session with this id; False when it ended meanwhile (the caller commits).

    An existing id is never created again: a request still running while its session is ended (logout elsewhere, a
    password change) must not bring the session back.
    """
    username = data.get("user") if isinstance(data.get("user"), str) else None
    if new:
        session.add(LoginSession(id_digest=digest(session_id), username=username, data=data, created_at=now,
                                 last_seen=now))
        session.flush()
        return True
    found = session.get(LoginSession, digest(session_id), with_for_update=True)
    if found is None:
        return False
    found.username, found.data, found.last_seen = username, data, now
    session.flush()
    return True


def needs_touch(found: LoginSession, now: datetime) -> bool:
    """Whether the session's `last_seen` is stale enough to be written again."""
    return found.last_seen < now - TOUCH_EVERY


def end_session(session: Session, session_id: str) -> None:
    """End one session: its cookie opens nothing any more (the caller commits)."""
    session.execute(delete(LoginSession).where(LoginSession.id_digest == digest(session_id)))


def end_sessions_of(session: Session, username: str) -> int:
    """End every session of `username` (after a password change); return how many ended (the caller commits)."""
    result = session.execute(delete(LoginSession).where(LoginSession.username == username))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_idle(session: Session, now: datetime) -> None:
    """Delete sessions idle longer than `IDLE_LIMIT` (the caller commits)."""
    session.execute(delete(LoginSession).where(LoginSession.last_seen < now - IDLE_LIMIT))


def live_session_count(session: Session, username: str) -> int:
    """How many sessions of `username` exist (for operators and tests)."""
    return len(session.scalars(select(LoginSession.id_digest).where(LoginSession.username == username)).all())
