"""Run the demo county for some months through the real diagrams on the simulated clock."""

from __future__ import annotations

import sys

import click

from engine import SimulatedClock
from workflows.cases.script_helpers import packaged_config
from workflows.reports.monthly import figures_between
from workflows.simulation.county import SimulationError, simulate, simulated_days
from workflows.simulation.profiles import DEFAULT_PROFILE, comparison, comparison_lines, load_profiles

from ..cli_support import emit, services, user_errors


@click.command("simulate")
@click.option("--months", type=click.IntRange(min=1), default=12, show_default=True, help="How many months to run.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed: the same seed gives the same cases.")
@click.option("--profile", default=DEFAULT_PROFILE, show_default=True,
              help="Which year's rates (workflows/data/simulation.yaml): 2021 (333 batches / 955 person-visits, "
                   "1,839 online messages) or 2012 (1,280 / 5,118).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiply the profile's yearly volumes.")
@click.pass_context
@user_errors
def simulate_command(ctx: click.Context, months: int, seed: int, profile: str, scale: float) -> None:
    """Simulate the demo county (needs `doorstep init --demo --simulated-clock START`); commits each day.

    Prints the run's summary and its published figures next to the article's for the profile's year.
    """
    profiles = load_profiles()
    if profile not in profiles:
        raise click.BadParameter(f"'{profile}' is not a profile of simulation.yaml ({', '.join(profiles)})",
                                 param_hint="--profile")
    chosen = profiles[profile]
    svc = services(ctx)
    with svc.unit_of_work() as session:
        if not SimulatedClock.is_installed(session):
            raise SimulationError("this database runs on the system clock: create it with "
                                  "`doorstep init --demo --simulated-clock START` to simulate")
        engine = svc.engine(session, SimulatedClock(session))
        with click.progressbar(length=simulated_days(session, months), label="simulating days",
                               file=sys.stderr) as bar:
            summary = simulate(session, engine, months, seed, rates=chosen.rates.scaled(scale),
                               commit=session.commit, progress=bar.update)
        figures = figures_between(session, summary.start, summary.end,
                                  group_threshold=packaged_config().deadlines.group_visit_threshold)
    rows = comparison(figures, chosen, months)
    if scale != 1:
        rows = [{**row, "article": None, "difference": None} for row in rows]  # a scaled county is not the article's
    emit(ctx, {**summary.outcome(), "wall_seconds": summary.wall_seconds, "steps_per_second": summary.steps_per_second,
               "profile": profile, "published": rows},
         "\n".join([*summary.lines(), "", *comparison_lines(rows, chosen, months)]))

