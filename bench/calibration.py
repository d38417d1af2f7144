"""The simulator's calibration without the engine: each profile's expected yearly figures and a seed's year.

`arrival_totals` draws the days of a year from the same arrival stream as `doorstep simulate` (its own random
stream per seed), so the "year" column is exactly what `doorstep init --demo --simulated-clock
YEAR-01-01T08:00:00+08:00` then `doorstep simulate --months 12 --seed SEED --profile NAME` registers; the engine
run is needed only for everything else (test_simulation_calibration checks that a real run counts the same).

Run: python bench/calibration.py [--seed 1] [--year 2021] [--seeds 20]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

from workflows.cases.script_helpers import packaged_config
from workflows.simulation.arrivals import arrival_totals
from workflows.simulation.profiles import PUBLISHED, expected_volumes, load_profiles

XUPU = timezone(timedelta(hours=8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (1…N) to count within ±10%%")
    args = parser.parse_args()
    calendar = packaged_config().calendar
    start, end = datetime(args.year, 1, 1, 8, tzinfo=XUPU), datetime(args.year + 1, 1, 1, 8, tzinfo=XUPU)
    print(f"{'profile':<8}{'figure':<16}{'expected':>9}{f'seed {args.seed}':>9}{'article':>9}{'diff':>8}"
          f"  seeds 1–{args.seeds} within ±10%")
    for name, profile in load_profiles().items():
        expected = expected_volumes(profile.rates)
        years = [arrival_totals(seed, profile.rates, calendar, start, end) for seed in range(1, args.seeds + 1)]
        drawn = arrival_totals(args.seed, profile.rates, calendar, start, end)
        for key in PUBLISHED:
            article = profile.published.get(key)
            if article is None:
                print(f"{name:<8}{key:<16}{expected[key]:9.0f}{getattr(drawn, key):9d}{'—':>9}")
                continue
            within = sum(abs(getattr(year, key) - article) <= 0.1 * article for year in years)
            print(f"{name:<8}{key:<16}{expected[key]:9.0f}{getattr(drawn, key):9d}{article:9d}"
                  f"{(getattr(drawn, key) - article) / article:+8.1%}  {within}")


if __name__ == "__main__":
    main()
