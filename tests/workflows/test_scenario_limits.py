"""A designer's "run scenarios" on a draft whose script never ends: the run fails on that step, it does not hang."""

from __future__ import annotations

from pathlib import Path

from workflows.design.library_check import check_library

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_a_scenario_run_of_a_draft_that_loops_forever_fails_instead_of_hanging():
    script = "month = report_month(scheduled_at)\nfigures = monthly_figures(month)"
    diagram = (BPMN / "monthly_report.bpmn").read_text()
    assert script in diagram
    looping = diagram.replace(script, "month = report_month(scheduled_at)\nwhile True:\n    pass")
    report = check_library(BPMN, only="monthly_report", overrides={"monthly_report.bpmn": looping.encode()})
    (result,) = report.results
    assert not result.passed
    assert "compile" in result.message and "时间上限" in result.message
