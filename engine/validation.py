"""Check a set of BPMN files before anything runs them, and say what is wrong in plain words."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .errors import Problem
from .markup import active_markup
from .messages import schema_error, xml_syntax
from .sandbox import check_source

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
FORM_PROPERTY = "formJsonSchemaFilename"
MAX_FILE_BYTES = 5 * 1024 * 1024

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_BARE_ISO = re.compile(r"^(R\d*/|P(\d|T)|\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
_TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
_KIND_NAMES = {"date": "日期", "duration": "时长", "cycle": "周期"}
_ENDS = {"sourceRef": "起点 sourceRef", "targetRef": "终点 targetRef"}
_WHAT = {"condition": "条件", "script": "脚本"}


@dataclass
class ParsedProcess:
    """An executable process ready to be stored as a version."""

    process_id: str
    name: str | None
    file_name: str
    spec: Any
    subprocess_specs: dict[str, Any]


@dataclass
class ValidationResult:
    """What validation found: problems, and the processes it could parse."""

    problems: list[Problem] = field(default_factory=list)
    processes: dict[str, ParsedProcess] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_bundle(files: dict[str, bytes], lanes: set[str] | None = None) -> ValidationResult:
    """Validate `.bpmn` files (and the form files they reference) given as name → content."""
    result = ValidationResult()
    forms = {PurePath(name).name: content for name, content in files.items() if name.endswith(".json")}
    trees: dict[str, Any] = {}
    for name, content in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        tree = parse_safely(name, content, result.problems)
        if tree is None:
            continue
        if not _schema_valid(name, tree, result.problems):
            continue
        trees[name] = tree
        _check_structure(name, tree, forms, lanes, result.problems)
    if not trees and not result.problems:
        result.problems.append(Problem("-", None, None, "没有给出 .bpmn 文件"))
    if result.problems:
        return result
    _parse_with_spiff(trees, result)
    return result


def parse_safely(name: str, content: bytes, problems: list[Problem]) -> Any:
    if len(content) > MAX_FILE_BYTES:
        problems.append(Problem(name, None, None, f"文件有 {len(content)} 字节，超过上限 {MAX_FILE_BYTES} 字节"))
        return None
    match = _DECLARATION.search(content)
    if match:
        line = content[: match.start()].count(b"\n") + 1
        problems.append(Problem(name, line, None,
                                f"文件声明了 {match.group(1).decode().upper()}；BPMN 文件不得声明 DOCTYPE 或实体"
                                "（它们可读取本机文件或无限展开）"))
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        problems.append(Problem(name, error.lineno, None, f"文件不是格式正确的 XML：{xml_syntax(error.msg)}"))
        return None
    if root.getroottree().docinfo.doctype:  # declared in an encoding the byte search cannot read (UTF-16)
        problems.append(Problem(name, 1, None, "文件声明了 DOCTYPE；BPMN 文件不得声明 DOCTYPE 或实体"
                                "（它们可读取本机文件或无限展开）"))
        return None
    if root.tag != f"{{{BPMN}}}definitions":
        problems.append(Problem(name, root.sourceline, None,
                                "这不是 BPMN 2.0 文件：根元素必须是 bpmn:definitions"))
        return None
    executable = active_markup(name, root)
    if executable:
        problems.extend(executable)
        return None
    return etree.ElementTree(root)


def _schema_valid(name: str, tree: Any, problems: list[Problem]) -> bool:
    VALIDATOR.preprocess(tree)
    schema = VALIDATOR.validator
    if schema.validate(tree):
        return True
    for entry in schema.error_log:
        message = schema_message(entry.message)
        problems.append(Problem(name, entry.line, None, f"不符合 BPMN 2.0 规范（XSD）：{message}"))
    return False


def schema_message(message: str) -> str:
    """An XSD message of lxml in Chinese, without the namespace URIs."""
    return schema_error(re.sub(r"\{[^}]*\}", "", message))


def _check_structure(name: str, tree: Any, forms: dict[str, bytes], lanes: set[str] | None,
                     problems: list[Problem]) -> None:
    root = tree.getroot()
    processes = root.findall("bpmn:process", NS)
    if not any(p.get("isExecutable") == "true" for p in processes):
        problems.append(Problem(name, root.sourceline, None,
                                "没有可执行流程：Doorstep 只运行标记为 isExecutable=\"true\" 的流程"))
    for process in processes:
        if process.get("isExecutable") != "true":
            continue
        _check_process(name, process, forms, lanes, problems)


def _check_process(name: str, process: Any, forms: dict[str, bytes], lanes: set[str] | None,
                   problems: list[Problem]) -> None:
    def add(node: Any, message: str) -> None:
        problems.append(Problem(name, node.sourceline, node.get("id"), message))

    ids = {node.get("id") for node in process.iter() if node.get("id")}
    flows = process.findall(".//bpmn:sequenceFlow", NS)
    for flow in flows:
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids:
                add(flow, f"顺序流的{_ENDS[end]} '{ref}' 不是流程 '{process.get('id')}' 中的元素")
    outgoing: dict[str, list[Any]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
    for kind in _GATEWAYS:
        for gateway in process.findall(f".//bpmn:{kind}", NS):
            out = outgoing.get(gateway.get("id"), [])
            if len(out) < 2:
                continue
            default = gateway.get("default")
            unconditioned = [f.get("id") for f in out
                             if f.get("id") != default and f.find("bpmn:conditionExpression", NS) is None]
            if unconditioned:
                add(gateway, f"网关分支 {', '.join(unconditioned)} 既没有条件也不是默认流；请为每条分支写条件，"
                             "或把其中一条设为默认流")
    for flow in flows:
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is not None:
            _check_code(name, flow, condition, condition.text or "", "eval", "condition", problems)
    for script_task in process.findall(".//bpmn:scriptTask", NS):
        script = script_task.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            add(script_task, "脚本任务没有脚本")
        else:
            _check_code(name, script_task, script, script.text or "", "exec", "script", problems)
    for kind, label in _TIMER_KINDS.items():
        for timer in process.findall(f".//bpmn:timerEventDefinition/bpmn:{kind}", NS):
            _check_timer(name, timer.getparent().getparent(), timer, label, problems)
    for user_task in process.findall(".//bpmn:userTask", NS):
        for prop in user_task.findall(".//spiffworkflow:property", NS):
            if prop.get("name") == FORM_PROPERTY:
                _check_form(name, user_task, prop.get("value") or "", forms, problems)
    if lanes is not None:
        for lane in process.findall(".//bpmn:lane", NS):
            if (lane.get("name") or "") not in lanes:
                add(lane, f"泳道 '{lane.get('name')}' 不是已知角色；已知角色：{'、'.join(sorted(lanes))}")


def _check_code(name: str, owner: Any, node: Any, source: str, mode: str, what: str,
                problems: list[Problem]) -> None:
    for offset, message in check_source(source.strip() if mode == "eval" else source, mode):
        line = (node.sourceline or 0) + offset - 1 if node.sourceline else None
        problems.append(Problem(name, line, owner.get("id"), f"{_WHAT[what]}：{message}"))


def _check_timer(name: str, event: Any, node: Any, kind: str, problems: list[Problem]) -> None:
    source = (node.text or "").strip()
    element = event.get("id")
    if not source:
        problems.append(Problem(name, node.sourceline, element, f"定时器的{_KIND_NAMES[kind]}表达式为空"))
        return
    if _BARE_ISO.match(source):
        problems.append(Problem(name, node.sourceline, element,
                                f"定时器{_KIND_NAMES[kind]} {source} 会被当作 Python 表达式读取，定时器启动时才会出错；"
                                f"请加引号：\"{source}\""))
        return
    problems.extend(Problem(name, node.sourceline, element, f"定时器：{message}")
                    for _line, message in check_source(source, "eval"))
    try:
        literal = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return  # an expression over case data: checked when the timer starts
    if not isinstance(literal, str):
        problems.append(Problem(name, node.sourceline, element, f"定时器{_KIND_NAMES[kind]}必须是 ISO 8601 字符串"))
        return
    try:
        if kind == "duration":
            TimerEventDefinition.parse_iso_duration(literal)
        elif kind == "date":
            TimerEventDefinition.get_datetime(literal)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(literal)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad ISO values
        problems.append(Problem(name, node.sourceline, element, f"'{literal}' 不是有效的 ISO 8601 {_KIND_NAMES[kind]}"))


def _check_form(name: str, task: Any, form: str, forms: dict[str, bytes], problems: list[Problem]) -> None:
    element = task.get("id")
    if form not in forms:
        problems.append(Problem(name, task.sourceline, element, f"表单文件 '{form}' 不存在"))
        return
    try:
        schema = json.loads(forms[form])
    except ValueError as error:
        problems.append(Problem(form, getattr(error, "lineno", None), element, f"表单不是有效的 JSON：{error}"))
        return
    if not isinstance(schema, dict) or schema.get("type") != "object":
        problems.append(Problem(form, None, element, "表单必须是 \"type\": \"object\" 的 JSON Schema"))
        return
    text = forms[form].decode("utf-8", "replace")
    problems.extend(Problem(form, _line_of(text, f'"{prop}"'), element, message)
                    for prop, message in unbounded_fields(form, schema))


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def unbounded_fields(form: str, schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Say which fields of a form schema accept input of any size: a text without `maxLength`, a number
    without `minimum` and `maximum` (fixed choices, `enum` or `const`, are bounded by their choices)."""
    messages: list[tuple[str, str]] = []
    title = schema.get("title") or form
    properties = schema.get("properties") or {}
    for prop, spec in properties.items() if isinstance(properties, dict) else ():
        if not isinstance(spec, dict):
            continue
        label = f"表单“{title}”（{form}）的字段“{spec.get('title') or prop}”（{prop}）"
        items = spec.get("items")
        value: dict[str, Any] = items if spec.get("type") == "array" and isinstance(items, dict) else spec
        if "enum" in value or "const" in value:
            continue
        kinds = value.get("type", "string")
        kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        if "string" in kinds and "maxLength" not in value:
            messages.append((prop, f"{label}没有最大长度 maxLength：文字字段必须限定字数"
                                   "（如姓名 50、诉求 3000、说明 2000）"))
        if kinds & {"integer", "number"} and not {"minimum", "maximum"} <= value.keys():
            messages.append((prop, f"{label}没有取值范围：数字字段必须写明 minimum 和 maximum"))
    return messages


def _parse_with_spiff(trees: dict[str, Any], result: ValidationResult) -> None:
    parser = SpiffBpmnParser()
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(tree, filename=name)
        except (ValidationException, SpiffWorkflowException) as error:
            result.problems.append(_from_spiff(name, error))
            return
    names = {pid: (file, node.get("name")) for file, tree in trees.items()
             for node in tree.getroot().findall("bpmn:process", NS) for pid in [node.get("id")]
             if node.get("isExecutable") == "true"}
    for process_id, (file_name, process_name) in sorted(names.items()):
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except (ValidationException, SpiffWorkflowException) as error:
            result.problems.append(_from_spiff(file_name, error))
            continue
        except Exception as error:  # noqa: BLE001 - turn any parser crash into a located message
            result.problems.append(Problem(file_name, None, process_id,
                                           f"SpiffWorkflow 无法构建此流程：{error}"))
            continue
        result.processes[process_id] = ParsedProcess(process_id, process_name, file_name, spec, subprocess_specs)


def _from_spiff(file_name: str, error: Exception) -> Problem:
    message = str(error).split("\n")[0]
    if "perhaps a form has the same ID" in message:
        message = "有顺序流指向不存在的元素"
    line = getattr(error, "line_number", None)
    return Problem(getattr(error, "file_name", None) or file_name, line if isinstance(line, int) else None,
                   getattr(error, "id", None) or None, message)
