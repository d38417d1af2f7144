"""Designers read parser messages in Chinese: Python syntax errors, XML and XSD errors, lint by element name."""

from __future__ import annotations

import pytest

import engine
from engine.lint import lint_bundle
from engine.messages import python_syntax, schema_error, xml_syntax

from .diagrams import text


@pytest.mark.parametrize(("source", "expected"), [
    ("x = (1", "括号 ( 没有闭合"), ("if x\n  y", "缺少冒号 :"), ("x = 'abc", "字符串缺少结束引号"),
    ("  x = 1", "缩进不正确：这一行不应缩进"), ("x = 1，2", "不允许的字符 ，（可能是中文标点，请改用英文标点）"),
    ("a b", "语法不正确"),
])
def test_python_syntax_errors_are_chinese(source: str, expected: str):
    with pytest.raises(SyntaxError) as raised:
        compile(source, "<script>", "exec")
    assert python_syntax(raised.value.msg) == expected


def test_xml_errors_are_chinese_with_their_position():
    result = engine.validate_bundle({"x.bpmn": b"hello"})
    (problem,) = result.problems
    assert problem.message == "文件不是格式正确的 XML：开头找不到 '<'：这不是 XML 文件（第 1 行第 1 列）"
    assert xml_syntax("Opening and ending tag mismatch: task line 3 and process, line 4, column 20") == \
        "开始标签 task（第 3 行）与结束标签 process 不匹配（第 4 行第 20 列）"
    assert schema_error("Element 'task': This element is not expected.") == "元素 task 不应出现在这里"


def test_an_unknown_message_stays_chinese():
    assert python_syntax("something new in Python 3.14") == "语法不正确"
    assert xml_syntax("Some new libxml2 message, line 2, column 3") == "XML 格式不正确（第 2 行第 3 列）"


def test_lint_names_the_element_by_its_label():
    problems = {p.element: p.message for p in lint_bundle({"gateway.bpmn": text("gateway.bpmn").encode()})}
    assert problems["f_simple"] == "「Which track?」通往「Simple track」的分支没有名称；请写明走这条路的情形"
    assert problems["which"].startswith("「Which track?」：排他网关没有默认流")
