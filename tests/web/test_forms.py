"""Forms from JSON Schema: fields, typed values from posted text, Chinese messages per field (workflows.cases.forms)."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from doorstep.config import PROJECT_DIR
from workflows.cases.forms import FormDefinitionError, branch_only_fields, parse_form, read_form, validate

FORMS = Path(PROJECT_DIR) / "bpmn" / "forms"

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "测试表单",
    "type": "object",
    "properties": {
        "kind": {"type": "string", "title": "类型", "enum": ["a", "b"], "x-enumNames": ["甲", "乙"]},
        "many": {"type": "array", "title": "多选", "items": {"enum": ["x", "y"], "x-enumNames": ["X项", "Y项"]}},
        "ok": {"type": "boolean", "title": "是否同意", "default": False},
        "count": {"type": "integer", "title": "数量", "minimum": 1, "maximum": 5},
        "ratio": {"type": "number", "title": "比例"},
        "day": {"type": "string", "title": "日期", "format": "date"},
        "at": {"type": "string", "title": "时间", "format": "date-time"},
        "note": {"type": "string", "title": "说明", "x-widget": "textarea", "minLength": 3},
        "reason": {"type": "string", "title": "理由"},
    },
    "required": ["kind", "ok"],
    "allOf": [{"if": {"properties": {"kind": {"const": "b"}}, "required": ["kind"]}, "then": {"required": ["reason"]}}],
}


def test_fields_follow_the_schema():
    form = read_form(SCHEMA)
    widgets = {f.name: f.widget for f in form.fields}
    assert widgets == {"kind": "radio", "many": "checkboxes", "ok": "boolean", "count": "integer", "ratio": "number",
                       "day": "date", "at": "datetime", "note": "textarea", "reason": "text"}
    assert [o.label for o in form.field("kind").options] == ["甲", "乙"]
    assert form.field("kind").required and not form.field("reason").required
    assert form.field("reason").required_when == "类型为“乙”时必填"
    assert form.defaults() == {"ok": "false"}


def test_many_choices_become_a_select():
    form = read_form((FORMS / "reception-register.json").read_bytes(), "reception-register.json")
    assert form.field("category").widget == "select"
    assert form.field("category").options[0].label == "土地征收"


def test_posted_text_becomes_typed_values():
    form = read_form(SCHEMA)
    posted = MultiDict([("kind", "b"), ("many", "x"), ("many", "y"), ("ok", "true"), ("count", "3"), ("ratio", "0.5"),
                        ("day", "2026-03-02"), ("at", "2026-03-02T10:30"), ("note", "  很好啊  "), ("reason", "")])
    values, errors, typed = parse_form(form, posted)
    assert errors == {}
    assert values == {"kind": "b", "many": ["x", "y"], "ok": True, "count": 3, "ratio": 0.5, "day": "2026-03-02",
                      "at": "2026-03-02T10:30:00+08:00", "note": "很好啊"}
    assert typed["note"] == "  很好啊  " and typed["many"] == ["x", "y"]
    assert validate(form, values) == {"reason": "请填写理由"}


def test_text_that_is_not_the_type_is_reported_on_its_field():
    form = read_form(SCHEMA)
    _, errors, typed = parse_form(form, {"kind": "c", "ok": "maybe", "count": "2.5", "ratio": "abc",
                                         "day": "2026-13-01", "at": "tomorrow"})
    assert errors == {"kind": "请从给出的选项中选择", "ok": "请选择“是”或“否”", "count": "请输入整数",
                      "ratio": "请输入数字", "day": "请输入有效日期（年-月-日）", "at": "请输入有效的日期和时间"}
    assert typed["count"] == "2.5"


def test_schema_messages_are_in_chinese():
    form = read_form(SCHEMA)
    assert validate(form, {}) == {"kind": "请选择类型", "ok": "请选择是否同意"}
    assert validate(form, {"kind": "a", "ok": True, "count": 9, "note": "短"}) == {
        "count": "不能大于5", "note": "至少填写3个字"}
    assert validate(form, {"kind": "a", "ok": True, "count": 0}) == {"count": "不能小于1"}


def test_fields_only_a_branch_not_taken_asks_for_are_named():
    accept = read_form((FORMS / "petition-discipline_accept.json").read_text(encoding="utf-8"))
    up = branch_only_fields(accept, {"discipline_decision": "transfer_up", "handling_unit": "x"})
    assert up == {"handling_unit", "acceptance_notice"}
    assert branch_only_fields(accept, {"discipline_decision": "accept"}) == {"decision_reason", "notice"}
    assert branch_only_fields(accept, {}) == {"decision_reason", "notice"}  # no decision yet: accepting's if holds
    assert branch_only_fields(read_form(SCHEMA), {"kind": "a"}) == {"reason"}
    assert branch_only_fields(read_form(SCHEMA), {"kind": "b"}) == set()


def test_every_deployed_form_reads():
    for path in sorted(FORMS.glob("*.json")):
        form = read_form(path.read_bytes(), path.name)
        assert form.fields, path.name
        assert all(f.title != f.name for f in form.fields), path.name  # every field has a Chinese title


def test_a_broken_form_says_which_file():
    with pytest.raises(FormDefinitionError, match="broken.json"):
        read_form(b"{not json", "broken.json")
    with pytest.raises(FormDefinitionError, match="odd.json"):
        read_form(b'{"type": "object", "properties": {"a": {"type": 5}}}', "odd.json")
