"""Validation answers every diagram with located, plain-word problems (or processes), never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine
from engine.validation import ValidationResult

from .diagrams import DATA, edit, line_of, text

MIWG = Path("/work/shared/external/bpmn-miwg")
LOCATED = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): (?P<element>\S+): (?P<message>\S.*)$")


def validate(files: dict[str, str | bytes], lanes: set[str] | None = None) -> ValidationResult:
    return engine.validate_bundle({name: body.encode() if isinstance(body, str) else body
                                   for name, body in files.items()}, lanes)


def only_problem(result: ValidationResult) -> engine.Problem:
    assert not result.ok
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    problem = result.problems[0]
    match = LOCATED.match(str(problem))
    assert match, f"not 'file:line: element: message': {problem}"
    assert "Traceback" not in str(problem)
    return problem


def timed_with(expression: str) -> dict[str, str | bytes]:
    return {"timers.bpmn": edit(text("timers.bpmn"), '"P2D"', expression),
            "answer.json": (DATA / "answer.json").read_bytes()}


def scripted_with(first_line: str) -> str:
    return edit(text("script.bpmn"), "stamp = now()", first_line)


def test_the_test_diagrams_are_valid():
    result = engine.validate_bundle(engine.read_bundle([DATA]))
    assert result.problems == []
    assert {"timed", "await_reply", "scripted", "choose", "both", "parent", "child", "loop"} <= set(result.processes)


def test_malformed_xml_is_located_by_line_without_an_lxml_traceback():
    source = edit(text("gateway.bpmn"), '<bpmn:endEvent id="end_simple">', '<bpmn:endEvent id="end_simple"')
    problem = only_problem(validate({"gateway.bpmn": source}))
    assert problem.file == "gateway.bpmn"
    assert problem.line == line_of(source, 'id="end_simple"')
    assert problem.message.startswith("文件不是格式正确的 XML")
    assert "lxml" not in str(problem)


def test_a_doctype_with_an_external_entity_is_refused():
    source = edit(text("gateway.bpmn"), '<bpmn:definitions',
                  '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<bpmn:definitions')
    source = edit(source, '<bpmn:incoming>f_start</bpmn:incoming>',
                  '<bpmn:documentation>&xxe;</bpmn:documentation><bpmn:incoming>f_start</bpmn:incoming>')
    problem = only_problem(validate({"gateway.bpmn": source}))
    assert problem.line == line_of(source, "<!DOCTYPE")
    assert "DOCTYPE" in problem.message


def test_a_doctype_hidden_in_utf16_is_refused_too():
    source = edit(text("gateway.bpmn"), 'encoding="UTF-8"?>', 'encoding="UTF-16"?>\n'
                  '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    source = edit(source, '<bpmn:incoming>f_start</bpmn:incoming>',
                  '<bpmn:documentation>&xxe;</bpmn:documentation><bpmn:incoming>f_start</bpmn:incoming>')
    problem = only_problem(validate({"gateway.bpmn": source.encode("utf-16")}))
    assert "DOCTYPE" in problem.message


def test_an_entity_expansion_bomb_is_refused():
    lol = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10))
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n' + lol + ']>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
            '<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:definitions>\n')
    problem = only_problem(validate({"bomb.bpmn": bomb}))
    assert problem.line == 2
    assert "DOCTYPE" in problem.message


def test_a_bare_iso_duration_is_reported_with_the_fix():
    problem = only_problem(validate(timed_with("P15D")))
    assert (problem.file, problem.element) == ("timers.bpmn", "overdue")
    assert problem.line == line_of(text("timers.bpmn"), '"P2D"')
    assert '请加引号："P15D"' in problem.message


def test_a_timer_with_an_invalid_iso_literal_is_reported():
    problem = only_problem(validate(timed_with('"P2X"')))
    assert problem.element == "overdue"
    assert "'P2X' 不是有效的 ISO 8601 时长" in problem.message


def test_a_timer_expression_over_case_data_is_accepted():
    assert validate(timed_with('f"P{days}D"')).ok


def test_a_sequence_flow_to_a_missing_target_is_reported():
    source = edit(text("gateway.bpmn"), 'targetRef="complex"', 'targetRef="nowhere"')
    problem = only_problem(validate({"gateway.bpmn": source}))
    assert problem.element == "f_complex"
    assert problem.line == line_of(source, 'id="f_complex"')
    assert "'nowhere'" in problem.message and "perhaps a form" not in problem.message


def test_an_exclusive_gateway_with_an_unconditioned_non_default_flow_is_reported():
    source = edit(text("gateway.bpmn"),
                  '<bpmn:conditionExpression>track == "complex"</bpmn:conditionExpression>', "")
    problem = only_problem(validate({"gateway.bpmn": source}))
    assert problem.element == "which"
    assert problem.line == line_of(source, 'id="which"')
    assert "f_complex" in problem.message and "默认流" in problem.message


def test_a_gateway_whose_other_flow_is_the_default_is_accepted():
    source = edit(text("gateway.bpmn"),
                  '<bpmn:conditionExpression>track == "complex"</bpmn:conditionExpression>', "")
    source = edit(source, '<bpmn:exclusiveGateway id="which"', '<bpmn:exclusiveGateway id="which" default="f_complex"')
    assert validate({"gateway.bpmn": source}).ok


def test_a_missing_form_file_is_reported():
    source = text("timers.bpmn")
    problem = only_problem(validate({"timers.bpmn": source}))
    assert problem.element == "answer"
    assert problem.line == line_of(source, 'id="answer"')
    assert "answer.json" in problem.message and "不存在" in problem.message


def test_an_invalid_form_json_is_reported_at_its_line():
    problem = only_problem(validate({"timers.bpmn": text("timers.bpmn"),
                                     "answer.json": '{"type": "object",\n "properties": {,}}'}))
    assert (problem.file, problem.line, problem.element) == ("answer.json", 2, "answer")
    assert "不是有效的 JSON" in problem.message


def test_a_text_field_without_max_length_is_refused_naming_the_form_and_field():
    form = ('{"type": "object", "title": "答复",\n "properties": {\n'
            '  "answer": {"type": "string", "title": "答复内容"}}}')
    problem = only_problem(validate({"timers.bpmn": text("timers.bpmn"), "answer.json": form}))
    assert (problem.file, problem.line, problem.element) == ("answer.json", 3, "answer")
    assert "表单“答复”" in problem.message and "字段“答复内容”" in problem.message and "maxLength" in problem.message


def test_a_number_field_without_a_range_is_refused():
    form = ('{"type": "object", "title": "答复", "properties": '
            '{"count": {"type": "integer", "title": "人数", "minimum": 1}}}')
    problem = only_problem(validate({"timers.bpmn": text("timers.bpmn"), "answer.json": form}))
    assert "字段“人数”" in problem.message and "maximum" in problem.message


def test_fixed_choices_and_bounded_fields_need_no_more():
    form = ('{"type": "object", "title": "答复", "properties": {'
            '"kind": {"type": "string", "title": "类别", "enum": ["a", "b"]},'
            '"tags": {"type": "array", "title": "标签", "items": {"type": "string", "enum": ["x"]}},'
            '"agree": {"type": "boolean", "title": "同意"},'
            '"note": {"type": "string", "title": "说明", "maxLength": 2000},'
            '"days": {"type": "integer", "title": "天数", "minimum": 1, "maximum": 30}}}')
    assert validate({"timers.bpmn": text("timers.bpmn"), "answer.json": form}).ok


@pytest.mark.parametrize(("code", "reason"), [
    ("import os", "不允许 import"),
    ("secret = open('/etc/passwd').read()", "不允许使用 open()"),
    ("os = __import__('os')", "不允许使用 __import__()"),
    ("kinds = ().__class__.__base__.__subclasses__()", '以 "_" 开头的名称'),
])
def test_a_script_that_escapes_the_sandbox_is_refused_at_its_line(code: str, reason: str):
    source = scripted_with(code)
    problem = only_problem(validate({"script.bpmn": source}))
    assert problem.element == "compute"
    assert problem.line == line_of(source, code)
    assert problem.message.startswith("脚本：") and reason in problem.message


def test_a_refused_line_further_down_a_script_is_located():
    source = edit(text("script.bpmn"), "label = describe(share)", "label = describe(share)\nimport os")
    problem = only_problem(validate({"script.bpmn": source}))
    assert problem.line == line_of(source, "import os")


def test_a_syntax_error_in_a_condition_is_reported():
    source = edit(text("gateway.bpmn"), 'track == "complex"', "track ==")
    problem = only_problem(validate({"gateway.bpmn": source}))
    assert problem.element == "f_complex"
    assert problem.line == line_of(source, "track ==<")
    assert problem.message.startswith("条件：语法错误")


def test_a_lane_outside_the_given_lane_set_is_reported():
    files = {"timers.bpmn": text("timers.bpmn"), "answer.json": text("answer.json")}
    assert validate(files, lanes={"clerk", "leader"}).ok
    problem = only_problem(validate(files, lanes={"clerk"}))
    assert problem.element == "lane_leader"
    assert problem.line == line_of(text("timers.bpmn"), 'id="lane_leader"')
    assert "'leader'" in problem.message


def test_every_problem_of_a_file_is_reported_not_only_the_first():
    source = edit(scripted_with("import os"), "label = describe(share)", "label = open('x')")
    result = validate({"script.bpmn": source})
    assert [p.line for p in result.problems] == [line_of(source, "import os"), line_of(source, "open('x')")]


@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")), ids=lambda p: p.name)
def test_miwg_reference_files_get_an_answer_never_an_exception(path: Path):
    result = engine.validate_bundle(engine.read_bundle([path]))
    assert result.problems or result.processes
    for problem in result.problems:
        assert LOCATED.match(str(problem)), str(problem)
        assert problem.file == path.name


def test_miwg_reference_files_are_present():
    assert len(list(MIWG.glob("*.bpmn"))) >= 20
