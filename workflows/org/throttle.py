"""Failed attempts (wrong passwords, wrong query codes) slow down further tries: a growing delay, never a lock-out.

Each attempt is counted under several keys at once: the client's address, and what was tried (the account's
username, the query code). A key may fail `free` times (see the callers) within `WINDOW` without delay; after that
it must wait before its next try, `FIRST_DELAY` doubling with each further failure up to `MAX_DELAY`. A try during
the wait is refused without being checked (so it tells nothing and counts nothing); the first try after the wait
is checked as usual, so the right password or code always works once the wait is over. Failures older than
`WINDOW` are forgotten; a successful login forgets the account's failures.

With the numbers below, one account (or one address) gets 5 free tries, then waits 30 s, 1, 2, 4, 8 min and then
15 min between tries: at most about a dozen guesses an hour, whatever number of addresses an attacker uses.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from workflows import DomainError

FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
WINDOW = timedelta(hours=1)
_KEY_LENGTH = 64


class TooManyAttempts(DomainError):
    """Too many failures lately for this address, account or code: wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class FailedAttempt(Base):
    """A failed attempt under one key (e.g. `login-account:NAME`), kept for `WINDOW`."""

    __tablename__ = "query_attempt"  # the name of its first use, the petitioners' query page
    __table_args__ = (Index("ix_query_attempt_client_at", "client", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(_KEY_LENGTH))
    attempted_at: Mapped[datetime]


def throttle_key(kind: str, value: str) -> str:
    """The key of one thing tried (`kind` e.g. `login-account`), short enough for the column whatever `value` is."""
    key = f"{kind}:{value}"
    if len(key) <= _KEY_LENGTH:
        return key
    return f"{kind}:#{hashlib.sha256(value.encode()).hexdigest()}"[:_KEY_LENGTH]


def delay_after(failures: int, free: int) -> timedelta:
    """How long a key that failed `failures` times (with `free` tries free) must wait after its last failure."""
    if failures < free:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - free, 20), MAX_DELAY)


def check_allowed(session: Session, keys: Mapping[str, int], now: datetime, what: str) -> None:
    """Raise TooManyAttempts while any key (key → free tries) must still wait after its failures."""
    session.execute(delete(FailedAttempt).where(FailedAttempt.attempted_at < now - WINDOW))
    wait = timedelta(0)
    for key, free in keys.items():
        failures, last = session.execute(
            select(func.count(FailedAttempt.id), func.max(FailedAttempt.attempted_at))
            .where(FailedAttempt.client == key, FailedAttempt.attempted_at >= now - WINDOW)).one()
        if failures and last is not None:
            wait = max(wait, delay_after(failures, free) - (now - last))
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooManyAttempts(f"{what}失败次数过多，请{_spoken(seconds)}后再试", seconds)


def record_failure(session: Session, keys: Mapping[str, int], now: datetime) -> None:
    """Count one failed attempt under each key (the caller commits, also when it answers with an error)."""
    session.add_all(FailedAttempt(client=key, attempted_at=now) for key in keys)
    session.flush()


def forget_failures(session: Session, key: str) -> None:
    """Forget the failures of one key (after a success; the caller commits)."""
    session.execute(delete(FailedAttempt).where(FailedAttempt.client == key))


def _spoken(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 60 else f"{math.ceil(seconds / 60)}分钟"

