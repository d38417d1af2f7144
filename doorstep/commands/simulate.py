"""Run the demo county for some months through the real diagrams on the simulated clock."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import click
from sqlalchemy.orm import Session

from engine import SimulatedClock
from workflows.cases.script_helpers import packaged_config
from workflows.reports.monthly import figures_between
from workflows.simulation.county import SimulationError, add_months, simulate, simulated_days
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
        lines = MonthLines(session, SimulatedClock(session).now())
        with click.progressbar(length=simulated_days(session, months), label="simulating days",
                               file=sys.stderr) as bar:

            def progress(days: int) -> None:
                bar.update(days)
                lines.days(days)

            summary = simulate(session, engine, months, seed, rates=chosen.rates.scaled(scale),
                               commit=session.commit, progress=progress)
        figures = figures_between(session, summary.start, summary.end,
                                  group_threshold=packaged_config().deadlines.group_visit_threshold)
    rows = comparison(figures, chosen, months)
    if scale != 1:
        rows = [{**row, "article": None, "difference": None} for row in rows]  # a scaled county is not the article's
    emit(ctx, {**summary.outcome(), "wall_seconds": summary.wall_seconds, "steps_per_second": summary.steps_per_second,
               "profile": profile, "published": rows},
         "\n".join([*summary.lines(), "", *comparison_lines(rows, chosen, months)]))



class MonthLines:
    """After each simulated month, one line on stderr: the figures so far and the wall time (a long run that is
    stopped still tells what it did)."""

    def __init__(self, session: Session, start: datetime):
        self.session, self.start, self.began = session, start, time.perf_counter()
        self.calendar = packaged_config().calendar
        self.local = self.calendar.local(start)
        self.day, self.months = self.local.date(), 1

    def days(self, count: int) -> None:
        """`count` more simulated days are done (everything before today's midnight is committed)."""
        self.day += timedelta(days=count)
        if self.day < add_months(self.local, self.months).date():
            return
        while self.day >= add_months(self.local, self.months).date():
            self.months += 1
        until = self.calendar.at(self.day, datetime.min.time())
        figures = figures_between(self.session, self.start, until,
                                  group_threshold=packaged_config().deadlines.group_visit_threshold)
        click.echo(f"\n{self.local:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M}: 来访 {figures.visit_batches} 批 / "
                   f"{figures.visit_persons} 人次，网上留言 {figures.online_messages}，信访总量 {figures.petitions}；"
                   f"用时 {time.perf_counter() - self.began:.0f} s", err=True)
