"""Failed attempts by client (wrong query codes, wrong passwords): too many in a window are refused for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from workflows import DomainError

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    """This client failed too often lately; it must wait."""


class FailedAttempt(Base):
    """A failed attempt by a client key (e.g. its address), kept for `WINDOW`."""

    __tablename__ = "query_attempt"  # the name of its first use, the petitioners' query page
    __table_args__ = (Index("ix_query_attempt_client_at", "client", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]


def check_allowed(session: Session, client: str, now: datetime, what: str) -> None:
    """Raise TooManyAttempts when `client` failed `MAX_FAILURES` times within the last `WINDOW`."""
    session.execute(delete(FailedAttempt).where(FailedAttempt.attempted_at < now - WINDOW))
    failures = session.scalar(select(func.count(FailedAttempt.id)).where(
        FailedAttempt.client == client[:64], FailedAttempt.attempted_at >= now - WINDOW)) or 0
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(f"{what}失败次数过多，请{int(WINDOW.total_seconds() // 60)}分钟后再试")


def record_failure(session: Session, client: str, now: datetime) -> None:
    """Count one failed attempt of `client` (the caller commits, also when it answers with an error)."""
    session.add(FailedAttempt(client=client[:64], attempted_at=now))
    session.flush()
