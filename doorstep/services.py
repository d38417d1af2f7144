"""Builds the engine for one unit of work from the settings: database, clock, specs and domain helpers."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from engine import Clock, Engine, SimulatedClock, SpecStore, StepResult, SystemClock
from workflows.cases.access import task_place as task_scope
from workflows.cases.record import CaseProjector, CaseRecord
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.org.roles import BY_LANE

from .config import Settings
from .database import connect, session_factory
from .replies import purge_replies
from .retry import retrying

CLOCK_KEY = "doorstep.clock"
WAKE_AFTER_DUE = 0.001  # seconds
Observer = Callable[[StepResult], None]


@dataclass
class Services:
    """What every command and web request needs; one per process."""

    settings: Settings
    db: SqlEngine
    sessions: sessionmaker
    specs: SpecStore = field(default_factory=SpecStore)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Open the configured database (the schema is created by `doorstep init`)."""
        db = connect(settings.database_url)
        return cls(settings, db, session_factory(db))

    @contextlib.contextmanager
    def unit_of_work(self, connection: Connection | None = None) -> Iterator[Session]:
        """One transaction (on `connection` if given): committed when the block ends, rolled back on any error."""
        session = self.sessions() if connection is None else self.sessions(bind=connection)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def clock(self, session: Session) -> Clock:
        """The simulated clock when this database has one, else the system clock (asked once per session: a
        request or a command reads the clock's kind, and a simulated clock's time, in one statement)."""
        clock = session.info.get(CLOCK_KEY)
        if clock is None:
            simulated = SimulatedClock(session)
            clock = session.info[CLOCK_KEY] = simulated if simulated.installed() else SystemClock()
        return cast(Clock, clock)

    def engine(self, session: Session, clock: Clock | None = None) -> Engine:
        """The engine bound to this session, with the domain's script helpers and task scoping."""
        projector = CaseProjector(session, self.settings.secret_key, packaged_config().deadlines)
        helpers = script_helpers(session, secret=self.settings.secret_key)
        return Engine(session, clock or self.clock(session), self.specs, helpers=helpers,
                      task_scope=task_scope, observers=(projector,), script_limits=self.settings.script_limits,
                      companions=(CaseRecord,))

    def fire_due_timers(self, threads: int = 1, report: Observer | None = None) -> list[StepResult]:
        """Fire every timer due now, one transaction per case, so one conflict never undoes another's timers.

        With `threads` > 1 that many cases fire at the same time, each thread on its own connection taking the next
        due case that no other thread or worker holds (PostgreSQL's SKIP LOCKED); `report` hears of each firing as
        it commits.
        """
        if threads <= 1:
            return self._fire_in_turn(report)
        with ThreadPoolExecutor(threads, thread_name_prefix="doorstep-timers") as pool:
            rounds = [pool.submit(self._fire_in_turn, report) for _ in range(threads)]
            return [result for done in rounds for result in done.result()]

    def _fire_in_turn(self, report: Observer | None) -> list[StepResult]:
        """Fire due cases one after the other, each in its own transaction, on one connection for the whole round
        (checked out, and so pinged, once)."""
        fired: list[StepResult] = []
        system: Clock | None = None  # on the system clock, asked once per round rather than once per case
        with self.db.connect() as connection:
            while True:
                with self.unit_of_work(connection) as session:
                    clock = system or self.clock(session)
                    system = clock if isinstance(clock, SystemClock) else None
                    result = self.engine(session, clock).fire_next_due()
                if result is None:
                    return fired
                fired.append(result)
                if report is not None:
                    report(result)

    def next_timer_wait(self, interval: float) -> float:
        """Seconds a timer worker sleeps after a round: until the earliest timer that falls due within `interval`,
        else the whole interval (always the interval on a simulated clock, which does not move by itself)."""
        with self.unit_of_work() as session:
            clock = self.clock(session)
            if not isinstance(clock, SystemClock):
                return interval
            now = clock.now()
            due = self.engine(session, clock).next_due(now + timedelta(seconds=interval), after=now)
        if due is None:
            return interval
        # SpiffWorkflow fires a timer once the clock has passed its due time: wake just after it.
        return min(interval, max(0.0, (due - datetime.now(UTC)).total_seconds()) + WAKE_AFTER_DUE)

    def purge_expired_replies(self) -> int:
        """Delete the API answers stored for idempotency keys past their lifetime (the timer worker's rounds)."""
        with self.unit_of_work() as session:
            return purge_replies(session, self.clock(session).now(), self.settings.reply_lifetime)

    def run_timer_thread(self, interval: float) -> threading.Thread:
        """Fire due timers in a daemon thread (the embedded, one-process deployment), looking again after at
        most `interval` seconds."""

        log = logging.getLogger("doorstep.timers")

        def loop() -> None:
            while True:
                wait = interval
                try:
                    retrying(self.fire_due_timers, "firing due timers", log.warning)
                    retrying(self.purge_expired_replies, "purging expired idempotency answers", log.warning)
                    wait = self.next_timer_wait(interval)
                except Exception:  # noqa: BLE001 - a failure that is not passing is logged, the next round runs
                    log.exception("firing due timers failed")
                time.sleep(wait)

        thread = threading.Thread(target=loop, name="doorstep-timers", daemon=True)
        thread.start()
        return thread

    def lanes(self) -> set[str]:
        """Lane names the diagrams may use: the roles of the domain."""
        return set(BY_LANE)

    def now(self, session: Session) -> datetime:
        """The business time now."""
        return self.clock(session).now()
