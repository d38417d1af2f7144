"""The simulator's calibration without the engine: each profile's expected yearly volumes and a year of its draws.

Draws every day of a year exactly as the simulator does (`day_arrivals`, the profile's headcounts) for a seed and
prints them next to the article's figures. A full engine run: `doorstep simulate --months 12 --profile NAME`.

Run: python bench/calibration.py [--seed 1] [--year 2025]
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta

from workflows.cases.script_helpers import packaged_config
from workflows.simulation.county import day_arrivals
from workflows.simulation.profiles import expected_volumes, load_profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    calendar = packaged_config().calendar
    workdays = len(calendar.workdays(date(args.year, 1, 1), date(args.year, 12, 31)))
    for name, profile in load_profiles().items():
        rng, day, counts, persons = random.Random(args.seed), date(args.year, 1, 1), {}, 0
        heads, weights = zip(*profile.rates.headcounts, strict=True)
        while day.year == args.year:
            for channel in day_arrivals(rng, profile.rates, day, calendar.is_workday(day), workdays):
                counts[channel] = counts.get(channel, 0) + 1
                persons += rng.choices(heads, weights)[0] if channel == "visit" else 0
            day += timedelta(days=1)
        expected = expected_volumes(profile.rates)
        drawn = {"visit_batches": counts.get("visit", 0), "visit_persons": persons,
                 "online_messages": counts.get("online", 0)}
        for key in ("visit_batches", "visit_persons", "online_messages"):
            article = profile.published.get(key)
            print(f"{name} {key:<16} expected {expected[key]:7.0f}  drawn {drawn[key]:6d}  "
                  f"article {article if article is not None else '—'}")


if __name__ == "__main__":
    main()
