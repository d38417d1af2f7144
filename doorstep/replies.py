"""Stored answers of API calls sent with an `Idempotency-Key`: a retry after a lost answer gets the first answer.

One row per (person, key): a fingerprint of the request (method, path, body) and the answer given. The row is
written in the same transaction as the step it answers, so either both are kept or neither is.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
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


def find_reply(session: Session, username: str, key: str) -> StoredReply | None:
    """The stored answer to this person's key, if any."""
    return session.get(StoredReply, (username, key))


def store_reply(session: Session, username: str, key: str, request_print: str, status: int, body: dict[str, Any],
                headers: dict[str, str], now: datetime) -> None:
    """Keep the answer with the step's own writes (the caller commits)."""
    session.add(StoredReply(username=username, key=key, fingerprint=request_print, status=status, body=body,
                            headers=headers, created_at=now))
