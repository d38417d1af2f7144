"""Scripts, conditions and timer expressions run restricted: helpers work, escapes are refused at run time."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
import engine.validation
from engine import INCIDENT

from .diagrams import bundle, edit, text


def describe(share: float) -> str:
    return f"{share:.0%} of the total"


@pytest.fixture
def past_our_checks(monkeypatch):
    """Deploy as if our static checks had missed the code (an older Doorstep, a hand-edited database)."""
    monkeypatch.setattr(engine.validation, "_check_structure", lambda *_args: None)


def test_a_script_calls_a_helper_and_reads_the_engine_clock(deploy, engine_, session, clock):
    deploy("script.bpmn")
    eng = engine_(helpers={"describe": describe})
    instance = eng.start("scripted", {}, "clerk").instance
    (enter,) = eng.open_tasks(instance.id)
    eng.complete_task(enter.id, {"total": 10, "count": 4}, "clerk")
    session.commit()
    data = eng.case_data(instance.id)
    assert data["share"] == 2.5
    assert data["label"] == "250% of the total"
    assert data["stamp"] == clock.now().isoformat()  # now() is the FixedClock's time, not the machine's
    assert [t.element_id for t in eng.open_tasks(instance.id)] == ["confirm"]


def test_the_clock_helper_follows_the_clock(deploy, engine_, session, clock):
    deploy("script.bpmn")
    eng = engine_(helpers={"describe": describe})
    instance = eng.start("scripted", {}, "clerk").instance
    later = clock.now().replace(year=2031)
    clock.set(later)
    eng.complete_task(eng.open_tasks(instance.id)[0].id, {"total": 1, "count": 1}, "clerk")
    assert eng.case_data(instance.id)["stamp"] == later.isoformat()


def start_choose(eng, session, condition_data: dict) -> tuple[int, engine.StepResult]:
    instance = eng.start("choose", condition_data, "clerk").instance
    (classify,) = eng.open_tasks(instance.id)
    result = eng.complete_task(classify.id, {"track": "simple"}, "clerk")
    session.commit()
    return instance.id, result


def choose_with(condition: str) -> dict[str, bytes]:
    return {"gateway.bpmn": edit(text("gateway.bpmn"), 'track == "simple"', condition).encode()}


def test_a_data_driven_format_escape_is_refused_at_run_time(deploy, engine_, session):
    # Nothing in the condition is suspicious; the attack is in the data it formats.
    deploy(files=choose_with('template.format(track) == "x"'))
    eng = engine_()
    instance_id, result = start_choose(eng, session, {"template": "{0.__class__.__base__.__subclasses__}"})
    assert eng.instance(instance_id).status == INCIDENT
    assert result.incident is not None
    assert result.incident.element_id == "which"
    assert "format" in result.incident.message and "not safe" in result.incident.message
    assert eng.open_tasks(instance_id) == []


def test_a_dunder_condition_is_refused_before_anything_runs(deploy, engine_, session, past_our_checks):
    touched: list[str] = []
    condition = 'touch() and ().__class__.__base__.__subclasses__() != []'
    deploy(files=choose_with(condition))
    eng = engine_(helpers={"touch": lambda: touched.append("ran") or True})
    instance_id, result = start_choose(eng, session, {})
    assert result.incident is not None
    assert '以 "_" 开头的名称' in result.incident.message
    assert touched == []  # refused at compile time: no part of the expression ran
    assert eng.instance(instance_id).status == INCIDENT


def test_open_in_a_condition_is_refused(deploy, engine_, session, past_our_checks, tmp_path: Path):
    target = tmp_path / "written-by-a-condition"
    deploy(files=choose_with(f'open({str(target)!r}, "w") is not None'))
    eng = engine_()
    _instance_id, result = start_choose(eng, session, {})
    assert result.incident is not None
    assert "不允许使用 open()" in result.incident.message
    assert not target.exists()


def test_an_import_in_a_timer_expression_is_refused(deploy, engine_, session, past_our_checks):
    files = {"timers.bpmn": edit(text("timers.bpmn"), '"P2D"', "__import__('os').getcwd() and \"P2D\"").encode(),
             **bundle("answer.json")}
    deploy(files=files)
    eng = engine_()
    result = eng.start("timed", {}, "clerk")
    session.commit()
    assert result.incident is not None
    assert result.incident.element_id == "overdue"
    assert '"__import__"' in result.incident.message
    assert result.instance.status == INCIDENT
    assert result.instance.next_timer_at is None


@pytest.mark.parametrize(("code", "reason"), [
    ("import os", "不允许使用 __import__()"),
    ("secret = open('/etc/hostname').read()", "不允许使用 open()"),
    ("os = __import__('os')", '以 "_" 开头的名称 "__import__"'),
    ("kinds = ().__class__.__base__.__subclasses__()", '以 "_" 开头的名称'),
    ("g = getattr(total, 'real')", "不允许使用 getattr()"),
])
def test_a_script_escape_is_refused_at_run_time(deploy, engine_, session, past_our_checks, code, reason):
    deploy(files={"script.bpmn": edit(text("script.bpmn"), "stamp = now()", code).encode()})
    eng = engine_(helpers={"describe": describe})
    instance = eng.start("scripted", {}, "clerk").instance
    result = eng.complete_task(eng.open_tasks(instance.id)[0].id, {"total": 1, "count": 1}, "clerk")
    session.commit()
    assert result.incident is not None
    assert result.incident.element_id == "compute"
    assert reason in result.incident.message
    assert result.incident.line == 1
    assert "secret" not in eng.case_data(instance.id) and "os" not in eng.case_data(instance.id)


def test_case_data_cannot_shadow_a_helper(deploy, engine_, session):
    deploy("script.bpmn")
    eng = engine_(helpers={"describe": describe})
    instance = eng.start("scripted", {"describe": "my own text"}, "clerk").instance
    result = eng.complete_task(eng.open_tasks(instance.id)[0].id, {"total": 1, "count": 1}, "clerk")
    assert result.incident is not None
    assert "describe" in result.incident.message
