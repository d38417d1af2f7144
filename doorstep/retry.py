"""Run a unit of work again when it failed for a reason that passes: a lost connection, a deadlock, a concurrent change.

Timer workers and `clock advance` go through here, so that a restarted database, a terminated backend, a
PostgreSQL deadlock or serialization failure, or another worker firing the same case at the same moment (a
conflict, e.g. SQLite's `UNIQUE constraint failed: event.instance_id, event.seq`) costs one retry and one log
line, never the process. Each unit of work is one transaction, rolled back before it is tried again, so a retry
never applies anything twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from engine import Conflict

T = TypeVar("T")
# Failures that say nothing about the work itself: the same work done again later succeeds.
PASSING = (Conflict, OperationalError, IntegrityError, StaleDataError, PoolTimeout)


@dataclass(frozen=True)
class Backoff:
    """How long to wait before each retry (doubling from `first` up to `longest`), and how often to try."""

    first: float = 0.5
    longest: float = 30.0
    attempts: int | None = None  # None: until it succeeds (a worker); a number: then the error is raised
    sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds)  # looked up when called


def is_passing(error: BaseException) -> bool:
    """Whether the error is one a retry of the same unit of work can get past."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, PASSING)


def reason(error: BaseException) -> str:
    """The error in one line: the driver's exception class and the first line of its message."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__


def retrying(step: Callable[[], T], what: str, report: Callable[[str], None], backoff: Backoff = Backoff()) -> T:
    """Run `step`; after a passing failure report one line, wait, and run it again."""
    delay, attempt = backoff.first, 1
    while True:
        try:
            return step()
        except Exception as error:
            if not is_passing(error) or (backoff.attempts is not None and attempt >= backoff.attempts):
                raise
            report(f"{what} failed ({reason(error)}); retrying in {delay:g} s (attempt {attempt + 1})")
            backoff.sleep(delay)
            delay, attempt = min(backoff.longest, delay * 2), attempt + 1
