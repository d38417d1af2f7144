"""The simulator against the article: the profiles' rates, a year of the generator's draws, and a short real run."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.cli import main
from workflows import DataFileError
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.reports.monthly import figures_between
from workflows.simulation.county import Rates, day_arrivals
from workflows.simulation.profiles import comparison, expected_volumes, load_profiles

from .test_simulation import ROOT, prepare, run

ARTICLE = {"2021": (333, 955, 1839), "2012": (1280, 5118, None)}


def within(value: float, target: float, share: float = 0.10) -> bool:
    return abs(value - target) <= share * target


@pytest.mark.parametrize("name", ["2021", "2012"])
def test_each_profile_expects_the_articles_year_within_ten_percent(name: str):
    profile = load_profiles()[name]
    expected = expected_volumes(profile.rates)
    batches, persons, online = ARTICLE[name]
    assert within(expected["visit_batches"], batches) and within(expected["visit_persons"], persons)
    assert online is None or within(expected["online_messages"], online)
    assert profile.published["visit_batches"] == batches and profile.published["visit_persons"] == persons


def test_the_default_rates_are_the_2021_profile():
    assert load_profiles()["2021"].rates == Rates()


@pytest.mark.parametrize("name", ["2021", "2012"])
def test_a_year_of_the_generators_draws_lands_on_the_article(name: str):
    """Every day of a year drawn as the simulator draws it (seed 1), with the heads of each visit batch."""
    rates, calendar, rng = load_profiles()[name].rates, packaged_config().calendar, random.Random(1)
    workdays = len(calendar.workdays(date(2025, 1, 1), date(2025, 12, 31)))
    counts: dict[str, int] = {}
    persons, day = 0, date(2025, 1, 1)
    heads, weights = zip(*rates.headcounts, strict=True)
    while day.year == 2025:
        for channel in day_arrivals(rng, rates, day, calendar.is_workday(day), workdays):
            counts[channel] = counts.get(channel, 0) + 1
            if channel == "visit":
                persons += rng.choices(heads, weights)[0]
        day += timedelta(days=1)
    batches, article_persons, online = ARTICLE[name]
    assert within(counts["visit"], batches) and within(persons, article_persons)
    assert online is None or within(counts["online"], online)


def test_a_short_run_counts_as_the_report_does_with_visits_handed_down(session: Session):
    prepare(session)
    rates = replace(load_profiles()["2021"].rates.scaled(0.25), handed_down=0.5)
    summary = run(session, seed=3, months=1, rates=rates)
    figures = figures_between(session, summary.start, summary.end)
    assert figures.visit_persons == summary.visit_persons and figures.visit_batches >= 1
    assert figures.petitions == figures.visit_batches + figures.letters + figures.phone_calls
    assert figures.online_messages > 0  # handled, and apart from the petition total
    handed = session.scalars(select(CaseRecord).where(CaseRecord.handed_down_from.is_not(None))).all()
    assert handed and all(r.channel == "visit" and r.visit_level == r.handed_down_from for r in handed)
    assert all(r.process_id == "petition" for r in handed)
    rows = {row["figure"]: row for row in comparison(figures, load_profiles()["2021"], 1)}
    assert rows["visit_batches"]["article"] == pytest.approx(333 / 12)
    assert rows["online_messages"]["simulated"] == figures.online_messages


def test_a_bad_profile_file_names_the_field(tmp_path: Path):
    bad = tmp_path / "simulation.yaml"
    bad.write_text('version: 1\nprofiles:\n  "2021":\n    visits: many\n    repeats: 1.5\n'
                   '    headcounts: {0: 1}\n    handed_down_from: {moon: 1}\n', encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load_profiles(bad)
    for expected in (":4: profiles.2021.visits", ":5: profiles.2021.repeats", ":6: profiles.2021.headcounts",
                     ":7: profiles.2021.handed_down_from"):
        assert expected in str(raised.value)


def test_doorstep_simulate_refuses_an_unknown_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("DOORSTEP_BPMN_DIR", str(ROOT / "bpmn"))
    result = CliRunner().invoke(main, ["simulate", "--profile", "1999"])
    assert result.exit_code != 0 and "2021, 2012" in result.output
