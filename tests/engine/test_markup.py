"""Diagrams carrying markup a browser could run are refused, with the element and line named for the designer."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.validation import validate_bundle

LINEAR = (Path(__file__).parent / "data" / "linear.bpmn").read_text(encoding="utf-8")
XHTML = 'xmlns:html="http://www.w3.org/1999/xhtml"'
TASK = '<bpmn:userTask id="first" name="First">'


def _with(inside_task: str, namespaces: str = XHTML) -> bytes:
    """linear.bpmn with `inside_task` as the first task's documentation (line 5 of the file)."""
    text = LINEAR.replace('<bpmn:definitions ', f"<bpmn:definitions {namespaces} ", 1)
    return text.replace(TASK, f"{TASK}<bpmn:documentation>{inside_task}</bpmn:documentation>").encode()


ACTIVE = {
    "xhtml script": (_with("<html:script>alert(1)</html:script>"), "<html:script>"),
    "img onerror": (_with('<html:img src="x" onerror="alert(1)"/>'), "属性 onerror"),
    "svg onload": (_with('<svg:svg onload="alert(1)"/>', 'xmlns:svg="http://www.w3.org/2000/svg"'), "属性 onload"),
    "javascript link": (_with('<html:a href=" java&#9;script:alert(1)">x</html:a>'), "javascript:"),
    "iframe": (_with('<html:iframe src="https://evil.example"/>'), "<html:iframe>"),
    "bare script": (_with("<script>alert(1)</script>", ""), "<script>"),
    "extension": (LINEAR.replace(TASK, f'{TASK}<bpmn:extensionElements><x:thing xmlns:x="urn:x" onclick="go()"/>'
                                 "</bpmn:extensionElements>").encode(), "属性 onclick"),
    "stylesheet": (LINEAR.replace("?>", '?>\n<?xml-stylesheet type="text/xsl" href="evil.xsl"?>', 1).encode(),
                   "xml-stylesheet"),
}


@pytest.mark.parametrize("kind", sorted(ACTIVE))
def test_markup_that_could_run_in_a_browser_is_refused_naming_element_and_line(kind):
    content, named = ACTIVE[kind]
    result = validate_bundle({"linear.bpmn": content})
    assert not result.ok and not result.processes
    problem = result.problems[0]
    assert named in problem.message, problem.message
    assert problem.file == "linear.bpmn" and problem.line is not None
    assert f"第 {problem.line} 行" in problem.message or kind == "stylesheet"
    assert content.decode().splitlines()[problem.line - 1].strip(), "the line named is in the file"


def test_plain_documentation_and_ordinary_links_still_pass():
    content = _with('按先后办理，见 <html:a href="https://www.gov.cn/zhengce" title="javascript: 字样只是文字">'
                    "条例</html:a>")
    result = validate_bundle({"linear.bpmn": content})
    assert result.ok, result.problems
