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
        tree = _parse_safely(name, content, result.problems)
        if tree is None:
            continue
        if not _schema_valid(name, tree, result.problems):
            continue
        trees[name] = tree
        _check_structure(name, tree, forms, lanes, result.problems)
    if not trees and not result.problems:
        result.problems.append(Problem("-", None, None, "no .bpmn file was given"))
    if result.problems:
        return result
    _parse_with_spiff(trees, result)
    return result


def _parse_safely(name: str, content: bytes, problems: list[Problem]) -> Any:
    if len(content) > MAX_FILE_BYTES:
        problems.append(Problem(name, None, None, f"the file is {len(content)} bytes; the limit is {MAX_FILE_BYTES}"))
        return None
    match = _DECLARATION.search(content)
    if match:
        line = content[: match.start()].count(b"\n") + 1
        problems.append(Problem(name, line, None,
                                f"the file declares a {match.group(1).decode().upper()}; BPMN files may not declare "
                                "DOCTYPEs or entities (they can read local files or expand without limit)"))
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        problems.append(Problem(name, error.lineno, None, f"the file is not well-formed XML: {error.msg}"))
        return None
    if root.getroottree().docinfo.doctype:  # declared in an encoding the byte search cannot read (UTF-16)
        problems.append(Problem(name, 1, None, "the file declares a DOCTYPE; BPMN files may not declare DOCTYPEs "
                                "or entities (they can read local files or expand without limit)"))
        return None
    if root.tag != f"{{{BPMN}}}definitions":
        problems.append(Problem(name, root.sourceline, None,
                                "this is not a BPMN 2.0 file: its root element must be bpmn:definitions"))
        return None
    return etree.ElementTree(root)


def _schema_valid(name: str, tree: Any, problems: list[Problem]) -> bool:
    VALIDATOR.preprocess(tree)
    schema = VALIDATOR.validator
    if schema.validate(tree):
        return True
    for entry in schema.error_log:
        message = _schema_message(entry.message)
        problems.append(Problem(name, entry.line, None, f"does not follow the BPMN 2.0 schema: {message}"))
    return False


def _schema_message(message: str) -> str:
    return re.sub(r"\{[^}]*\}", "", message)


def _check_structure(name: str, tree: Any, forms: dict[str, bytes], lanes: set[str] | None,
                     problems: list[Problem]) -> None:
    root = tree.getroot()
    processes = root.findall("bpmn:process", NS)
    if not any(p.get("isExecutable") == "true" for p in processes):
        problems.append(Problem(name, root.sourceline, None,
                                "no executable process: Doorstep only runs processes marked isExecutable=\"true\""))
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
                add(flow, f"the sequence flow's {end} '{ref}' is not an element of process '{process.get('id')}'")
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
                add(gateway, f"the gateway splits but flow(s) {', '.join(unconditioned)} have no condition and "
                             "are not the default flow; give each a condition or mark one as default")
    for flow in flows:
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is not None:
            _check_code(name, flow, condition, condition.text or "", "eval", "condition", problems)
    for script_task in process.findall(".//bpmn:scriptTask", NS):
        script = script_task.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            add(script_task, "the script task has no script")
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
                add(lane, f"the lane '{lane.get('name')}' is not a known role; known roles: {', '.join(sorted(lanes))}")


def _check_code(name: str, owner: Any, node: Any, source: str, mode: str, what: str,
                problems: list[Problem]) -> None:
    for offset, message in check_source(source.strip() if mode == "eval" else source, mode):
        line = (node.sourceline or 0) + offset - 1 if node.sourceline else None
        problems.append(Problem(name, line, owner.get("id"), f"{what}: {message}"))


def _check_timer(name: str, event: Any, node: Any, kind: str, problems: list[Problem]) -> None:
    source = (node.text or "").strip()
    element = event.get("id")
    if not source:
        problems.append(Problem(name, node.sourceline, element, f"the timer has an empty {kind} expression"))
        return
    if _BARE_ISO.match(source):
        problems.append(Problem(name, node.sourceline, element,
                                f"the timer {kind} {source} is read as Python and fails when the timer starts; "
                                f"quote it: \"{source}\""))
        return
    problems.extend(Problem(name, node.sourceline, element, f"timer: {message}")
                    for _line, message in check_source(source, "eval"))
    try:
        literal = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return  # an expression over case data: checked when the timer starts
    if not isinstance(literal, str):
        problems.append(Problem(name, node.sourceline, element, f"the timer {kind} must be an ISO 8601 string"))
        return
    try:
        if kind == "duration":
            TimerEventDefinition.parse_iso_duration(literal)
        elif kind == "date":
            TimerEventDefinition.get_datetime(literal)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(literal)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad ISO values
        problems.append(Problem(name, node.sourceline, element, f"'{literal}' is not a valid ISO 8601 {kind}"))


def _check_form(name: str, task: Any, form: str, forms: dict[str, bytes], problems: list[Problem]) -> None:
    element = task.get("id")
    if form not in forms:
        problems.append(Problem(name, task.sourceline, element, f"the form file '{form}' does not exist"))
        return
    try:
        schema = json.loads(forms[form])
    except ValueError as error:
        problems.append(Problem(form, getattr(error, "lineno", None), element, f"the form is not valid JSON: {error}"))
        return
    if not isinstance(schema, dict) or schema.get("type") != "object":
        problems.append(Problem(form, None, element, "the form must be a JSON Schema with \"type\": \"object\""))


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
                                           f"SpiffWorkflow cannot build this process: {error}"))
            continue
        result.processes[process_id] = ParsedProcess(process_id, process_name, file_name, spec, subprocess_specs)


def _from_spiff(file_name: str, error: Exception) -> Problem:
    message = str(error).split("\n")[0]
    if "perhaps a form has the same ID" in message:
        message = "a sequence flow points to an element that does not exist"
    line = getattr(error, "line_number", None)
    return Problem(getattr(error, "file_name", None) or file_name, line if isinstance(line, int) else None,
                   getattr(error, "id", None) or None, message)
