"""Lint rules: what runs but misleads a designer, reported on the element in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import read_bundle
from engine.lint import lint_bundle

ROOT = Path(__file__).resolve().parents[2]
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
        '20100524/MODEL" id="d" targetNamespace="http://doorstep.test/lint">\n'
        '<bpmn:process id="p" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def lint(body: str) -> list[tuple[str | None, str]]:
    return [(p.element, p.message) for p in lint_bundle({"p.bpmn": (HEAD + body + TAIL).encode()})]


START_END = ('<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>'
             '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
             '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>')


def test_a_clean_process_has_no_problem() -> None:
    assert lint(START_END) == []


def test_missing_start_and_end_events_are_reported() -> None:
    found = lint('<bpmn:userTask id="t"/>')
    assert ("p", "流程没有开始事件") in found and ("p", "流程没有结束事件") in found


def test_a_disconnected_element_is_reported() -> None:
    found = lint(START_END + '<bpmn:userTask id="lonely"/>')
    assert [m for e, m in found if e == "lonely"] == ["元素未连通：没有流入的顺序流"]


def test_an_implicit_split_is_reported() -> None:
    body = START_END + '<bpmn:endEvent id="e2"/><bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e2"/>'
    assert ("t", "隐式分支：一个元素有多条流出的顺序流；请用网关表达分支") in lint(body)


def gateway(conditions: list[str], default: bool = True, names: bool = True) -> str:
    """A start event into an exclusive gateway with one conditional flow per condition (and a default)."""
    parts = ['<bpmn:startEvent id="s"/>', '<bpmn:exclusiveGateway id="g" default="d"/>' if default
             else '<bpmn:exclusiveGateway id="g"/>', '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="g"/>']
    for i, condition in enumerate(conditions):
        label = f' name="分支{i}"' if names else ""
        parts.append(f'<bpmn:endEvent id="e{i}"/><bpmn:sequenceFlow id="c{i}" sourceRef="g" targetRef="e{i}"{label}>'
                     f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
                     )
    if default:
        parts.append('<bpmn:endEvent id="ed"/><bpmn:sequenceFlow id="d" sourceRef="g" targetRef="ed" name="其他"/>')
    return "".join(parts)


@pytest.mark.parametrize("conditions", [['kind == "a"', 'kind == "b"'], ['kind in ("a", "b")', 'kind == "c"'],
                                        ["approved", "not approved"]])
def test_exclusive_conditions_that_cannot_overlap_pass(conditions: list[str]) -> None:
    assert lint(gateway(conditions)) == []


@pytest.mark.parametrize("conditions", [['kind == "a"', 'kind in ("a", "b")'], ["score > 5", "score > 8"],
                                        ['kind == "a"', 'other == "b"'], ['kinds == ["a"]', 'kinds == ["b"]'],
                                        ['kind in (["a"], "b")', 'kind == "c"']])
def test_exclusive_conditions_that_may_overlap_are_reported(conditions: list[str]) -> None:
    assert [e for e, m in lint(gateway(conditions)) if "可能同时成立" in m] == ["g"]


def test_an_exclusive_gateway_without_default_or_exhaustive_conditions_is_reported() -> None:
    assert [e for e, m in lint(gateway(['kind == "a"', 'kind == "b"'], default=False)) if "没有默认流" in m] == ["g"]
    assert lint(gateway(["approved", "not approved"], default=False)) == []


def test_unlabelled_exclusive_flows_are_reported_on_the_flow() -> None:
    found = lint(gateway(['kind == "a"', 'kind == "b"'], names=False))
    assert sorted(e for e, m in found if "没有名称" in m) == ["c0", "c1"]


def test_the_process_library_is_lint_clean_and_foreign_diagrams_do_not_crash_it() -> None:
    assert [str(p) for p in lint_bundle(read_bundle([ROOT / "bpmn"]))] == []
    miwg = ROOT.parent / "shared" / "external" / "bpmn-miwg"
    if miwg.is_dir():
        for path in sorted(miwg.glob("*.bpmn")):
            lint_bundle({path.name: path.read_bytes()})
