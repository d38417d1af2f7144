"""What arrives at the simulated county each day: the channels, the moments and the heads of each visit batch.

The arrivals have a random stream of their own, apart from the one that decides what staff do with each case,
so a seed's arrivals do not depend on how the cases go. `ArrivalStream.day` is what the simulator draws each
day; `arrival_totals` draws the same days for the same seed without the engine, and gives exactly the visit
batches, person-visits and online messages that a run of the simulator registers between the same two moments
(test_simulation_calibration checks both: the totals against the article, and a real run against the totals).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from workflows.cases.calendar import WorkCalendar

SEASON = (1.15, 0.85, 1.10, 1.05, 1.00, 0.95, 0.95, 0.95, 1.00, 0.90, 1.00, 1.10)  # Jan … Dec; mean 1
HEADCOUNTS = ((1, 0.45), (2, 0.20), (3, 0.12), (4, 0.07), (5, 0.05), (6, 0.03), (8, 0.03), (10, 0.025), (15, 0.015),
              (20, 0.01))  # mean 2.84 (2021: 955 / 333 = 2.87); see simulation.yaml
OPENING_HOURS = {"online": (7.0, 16.0)}  # online messages come 07:00-23:00; the rest 08:30-16:30 on workdays
OFFICE_HOURS = (8.5, 8.0)


@dataclass(frozen=True)
class Rates:
    """Yearly arrivals by channel and the shares that shape them (the 2021 profile of data/simulation.yaml)."""

    visits: float = 333.0  # batches a year, township reception rooms and the county bureau together
    online_messages: float = 1839.0
    grid_reports: float = 1200.0
    letters: float = 120.0
    phone_calls: float = 80.0
    county_visits: float = 0.08  # share of visits that go straight to the county bureau
    handed_down: float = 0.02  # share of visits made at the city or above, handed down to the county bureau
    handed_down_from: tuple[tuple[str, float], ...] = (("city", 0.75), ("province", 0.2), ("national", 0.05))
    headcounts: tuple[tuple[int, float], ...] = HEADCOUNTS  # people per visit batch: (headcount, weight)
    repeats: float = 0.10  # share of visits, letters and calls that bring an earlier claim again
    online_repeats: float = 0.04
    package_repeat: float = 0.5  # chance that a third petition on one claim is packaged by a county leader
    package_overdue: float = 0.15  # chance that an overdue case reported to the bureau is packaged

    def scaled(self, factor: float) -> Rates:
        """The same shares with every yearly volume multiplied by `factor`."""
        volumes = ("visits", "online_messages", "grid_reports", "letters", "phone_calls")
        return replace(self, **{name: getattr(self, name) * factor for name in volumes})


@dataclass(frozen=True)
class Arrival:
    """Someone brings a claim by a channel at a moment; a visit batch has its headcount (1 otherwise)."""

    at: datetime
    channel: str
    headcount: int = 1


@dataclass
class Totals:
    """The published intake figures of some arrivals (as the monthly report counts them)."""

    visit_batches: int = 0
    visit_persons: int = 0
    online_messages: int = 0
    letters: int = 0
    phone_calls: int = 0
    grid_reports: int = 0

    def add(self, arrival: Arrival) -> None:
        """Count one arrival."""
        if arrival.channel == "visit":
            self.visit_batches += 1
            self.visit_persons += arrival.headcount
        else:
            key = {"online": "online_messages", "letter": "letters", "phone": "phone_calls", "grid": "grid_reports"}
            setattr(self, key[arrival.channel], getattr(self, key[arrival.channel]) + 1)


class ArrivalStream:
    """The arrivals of consecutive days for a seed, from a random stream that nothing else draws from."""

    def __init__(self, seed: int, rates: Rates, calendar: WorkCalendar):
        self.rng = random.Random(f"arrivals:{seed}")
        self.rates, self.calendar = rates, calendar
        self.heads, self.weights = zip(*rates.headcounts, strict=True)
        self.workdays: dict[int, int] = {}

    def day(self, day: date) -> list[Arrival]:
        """One day's arrivals, in the order drawn (the simulator takes them up by their moments)."""
        channels = day_arrivals(self.rng, self.rates, day, self.calendar.is_workday(day), self._workdays(day.year))
        midnight = self.calendar.at(day, time(0, 0))
        out = []
        for channel in channels:
            opens, hours = OPENING_HOURS.get(channel, OFFICE_HOURS)
            at = midnight + timedelta(hours=opens + self.rng.random() * hours)
            heads = int(self.rng.choices(self.heads, self.weights)[0]) if channel == "visit" else 1
            out.append(Arrival(at, channel, heads))
        return out

    def _workdays(self, year: int) -> int:
        if year not in self.workdays:
            self.workdays[year] = len(self.calendar.workdays(date(year, 1, 1), date(year, 12, 31)))
        return self.workdays[year]


def arrival_totals(seed: int, rates: Rates, calendar: WorkCalendar, start: datetime, end: datetime) -> Totals:
    """What a simulator run from `start` to `end` with this seed registers, drawn without the engine.

    The simulator draws each day from the day of `start` on; an arrival drawn before `start` on that first day is
    registered at `start`, one at or after `end` never happens.
    """
    stream, totals = ArrivalStream(seed, rates, calendar), Totals()
    day = calendar.local_day(start)
    while calendar.at(day, time(0, 0)) < end:
        for arrival in stream.day(day):
            if arrival.at < end:
                totals.add(arrival)
        day += timedelta(days=1)
    return totals


def day_arrivals(rng: random.Random, rates: Rates, day: date, workday: bool, workdays: int) -> list[str]:
    """The channels of one day's arrivals: Poisson draws of the yearly rates, by season; online every day,
    the rest on workdays only."""
    season = SEASON[day.month - 1]
    means: list[tuple[str, float]] = [("online", rates.online_messages / 365)]
    if workday:
        means += [("visit", rates.visits / workdays), ("letter", rates.letters / workdays),
                  ("phone", rates.phone_calls / workdays), ("grid", rates.grid_reports / workdays)]
    return [channel for channel, mean in means for _ in range(_poisson(rng, mean * season))]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here stay small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
