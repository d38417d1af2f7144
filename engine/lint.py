"""Lint rules in the spirit of bpmnlint's recommended set, with messages in Chinese for process designers.

Validation (engine/validation.py) refuses what cannot run; lint finds what runs but misleads: disconnected
elements, missing start or end events, implicit splits, unlabelled or overlapping exclusive-gateway flows.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

from .errors import Problem
from .validation import NS, parse_safely

FLOW_NODES = ("task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
              "eventBasedGateway")
GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway")


def lint_bundle(files: dict[str, bytes]) -> list[Problem]:
    """Lint every executable process of the `.bpmn` files (files that do not parse are validation's to report)."""
    problems: list[Problem] = []
    for name, content in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        tree = parse_safely(name, content, [])
        if tree is None:
            continue
        for process in tree.getroot().findall("bpmn:process", NS):
            if process.get("isExecutable") == "true":
                problems.extend(_lint_process(name, process))
    return problems


def _lint_process(name: str, process: Any) -> list[Problem]:
    problems: list[Problem] = []

    nodes = [node for kind in FLOW_NODES for node in process.findall(f"bpmn:{kind}", NS)]
    labels = {node.get("id"): _label(node) for node in nodes}

    def add(node: Any, message: str) -> None:
        label = labels.get(node.get("id"), "")
        problems.append(Problem(name, node.sourceline, node.get("id"), f"{label}：{message}" if label else message))

    flows = process.findall("bpmn:sequenceFlow", NS)
    incoming: dict[str, list[Any]] = {}
    outgoing: dict[str, list[Any]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        incoming.setdefault(flow.get("targetRef"), []).append(flow)
    kinds = {node.get("id"): _local(node.tag) for node in nodes}
    if "startEvent" not in kinds.values():
        add(process, "流程没有开始事件")
    if "endEvent" not in kinds.values():
        add(process, "流程没有结束事件")
    for node in nodes:
        kind, node_id = kinds[node.get("id")], node.get("id")
        needs_in = kind not in ("startEvent", "boundaryEvent")
        needs_out = kind != "endEvent"
        if (needs_in and not incoming.get(node_id)) or (needs_out and not outgoing.get(node_id)):
            missing = "没有流入的顺序流" if needs_in and not incoming.get(node_id) else "没有流出的顺序流"
            add(node, f"元素未连通：{missing}")
        if kind not in GATEWAYS and len(outgoing.get(node_id, [])) > 1:
            add(node, "隐式分支：一个元素有多条流出的顺序流；请用网关表达分支")
        if kind == "exclusiveGateway" and len(outgoing.get(node_id, [])) > 1:
            problems.extend(_lint_exclusive(name, node, outgoing[node_id], labels))
    return problems


def _lint_exclusive(name: str, gateway: Any, out: list[Any], labels: dict[str, str]) -> list[Problem]:
    problems = []
    default = gateway.get("default")
    here = labels.get(gateway.get("id")) or "排他网关"
    for flow in out:
        if not (flow.get("name") or "").strip():
            target = labels.get(flow.get("targetRef")) or flow.get("targetRef")
            problems.append(Problem(name, flow.sourceline, flow.get("id"),
                                    f"{here}通往{target}的分支没有名称；请写明走这条路的情形"))
    conditions = []
    for flow in out:
        node = flow.find("bpmn:conditionExpression", NS)
        if flow.get("id") != default and node is not None:
            conditions.append((node.text or "").strip())
    if len(conditions) > 1 and not _disjoint(conditions):
        problems.append(Problem(name, gateway.sourceline, gateway.get("id"),
                                f"{here}：分支条件可能同时成立：排他网关按图中位置依次判断，移动图形会改变结果；请让条件互斥"))
    if default is None and not _exhaustive(conditions):
        problems.append(Problem(name, gateway.sourceline, gateway.get("id"),
                                f"{here}：排他网关没有默认流：所有条件都不成立时案件会出错；请设一条默认流"))
    return problems


def _label(node: Any) -> str:
    """How a designer knows an element: its name in 「」, or nothing when it has none."""
    text = (node.get("name") or "").strip()
    return f"「{text}」" if text else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Test(NamedTuple):
    """What a simple condition tests: one variable against constants, or its truth."""

    kind: str  # "values" (`x == c`, `x in (c, d)`) or "truth" (`x`, `not x`)
    name: str
    values: frozenset[Any]  # the constants, or {True} / {False} for the truth of the variable


def _disjoint(conditions: list[str]) -> bool:
    """Whether the conditions provably cannot hold together: equality or membership tests of one variable
    against distinct constants, or a variable and its negation."""
    tests = _tests_of(conditions)
    if tests is None:
        return False
    if all(test.kind == "truth" for test in tests):
        return _negation_pair(tests)
    if any(test.kind == "truth" for test in tests):
        return False
    seen: set[Any] = set()
    for test in tests:
        if seen & test.values:
            return False
        seen |= test.values
    return len({test.name for test in tests}) == 1


def _exhaustive(conditions: list[str]) -> bool:
    tests = _tests_of(conditions)
    return tests is not None and _negation_pair(tests)


def _negation_pair(tests: list[_Test]) -> bool:
    """Whether the tests are a variable and its negation (`x` and `not x`)."""
    return (len(tests) == 2 and all(test.kind == "truth" for test in tests)
            and tests[0].name == tests[1].name and tests[0].values != tests[1].values)


def _tests_of(conditions: list[str]) -> list[_Test] | None:
    """What each condition tests; None when one of them is not a simple test."""
    tests = []
    for text in conditions:
        test = _test_of(text)
        if test is None:
            return None
        tests.append(test)
    return tests


def _test_of(text: str) -> _Test | None:
    """What a condition tests, if it is one of `x == c`, `x in (c, d)`, `x` or `not x`."""
    try:
        expr = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(expr, ast.Name):
        return _Test("truth", expr.id, frozenset({True}))
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not) and isinstance(expr.operand, ast.Name):
        return _Test("truth", expr.operand.id, frozenset({False}))
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.left, ast.Name):
        try:
            value = ast.literal_eval(expr.comparators[0])
            if isinstance(expr.ops[0], ast.Eq):
                return _Test("values", expr.left.id, frozenset({value}))
            if isinstance(expr.ops[0], ast.In) and isinstance(value, tuple | list | set | frozenset):
                return _Test("values", expr.left.id, frozenset(value))
        except (ValueError, TypeError):  # not a constant, or one without a hash (`x == [1, 2]`)
            return None
    return None
