"""Show and move the business clock."""

from __future__ import annotations

from datetime import datetime

import click
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import SimulatedClock

from ..cli_support import UserError, emit, local, services, user_errors
from ..retry import Backoff, is_passing, reason, retrying

ADVANCE_ATTEMPTS = 5


@click.group()
def clock() -> None:
    """Show or move the clock."""


@clock.command("show")
@click.pass_context
@user_errors
def clock_show(ctx: click.Context) -> None:
    """Print the business time and whether it is simulated."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        simulated = SimulatedClock.is_installed(session)
        now = svc.now(session)
    emit(ctx, {"now": now, "simulated": simulated},
         f"{local(now)} Asia/Shanghai ({now.isoformat(timespec='seconds')}) — "
         f"{'simulated clock' if simulated else 'system clock'}")


@clock.command("advance")
@click.argument("duration")
@click.pass_context
@user_errors
def clock_advance(ctx: click.Context, duration: str) -> None:
    """Move the simulated clock forward by DURATION (ISO 8601, e.g. P15D, PT8H) and fire what falls due."""
    svc = services(ctx)
    try:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
    except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise UserError(f"'{duration}' is not an ISO 8601 duration such as P15D or PT8H") from error

    def advance() -> tuple[datetime, datetime, list[tuple[int, list[str]]]]:
        with svc.unit_of_work() as session:
            if not SimulatedClock.is_installed(session):
                raise UserError("this database runs on the system clock; start it with `doorstep init "
                                "--simulated-clock START` to move time by command")
            sim = SimulatedClock(session)
            start = sim.now()
            target = start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
            results = svc.engine(session, sim).run_until(target, sim.set)
            return start, target, [(r.instance.id, r.events[0].data.get("timers", [])) for r in results]

    # One transaction: a deadlock or lost connection undoes all of it, and the whole move is tried again.
    try:
        start, target, fired = retrying(advance, "moving the clock", lambda line: click.echo(line, err=True),
                                        Backoff(first=0.2, attempts=ADVANCE_ATTEMPTS))
    except Exception as error:
        if not is_passing(error):
            raise
        raise UserError(f"the clock was not moved: the database kept refusing ({reason(error)}); "
                        "nothing was changed, try again") from error
    lines = [f"clock moved from {local(start)} to {local(target)}"]
    lines += [f"case {case_id}: fired {', '.join(timers) or 'timer'}" for case_id, timers in fired]
    emit(ctx, {"from": start, "to": target, "fired": fired}, "\n".join(lines))
