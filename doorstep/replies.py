"""Stored answers of API calls sent with an `Idempotency-Key`: a retry after a lost answer gets the first answer.

One row per (person, key): a fingerprint of the request (method, path, body) and the answer given. The row is
written in the same transaction as the step it answers, so either both are kept or neither is. An answer lives
for the deployment's reply lifetime (`DOORSTEP_IDEMPOTENCY_HOURS`, 24 h) of business time: after it the key is
free again, and the timer worker deletes the row (`purge_replies`), so the request path never pays for the purge.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

MAX_KEY_LENGTH = 200


class StoredReply(Base):
    """The first answer to a request made with an idempotency key."""

    __tablename__ = "stored_reply"

    username: Mapped[str] = mapped_column(String(120), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


def fingerprint(method: str, path: str, body: Any) -> str:
    """What identifies a request: its method, path and JSON body (key order does not matter)."""
    text = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def find_reply(session: Session, username: str, key: str, now: datetime, lifetime: timedelta) -> StoredReply | None:
    """The stored answer to this person's key while it lives; one past its lifetime is deleted (in the caller's
    transaction, so the key can take the new answer) and not given."""
    stored = session.get(StoredReply, (username, key))
    if stored is not None and stored.created_at <= now - lifetime:
        session.delete(stored)
        session.flush()
        return None
    return stored


def store_reply(session: Session, username: str, key: str, request_print: str, status: int, body: dict[str, Any],
                headers: dict[str, str], now: datetime) -> None:
    """Keep the answer with the step's own writes (the caller commits)."""
    session.add(StoredReply(username=username, key=key, fingerprint=request_print, status=status, body=body,
                            headers=headers, created_at=now))


def purge_replies(session: Session, now: datetime, lifetime: timedelta) -> int:
    """Delete every stored answer past its lifetime (the caller commits); how many were deleted."""
    done = session.execute(delete(StoredReply).where(StoredReply.created_at <= now - lifetime))
    return int(getattr(done, "rowcount", 0) or 0)
