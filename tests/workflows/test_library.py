"""The process library: every scenario of bpmn/scenarios passes, every sequence flow is taken, the scenarios the
issue asks for exist, and the data they submit is what the forms accept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree

from engine import read_bundle
from engine.scenarios import Scenario, load_scenarios, sequence_flows
from engine.validation import NS
from workflows.design.library_check import ORG_FILE, LibraryReport, check_library

BPMN = Path(__file__).parents[2] / "bpmn"
SCENARIOS = load_scenarios(BPMN / "scenarios", skip=(ORG_FILE,))
ZERO_PETITION_MONTH = Path(__file__).parent / "data" / "zero_petition_month"
FORM_PROPERTY = "formJsonSchemaFilename"

# What issue 3 asks the scenarios to show, as (process, scenario name).
REQUIRED = {
    "answered on the spot": ("reception", "当场答复"),
    "handed over at day's end, resolved before the deadline": ("reception", "下班时移交分管领导并在期限内办结"),
    "overdue escalation": ("supervision", "超期通报县信访局"),
    "extension approved": ("petition", "逐级上升到县并批准延期"),
    "extension refused": ("petition", "延期申请不予批准"),
    "four-team consultation resolving in the village": ("four_team", "会商后村内化解"),
    "four-team consultation escalating": ("four_team", "会商后上交乡镇办理"),
    "mediation: problem solved": ("mediation", "诉求合理解决问题到位"),
    "mediation: persuasion": ("mediation", "诉求不合理思想教育到位"),
    "mediation: assistance": ("mediation", "部分合理且生活困难三项并行"),
    "mediation: handled by law": ("mediation", "诉求不合理且违法依法处理"),
    "online message answered": ("online_message", "群众留言直接解答"),
    "online message assigned": ("online_message", "群众留言交办立案"),
    "repeat petition packaged by a county leader, closed by reconciliation":
        ("leader_package", "重复信访县领导包案并对账销号"),
    "review and re-examination": ("petition", "申请复查和复核后终结"),
    "accusation never reaches the accused unit": ("petition", "检举控告不得交被控告单位办理"),
    "a month with zero-petition villages": ("monthly_report", "零信访村月度通报考核兑现"),
}


@pytest.fixture(scope="module")
def library() -> LibraryReport:
    """Every scenario run once against the diagrams (a scratch SQLite database)."""
    return check_library(BPMN)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.process}:{s.name}")
def test_scenario_passes(library: LibraryReport, scenario: Scenario):
    result = next(r for r in library.results if r.scenario.file == scenario.file and r.scenario.name == scenario.name)
    assert result.passed, str(result)


def test_every_sequence_flow_is_taken(library: LibraryReport):
    assert library.flows
    assert not library.untaken, "never taken:\n" + "\n".join(str(flow) for flow in library.untaken)


def test_every_executable_process_has_a_scenario_file():
    processes = {flow.process for flow in sequence_flows(read_bundle([BPMN]))}
    assert processes == {s.process for s in SCENARIOS}
    for process in processes:
        assert (BPMN / "scenarios" / f"{process}.yaml").is_file()


@pytest.mark.parametrize("kind", REQUIRED)
def test_required_scenario_exists(kind: str):
    process, name = REQUIRED[kind]
    assert any(s.process == process and s.name == name for s in SCENARIOS), f"no {process} scenario '{name}'"


def test_scenarios_use_lanes_and_people():
    for scenario in SCENARIOS:
        for number, step in enumerate(scenario.steps, 1):
            if "task" in step:
                assert step.get("role") and step.get("as"), f"{scenario.name}: step {number} needs role: and as:"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.process}:{s.name}")
def test_submitted_data_fits_the_forms(scenario: Scenario):
    forms, starts = user_task_forms()
    problems = []
    start_form = starts.get(scenario.process)
    if start_form:
        problems += form_problems(start_form, scenario.start.get("data") or {}, "start")
    for number, step in enumerate(scenario.steps, 1):
        if "task" in step:
            form = find_form(forms, scenario.process, str(step["task"]))
            assert form is not None, f"step {number}: no user task '{step['task']}' with a form"
            problems += form_problems(form, step.get("data") or {}, f"step {number} ({step['task']})")
    assert not problems, "\n".join(problems)


def test_a_month_with_zero_petition_villages(tmp_path: Path):
    """Visits and a grid report in March; the April report lists the villages without a petition."""
    shutil.copy(BPMN / "scenarios" / ORG_FILE, tmp_path / ORG_FILE)
    for path in ZERO_PETITION_MONTH.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    report = check_library(BPMN, tmp_path)
    names = [r.scenario.name for r in report.results]
    assert names == ["桃园社区来访", "杉坡村集体访", "枣岗村网格上报", "三月份零信访村"]
    assert all(r.passed for r in report.results), "\n".join(str(r) for r in report.results if not r.passed)


# -- helpers -------------------------------------------------------------------------------------------------


def user_task_forms() -> tuple[dict[str, tuple[dict[str, str], list[str]]], dict[str, str]]:
    """Per process: its user tasks' forms and the processes it calls; and the start event forms."""
    forms: dict[str, tuple[dict[str, str], list[str]]] = {}
    starts: dict[str, str] = {}
    for path in sorted(BPMN.glob("*.bpmn")):
        for process in etree.parse(str(path)).getroot().findall("bpmn:process", NS):
            tasks: dict[str, str] = {}
            for element in process.iter():
                form = _form_of(element)
                if form and element.tag == f"{{{NS['bpmn']}}}userTask":
                    tasks[element.get("id")] = form
                elif form and element.tag == f"{{{NS['bpmn']}}}startEvent":
                    starts[process.get("id")] = form
            called = [c.get("calledElement") for c in process.iter(f"{{{NS['bpmn']}}}callActivity")]
            forms[process.get("id")] = (tasks, called)
    return forms, starts


def _form_of(element: Any) -> str | None:
    for prop in element.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property"):
        if prop.get("name") == FORM_PROPERTY:
            return str(prop.get("value"))
    return None


def find_form(forms: dict[str, tuple[dict[str, str], list[str]]], process: str, task: str,
              seen: frozenset[str] = frozenset()) -> str | None:
    """The form of a user task of the process, or of a process it calls (nearest first)."""
    tasks, called = forms.get(process, ({}, []))
    if task in tasks:
        return tasks[task]
    for callee in called:
        if callee not in seen:
            found = find_form(forms, callee, task, seen | {process})
            if found:
                return found
    return None


def form_problems(form: str, data: dict[str, Any], where: str) -> list[str]:
    schema = json.loads((BPMN / "forms" / form).read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [f"{where}: {form}: {'/'.join(map(str, e.path)) or '-'}: {e.message}" for e in validator.iter_errors(data)]
