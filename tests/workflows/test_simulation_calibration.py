"""The simulator against the article: the profiles' rates, a year of the generator's draws, and a short real run."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
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
from workflows.simulation.arrivals import arrival_totals
from workflows.simulation.county import Rates, add_months
from workflows.simulation.profiles import comparison, expected_volumes, load_profiles

from .test_simulation import ROOT, prepare, run

XUPU = timezone(timedelta(hours=8))
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
def test_the_year_that_doorstep_simulate_registers_with_seed_1_lands_on_the_article(name: str):
    """What `doorstep simulate --months 12 --seed 1 --profile NAME` registers from 2021-01-01 08:00, drawn from
    the simulator's own arrival stream (the next test shows that a real run registers exactly these draws)."""
    start = datetime(2021, 1, 1, 8, tzinfo=XUPU)
    year = arrival_totals(1, load_profiles()[name].rates, packaged_config().calendar, start, add_months(start, 12))
    batches, persons, online = ARTICLE[name]
    assert within(year.visit_batches, batches) and within(year.visit_persons, persons)
    assert online is None or within(year.online_messages, online)


def test_a_run_registers_exactly_its_arrival_stream_and_the_report_counts_it(session: Session):
    """Every drawn visit batch with its heads, online message, letter and call is registered once, and counted as
    the monthly report counts: visits handed down from above and visits to the county bureau included."""
    prepare(session)
    rates = replace(load_profiles()["2021"].rates.scaled(0.25), handed_down=0.3, county_visits=0.3, repeats=0.3)
    summary = run(session, seed=3, months=1, rates=rates)
    figures = figures_between(session, summary.start, summary.end)
    drawn = arrival_totals(3, rates, packaged_config().calendar, summary.start, summary.end)
    assert drawn.visit_batches >= 5 and drawn.visit_persons > drawn.visit_batches
    assert (figures.visit_batches, figures.visit_persons, figures.online_messages, figures.letters,
            figures.phone_calls, figures.grid_reports) == \
        (drawn.visit_batches, drawn.visit_persons, drawn.online_messages, drawn.letters, drawn.phone_calls,
         drawn.grid_reports)
    assert figures.visit_persons == summary.visit_persons
    assert figures.petitions == figures.visit_batches + figures.letters + figures.phone_calls
    assert figures.online_messages > 0  # handled, and apart from the petition total
    handed = session.scalars(select(CaseRecord).where(CaseRecord.handed_down_from.is_not(None))).all()
    assert handed and all(r.channel == "visit" and r.visit_level == r.handed_down_from for r in handed)
    assert all(r.process_id == "petition" for r in handed)
    assert figures.repeat_petitions > 0
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
