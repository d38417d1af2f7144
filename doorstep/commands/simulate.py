"""Run the demo county for some months through the real diagrams on the simulated clock."""

from __future__ import annotations

import sys

import click

from engine import SimulatedClock
from workflows.simulation.county import Rates, SimulationError, simulate, simulated_days

from ..cli_support import emit, services, user_errors


@click.command("simulate")
@click.option("--months", type=click.IntRange(min=1), default=12, show_default=True, help="How many months to run.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed: the same seed gives the same cases.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiply the yearly volumes (1 = DOMAIN.md's 333 visits and 1,839 online messages).")
@click.pass_context
@user_errors
def simulate_command(ctx: click.Context, months: int, seed: int, scale: float) -> None:
    """Simulate the demo county (needs `doorstep init --demo --simulated-clock START`); commits each day."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        if not SimulatedClock.is_installed(session):
            raise SimulationError("this database runs on the system clock: create it with "
                                  "`doorstep init --demo --simulated-clock START` to simulate")
        engine = svc.engine(session, SimulatedClock(session))
        with click.progressbar(length=simulated_days(session, months), label="simulating days",
                               file=sys.stderr) as bar:
            summary = simulate(session, engine, months, seed, rates=Rates().scaled(scale),
                               commit=session.commit, progress=bar.update)
    emit(ctx, {**summary.outcome(), "wall_seconds": summary.wall_seconds,
               "steps_per_second": summary.steps_per_second}, "\n".join(summary.lines()))

