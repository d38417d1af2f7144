"""Figure definitions and assessment weights as data: the shipped files, their checks, and the scores they give."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from workflows import DataFileError
from workflows.cases.script_helpers import script_helpers
from workflows.reports.assessment import AssessmentRules, assess, load_assessment_rules, packaged_assessment_rules
from workflows.reports.definitions import FigureRules, load_figure_rules, packaged_figure_rules

from .test_report import add_case, local, report


def test_the_shipped_files_are_the_documented_defaults():
    assert packaged_figure_rules() == FigureRules()
    assert packaged_assessment_rules() == AssessmentRules()
    assert AssessmentRules().full_score == 100


def test_every_mistake_in_the_figures_file_is_named_with_its_line(tmp_path: Path):
    bad = tmp_path / "figures.yaml"
    bad.write_text("version: 1\npetition_total:\n  channels: [visit, fax]\nbypass:\n  levels_above: -1\n"
                   "zero_visit:\n  channels: visit\nsatisfaction:\n  sources: [petitioner]\n  when: closed\n",
                   encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load_figure_rules(bad)
    message = str(raised.value)
    for expected in ("figures.yaml:3: petition_total.channels: unknown fax", "figures.yaml:5: bypass.levels_above",
                     "figures.yaml:7: zero_visit.channels: expected a list", "figures.yaml:10: satisfaction.when"):
        assert expected in message
    both = tmp_path / "both.yaml"
    both.write_text("version: 1\npetition_total: {channels: [visit, online]}\ninternet_work: {channels: [online]}\n",
                    encoding="utf-8")
    with pytest.raises(DataFileError, match="cannot count in both"):
        load_figure_rules(both)


def test_a_rating_staff_typed_as_their_own_judgement_can_never_be_made_to_count(tmp_path: Path):
    assert FigureRules().rating_sources == ("petitioner", "recorded")
    staff = tmp_path / "figures.yaml"
    staff.write_text("version: 1\nsatisfaction:\n  sources: [petitioner, recorded, staff]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="figures.yaml:3: satisfaction.sources: unknown staff"):
        load_figure_rules(staff)


def test_the_assessment_file_is_checked_and_partial_files_keep_the_defaults(tmp_path: Path):
    partial = tmp_path / "assessment.yaml"
    partial.write_text("version: 1\nrewards: {zero_visit_village: 800}\n", encoding="utf-8")
    rules = load_assessment_rules(partial)
    assert (rules.zero_visit_reward, rules.full_marks_bonus, rules.full_score) == (800, 500, 100)
    partial.write_text("version: 1\ndeductions: {bypass_visits: ten, lateness: 3}\nrewards: {full_marks_bonus: 1.5}\n",
                       encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load_assessment_rules(partial)
    assert "deductions.bypass_visits" in str(raised.value) and "deductions.lateness" in str(raised.value)
    assert "rewards.full_marks_bonus: expected whole 元" in str(raised.value)


def test_scores_deduct_per_case_weigh_rates_and_rank_townships(small_org: Session):
    # 桃园社区 (t01v01): a group visit that went to Beijing over a township matter (越级 + 集体访), closed late.
    add_case(small_org, local(2025, 3, 3, 9), "visit", headcount=6, process_id="petition", handed_down_from="national",
             closed=local(2025, 3, 20, 9), overdue=True, satisfaction="dissatisfied")
    # 杉坡村 (t01v02): a letter and a repeat letter, closed on time and rated satisfied; no visit, so rewarded.
    first = add_case(small_org, local(2025, 2, 3, 9), "letter", village="t01v02")
    add_case(small_org, local(2025, 3, 4, 9), "letter", village="t01v02", repeat_of=first,
             closed=local(2025, 3, 10, 9), satisfaction="satisfied")

    result = assess(report(small_org))
    scores = {s.place.code: s.score for s in result.villages}
    # 60 base + 0 zero-visit + 0 on time (1 of 1 overdue) + 0 satisfaction − 10 越级 − 5 集体访 − 2 超期 = 43
    assert scores["t01v01"] == 43
    assert scores["t01v02"] == 95  # full marks but one repeat petition (−5)
    assert scores["t02v01"] == 100
    assert [(s.place.code, s.reward) for s in result.rewards] == [
        ("t01v02", 1000), ("t01v03", 1500), ("t02v01", 1500), ("t02v02", 1500)]
    assert result.reward_total == 5500
    # 青溪镇: 60 + 10 × 2/3 zero-visit villages + 20 × 1/2 on time + 10 × 1/2 satisfied − 10 − 5 − 5 − 2 = 59.7
    assert [(s.place.code, s.score) for s in result.townships] == [("t02", 100.0), ("t01", 59.7)]
    stingy = assess(report(small_org), AssessmentRules(zero_visit_reward=200, full_marks_bonus=0))
    assert stingy.reward_total == 800


def test_the_report_diagram_helper_gives_the_assessment(small_org: Session):
    add_case(small_org, local(2025, 3, 3, 9), "visit", village="t01v01")
    result = script_helpers(small_org)["monthly_assessment"]("2025-03")
    assert result["reward_total"] == 4 * 1500 and [r["code"] for r in result["rewards"]] == [
        "t01v02", "t01v03", "t02v01", "t02v02"]
    assert result["townships"][0] == {"code": "t02", "name": "云岭乡", "score": 100.0, "rank": 1}
    assert result["villages"]["t01v01"] == 90.0
