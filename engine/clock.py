"""The one clock of the engine, and the bridge that makes SpiffWorkflow's timers read it."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from sqlalchemy.orm import Session

from .errors import ClockError
from .models import SimulatedTime


class Clock(Protocol):
    """Anything that tells the business time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time of the machine."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """An in-memory clock that moves only when told to (tests, benchmarks)."""

    def __init__(self, start: datetime):
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to `moment`, never backwards."""
        moment = _aware(moment)
        if moment < self._now:
            raise ClockError(f"the clock cannot go back from {self._now.isoformat()} to {moment.isoformat()}")
        self._now = moment


class SimulatedClock:
    """A clock stored in the database, for demo and training deployments; moved only by command."""

    NAME = "default"

    def __init__(self, session: Session):
        self._session = session
        self._row: SimulatedTime | None = None  # held, so the session's identity map keeps it: read once

    def _stored(self) -> SimulatedTime | None:
        if self._row is None:
            self._row = self._session.get(SimulatedTime, self.NAME)
        return self._row

    @classmethod
    def install(cls, session: Session, start: datetime) -> SimulatedClock:
        """Create or reset the stored simulated time (the caller commits)."""
        row = session.get(SimulatedTime, cls.NAME)
        if row is None:
            session.add(SimulatedTime(name=cls.NAME, now=_aware(start)))
        else:
            row.now = _aware(start)
        return cls(session)

    @classmethod
    def is_installed(cls, session: Session) -> bool:
        """Whether this database runs on simulated time (its row, when there is one, is then in the session)."""
        return session.get(SimulatedTime, cls.NAME) is not None

    def installed(self) -> bool:
        """Whether this database runs on simulated time (its row is then read, once)."""
        return self._stored() is not None

    def now(self) -> datetime:
        row = self._stored()
        if row is None:
            raise ClockError("this database has no simulated clock; run `doorstep init --simulated-clock START`")
        return row.now

    def set(self, moment: datetime) -> None:
        """Move the stored time forward to `moment` (the caller commits)."""
        row = self._stored()
        if row is None:
            raise ClockError("this database has no simulated clock")
        moment = _aware(moment)
        if moment < row.now:
            raise ClockError(f"the clock cannot go back from {row.now.isoformat()} to {moment.isoformat()}")
        row.now = moment


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ClockError(f"{moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


# SpiffWorkflow's timer definitions call `datetime.now(timezone.utc)` on their module's `datetime` name and
# offer no hook. We give that module a datetime subclass whose now() answers the business time of the step
# being run, so timers are computed and fired against the engine's clock, in tests and simulations too.
_business_time: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("business_time", default=None)


class _BusinessDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]  # a plain datetime, not this class
        moment = _business_time.get()
        if moment is None:
            return datetime.now(tz)
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


def _install_timer_bridge() -> None:
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _BusinessDatetime


_install_timer_bridge()


@contextlib.contextmanager
def business_time(moment: datetime) -> Iterator[datetime]:
    """Run the block with SpiffWorkflow's timers reading `moment` as the current time."""
    token = _business_time.set(_aware(moment))
    try:
        yield moment
    finally:
        _business_time.reset(token)


def current_business_time() -> datetime:
    """The business time of the step being run (the machine's time outside a step)."""
    return _business_time.get() or datetime.now(UTC)
