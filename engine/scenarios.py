"""Scenario tests of diagrams, written as data (YAML) a designer can read and extend, and flow coverage.

A scenario file names one process and lists scenarios:

    process: reception
    scenarios:
      - name: 当场答复
        start: {as: duty.secretary, at: "2026-03-02T09:00:00+08:00", data: {}}
        steps:
          - task: register_visit        # the open task of this element (or process/element)
            role: 坐班村支书             # the lane it must be in
            as: duty.secretary          # who completes it (default: the role)
            data: {petitioner_name: 张三}
          - advance: PT9H               # move the clock, firing timers on the way
          - message: {name: feedback, payload: {}, correlation: {}}
          - expect:
              open: [hear_claim]        # exactly these open tasks (element ids)
              data: {disposition: answer}  # a nested mapping matches on the keys it gives
              status: completed         # running / incident / completed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .clock import FixedClock
from .errors import EngineError, UnknownIncident
from .runtime import Engine
from .validation import NS

STEP_KINDS = ("task", "advance", "message", "expect")


class ScenarioError(EngineError):
    """A scenario file that cannot be read, or a step that does not say what to do."""


@dataclass
class Scenario:
    """One path through a process, with what must hold along the way."""

    file: str
    process: str
    name: str
    start: dict[str, Any]
    steps: list[dict[str, Any]]


@dataclass
class ScenarioResult:
    """How a scenario went: passed, or the step where it failed and why."""

    scenario: Scenario
    passed: bool
    message: str = ""
    step: int | None = None
    flows: list[str] = field(default_factory=list)
    case_id: int | None = None

    def __str__(self) -> str:
        where = f" (step {self.step})" if self.step is not None else ""
        verdict = "PASS" if self.passed else f"FAIL{where}: {self.message}"  # PASS/FAIL stay greppable
        return f"{self.scenario.file}: {self.scenario.name}: {verdict}"


def load_scenarios(folder: Path, skip: tuple[str, ...] = ()) -> list[Scenario]:
    """Read every `*.yaml` scenario file in a folder (but the files named in `skip`)."""
    scenarios: list[Scenario] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name in skip:
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ScenarioError(f"{path.name}：不是有效的 YAML：{error}") from error
        if not isinstance(doc, dict) or "process" not in doc or not isinstance(doc.get("scenarios"), list):
            raise ScenarioError(f"{path.name}：需要 `process:` 和 `scenarios:` 下的场景列表")
        for number, item in enumerate(doc["scenarios"], 1):
            if not isinstance(item, dict) or "name" not in item:
                raise ScenarioError(f"{path.name}：第 {number} 个场景缺少 `name:`")
            steps = item.get("steps") or []
            for index, step in enumerate(steps, 1):
                kinds = [k for k in STEP_KINDS if isinstance(step, dict) and k in step]
                if len(kinds) != 1:
                    raise ScenarioError(f"{path.name}：{item['name']}：第 {index} 步须是且只能是 "
                                        f"{'、'.join(STEP_KINDS)} 之一")
            scenarios.append(Scenario(path.name, str(doc["process"]), str(item["name"]),
                                      dict(item.get("start") or {}), list(steps)))
    return scenarios


class ScenarioFailed(Exception):
    """A scenario step did not do or show what it says."""


Check = Callable[[int, Any], None]  # (case id, expected value) -> raises ScenarioFailed


def run_scenario(scenario: Scenario, make_engine: Callable[[FixedClock], Engine], commit: Callable[[], None],
                 default_start: datetime, checks: dict[str, Check] | None = None) -> ScenarioResult:
    """Run one scenario on a fresh clock through the real engine; each step is committed like a real one.

    `checks` adds expectations the caller knows how to test (e.g. `case:` fields of a domain record).
    """
    start_at = _moment(scenario.start.get("at")) or default_start
    clock = FixedClock(start_at)
    engine = make_engine(clock)
    result = ScenarioResult(scenario, passed=False, step=0)
    try:
        started = engine.start(scenario.process, scenario.start.get("data") or {},
                               str(scenario.start.get("as", "scenario")))
        commit()
        case_id = result.case_id = started.instance.id
        for number, step in enumerate(scenario.steps, 1):
            result.step = number
            _run_step(engine, clock, case_id, step, checks or {})
            commit()
        result.passed, result.step = True, None
    except (ScenarioFailed, EngineError) as error:
        result.message = str(error).splitlines()[0]
    if result.case_id is not None:
        result.flows = engine.taken_flows(result.case_id)
    return result


def _run_step(engine: Engine, clock: FixedClock, case_id: int, step: dict[str, Any],
              checks: dict[str, Check]) -> None:
    if "task" in step:
        element = str(step["task"])
        matches = [t for t in engine.open_tasks(case_id)
                   if t.element_id == element or t.ref.startswith(f"{element}#")]
        if not matches:
            open_now = "、".join(f"「{t.name}」（{t.element_id}）" if t.name else t.element_id
                                for t in engine.open_tasks(case_id)) or "无"
            raise ScenarioFailed(f"没有待办任务 '{element}'（当前待办：{open_now}）")
        task = matches[0]
        role = step.get("role")
        if role is not None and task.lane != role:
            raise ScenarioFailed(f"任务 '{element}' 在泳道 '{task.lane}'，不是 '{role}'")
        outcome = engine.complete_task(task.id, step.get("data") or {}, str(step.get("as") or role or "scenario"))
        if outcome.incident is not None and not step.get("incident"):
            raise ScenarioFailed(f"'{element}' 出现故障：{outcome.incident.message}")
    elif "advance" in step:
        text = str(step["advance"])
        try:
            parsed = TimerEventDefinition.parse_iso_duration(text)
        except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
            raise ScenarioFailed(f"'{text}' 不是 ISO 8601 时长") from error
        target = clock.now() + TimerEventDefinition.get_timedelta_from_start(parsed, clock.now())
        engine.run_until(target, clock.set)
    elif "message" in step:
        message = step["message"] or {}
        engine.deliver_message(str(message.get("name")), message.get("payload") or {},
                               message.get("correlation") or {}, str(message.get("as", "scenario")))
    else:
        _check(engine, case_id, step["expect"] or {}, checks)


def _incident_note(engine: Engine, case_id: int) -> str:
    """Why a case stopped, when a failure stopped it (a designer reads this beside the unmet expectation)."""
    try:
        incident = engine.open_incident(case_id)
    except UnknownIncident:
        return ""
    return f"（'{incident.element_id or '?'}' 出现故障：{incident.message}）"


def _check(engine: Engine, case_id: int, expect: dict[str, Any], checks: dict[str, Check]) -> None:
    unknown = set(expect) - {"open", "status", "data", "counts"} - set(checks)
    if unknown:
        raise ScenarioFailed(f"未知的检查项：{'、'.join(sorted(unknown))}")
    for key, check in checks.items():
        if key in expect:
            check(case_id, expect[key])
    if "open" in expect:
        found = sorted(t.element_id for t in engine.open_tasks(case_id))
        wanted = sorted(str(e) for e in expect["open"] or [])
        if found != wanted:
            raise ScenarioFailed(f"待办任务是 {found or '无'}，应为 {wanted or '无'}{_incident_note(engine, case_id)}")
    if "status" in expect:
        status = engine.instance(case_id).status
        if status != expect["status"]:
            raise ScenarioFailed(f"案件状态是 {status}，应为 {expect['status']}")
    if "data" in expect:
        data = engine.case_data(case_id)
        for key, value in (expect["data"] or {}).items():
            if not matches(data.get(key), value):
                raise ScenarioFailed(f"案件数据 {key} 是 {data.get(key)!r}，应为 {value!r}")
    if "counts" in expect:
        counts = engine.element_counts(case_id)
        for element, times in (expect["counts"] or {}).items():
            if counts.get(element, 0) != times:
                raise ScenarioFailed(f"{element} 运行了 {counts.get(element, 0)} 次，应为 {times} 次")


def matches(found: Any, wanted: Any) -> bool:
    """Equal values; an expected mapping only needs the keys it names (so a scenario can pick a few figures)."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(k in found and matches(found[k], v) for k, v in wanted.items())
    return bool(found == wanted)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Flow:
    """A sequence flow of a diagram."""

    file: str
    process: str
    id: str
    source: str
    target: str
    name: str | None

    @property
    def edge(self) -> str:
        return f"{self.process}:{self.source}->{self.target}"

    def __str__(self) -> str:
        label = f" ({self.name})" if self.name else ""
        return f"{self.file}: {self.process}: {self.id}{label}: {self.source} → {self.target}"


def sequence_flows(files: dict[str, bytes]) -> list[Flow]:
    """Every sequence flow of every executable process in the given `.bpmn` files."""
    flows = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for name, content in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        root = etree.fromstring(content, parser)
        for process in root.findall("bpmn:process", NS):
            if process.get("isExecutable") != "true":
                continue
            for flow in process.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
                flows.append(Flow(name, process.get("id"), flow.get("id"), flow.get("sourceRef"),
                                  flow.get("targetRef"), flow.get("name")))
    return flows


def untaken_flows(flows: list[Flow], taken: set[str]) -> list[Flow]:
    """The flows no scenario took."""
    return [flow for flow in flows if flow.edge not in taken]
