"""Diagram code is bounded in time and memory: exceeding either becomes an incident naming the element."""

from __future__ import annotations

import pytest

import engine
from engine import INCIDENT

from .diagrams import edit, text

# Small limits keep the test fast; the defaults (1 s, 64 MB) are settings of the deployment.
LIMITS = engine.ScriptLimits(seconds=0.2, memory_bytes=8 * 1024 * 1024)


def deploy_script(deploy, code: str) -> None:
    deploy(files={"script.bpmn": edit(text("script.bpmn"), "stamp = now()", code).encode()})


def run_script(session, clock, specs) -> engine.StepResult:
    eng = engine.Engine(session, clock, specs, helpers={"describe": str}, script_limits=LIMITS)
    instance = eng.start("scripted", {}, "clerk").instance
    result = eng.complete_task(eng.open_tasks(instance.id)[0].id, {"total": 1, "count": 1}, "clerk")
    session.commit()
    return result


@pytest.mark.parametrize(("code", "reason"), [
    ("while True:\n    pass", "时间上限"),
    ("spin = [i for i in range(10 ** 12)]", "时间上限"),
    ("blob = 'x' * 200_000_000", "内存超过 8 MB"),
    ("huge = 7 ** 10 ** 9", "内存超过 8 MB"),
    ("grown = []\nwhile True:\n    grown.append('x' * 100_000 + str(len(grown)))", "内存超过 8 MB"),
])
def test_a_script_over_its_limit_becomes_an_incident_on_its_element(deploy, session, clock, specs, code, reason):
    deploy_script(deploy, code)
    result = run_script(session, clock, specs)
    assert result.incident is not None
    assert result.incident.element_id == "compute"
    assert reason in result.incident.message
    assert result.instance.status == INCIDENT


def test_a_condition_that_never_ends_is_stopped_too(deploy, session, clock, specs):
    deploy(files={"gateway.bpmn": edit(text("gateway.bpmn"), 'track == "simple"',
                                       'track == "simple" and len([i for i in range(10 ** 12)]) &gt; 0').encode()})
    eng = engine.Engine(session, clock, specs, script_limits=LIMITS)
    instance = eng.start("choose", {}, "clerk").instance
    result = eng.complete_task(eng.open_tasks(instance.id)[0].id, {"track": "simple"}, "clerk")
    assert result.incident is not None
    assert result.incident.element_id == "which"
    assert "时间上限" in result.incident.message


def test_a_script_within_its_limits_runs_as_before(deploy, session, clock, specs):
    deploy_script(deploy, "stamp = len('ab' * 1000) * 2 ** 10")
    result = run_script(session, clock, specs)
    assert result.incident is None
    assert result.data["stamp"] == 2000 * 1024

