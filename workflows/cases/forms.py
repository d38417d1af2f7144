"""Task forms: the JSON Schema of a user task turned into fields, and submissions checked with Chinese messages.

A form is a JSON Schema (draft 2020-12) object as `bpmn/CONVENTIONS.md` describes: Chinese `title`s, `enum` with
`x-enumNames`, `format` date / date-time, `x-widget: textarea`, `required`, and `if`/`then` for conditional
requirements. `read_form` gives what a page needs to draw the form; `parse_form` turns posted text into typed
values; `validate` checks values against the schema and says what is wrong, field by field, in Chinese.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from workflows import DomainError

LOCAL = ZoneInfo("Asia/Shanghai")
FORM_ERROR = "_form"  # errors that belong to no single field
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # what an integer column stores (a whole number beyond it cannot be kept)
# Messages for patterns a person cannot read: by field name, else a generic one.
PATTERN_MESSAGES = {
    "id_number": "请输入18位身份证号码（最后一位可以是X）",
    "phone": "请输入11位手机号码",
}


class FormDefinitionError(DomainError):
    """A form file is missing or is not a usable JSON Schema."""


@dataclass(frozen=True)
class Option:
    """One fixed choice: the stored value and its Chinese label."""

    value: Any
    label: str


@dataclass(frozen=True)
class Field:
    """One property of a form, as a page draws it."""

    name: str
    title: str
    type: str
    widget: str  # text, textarea, select, radio, boolean, date, datetime, integer, number, checkboxes
    required: bool
    options: tuple[Option, ...] = ()
    description: str = ""
    default: Any = None
    required_when: str = ""  # a Chinese note for conditional requirements (if/then)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Form:
    """A task form: its title, description, fields and the schema that checks it."""

    title: str
    description: str
    fields: tuple[Field, ...]
    schema: dict[str, Any] = field(repr=False)

    def field(self, name: str) -> Field | None:
        """The field called `name`."""
        return next((f for f in self.fields if f.name == name), None)

    def defaults(self) -> dict[str, str]:
        """The default values as a page shows them in its inputs."""
        return {f.name: as_text(f.default) for f in self.fields if f.default is not None}


def read_form(content: bytes | str | Mapping[str, Any], name: str = "form") -> Form:
    """Read a form from the JSON text (or the parsed object) of its schema."""
    if isinstance(content, (bytes, str)):
        return _read_text(content if isinstance(content, bytes) else content.encode(), name)
    return _read_schema(dict(content), name)


@functools.lru_cache(maxsize=256)
def _read_text(content: bytes, name: str) -> Form:
    """Forms are deployed once and read often: each text is checked and turned into fields once."""
    try:
        schema = json.loads(content)
    except ValueError as exc:
        raise FormDefinitionError(f"{name}: not valid JSON: {exc}") from exc
    return _read_schema(schema, name)


def _read_schema(schema: Any, name: str) -> Form:
    try:
        Draft202012Validator.check_schema(schema)
    except (ValueError, SchemaError) as exc:
        raise FormDefinitionError(f"{name}: not a valid JSON Schema: {str(exc).splitlines()[0]}") from exc
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise FormDefinitionError(f"{name}: a form must be a JSON Schema of type object")
    required = set(schema.get("required", []))
    conditions = _conditional_notes(schema)
    fields = []
    for prop, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        fields.append(Field(
            name=prop, title=str(spec.get("title") or prop), type=_kind(spec),
            widget=_widget(spec), required=prop in required, options=_options(spec),
            description=str(spec.get("description") or ""), default=spec.get("default"),
            required_when="；".join(conditions.get(prop, [])),
            minimum=spec.get("minimum"), maximum=spec.get("maximum"), max_length=spec.get("maxLength")))
    return Form(str(schema.get("title") or name), str(schema.get("description") or ""), tuple(fields), schema)


def _widget(spec: Mapping[str, Any]) -> str:
    kind = _kind(spec)
    if kind == "array":
        return "checkboxes"
    if "enum" in spec:
        return "radio" if len(spec["enum"]) <= 4 else "select"
    if spec.get("x-widget") == "select":  # choices the page supplies (the villages of a township)
        return "select"
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return kind
    if spec.get("format") == "date":
        return "date"
    if spec.get("format") == "date-time":
        return "datetime"
    return "textarea" if spec.get("x-widget") == "textarea" else "text"


def _kind(spec: Mapping[str, Any]) -> str:
    """The value type of a property; for an optional one (`["integer", "null"]`) the type it holds when given."""
    kind = spec.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def _options(spec: Mapping[str, Any]) -> tuple[Option, ...]:
    source = spec.get("items", {}) if spec.get("type") == "array" else spec
    values = source.get("enum") or []
    labels = source.get("x-enumNames") or []
    return tuple(Option(v, str(labels[i]) if i < len(labels) else str(v)) for i, v in enumerate(values))


def _conditional_notes(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """Chinese notes like "处理方式为“申请延期”时必填" for fields an if/then makes required."""
    notes: dict[str, list[str]] = {}
    blocks = [schema, *[b for b in schema.get("allOf", []) if isinstance(b, dict)]]
    properties = schema.get("properties") or {}
    for block in blocks:
        condition, then = block.get("if"), block.get("then")
        if not isinstance(condition, dict) or not isinstance(then, dict):
            continue
        parts = []
        for prop, test in (condition.get("properties") or {}).items():
            spec = properties.get(prop, {})
            title = spec.get("title", prop)
            if isinstance(test, dict) and "const" in test:
                label = dict(zip(spec.get("enum", []), spec.get("x-enumNames", []), strict=False)).get(
                    test["const"], as_text(test["const"]))
                if test["const"] is True:
                    label = "是"
                elif test["const"] is False:
                    label = "否"
                parts.append(f"{title}为“{label}”")
        if parts:
            for prop in then.get("required", []):
                notes.setdefault(prop, []).append(f"{'且'.join(parts)}时必填")
    return notes


def branch_only_fields(form: Form, values: Mapping[str, Any]) -> set[str]:
    """Fields the form's if/then asks for only on branches `values` do not take: e.g. the handling unit of
    检举控告受理, which only accepting uses, when the decision is to transfer the accusation up."""
    schema = form.schema
    taken: dict[str, bool] = {}
    for block in [schema, *[b for b in schema.get("allOf", []) if isinstance(b, dict)]]:
        condition, then = block.get("if"), block.get("then")
        if not isinstance(condition, dict) or not isinstance(then, dict):
            continue
        holds = Draft202012Validator(condition).is_valid(dict(values))
        for name in {*then.get("required", []), *(then.get("properties") or {})}:
            taken[name] = taken.get(name, False) or holds
    return {name for name, used in taken.items() if not used and name not in schema.get("required", [])}


# -- posted text → values -------------------------------------------------------------------------------------
def parse_form(form: Form, posted: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Turn posted text into typed values; return (values, errors, what was typed, to show again)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    typed: dict[str, Any] = {}
    for f in form.fields:
        if f.widget == "checkboxes":
            chosen = _getlist(posted, f.name)
            typed[f.name] = chosen
            if chosen:
                values[f.name] = [_option_value(f, text) for text in chosen]
            continue
        text = _get(posted, f.name)
        typed[f.name] = text
        if text.strip() == "":
            continue
        try:
            values[f.name] = _convert(f, text.strip() if f.widget != "textarea" else text.strip("\r\n "))
        except ValueError as exc:
            errors[f.name] = str(exc)
    return values, errors, typed


def _get(posted: Mapping[str, Any], name: str) -> str:
    value = posted.get(name, "")
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _getlist(posted: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(posted, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = posted.get(name)
    return [str(v) for v in value] if isinstance(value, list) else ([] if value in (None, "") else [str(value)])


def _convert(f: Field, text: str) -> Any:
    if f.options:
        return _option_value(f, text)
    if f.type == "boolean":
        if text in ("true", "1", "on", "是"):
            return True
        if text in ("false", "0", "否"):
            return False
        raise ValueError("请选择“是”或“否”")
    if f.type == "integer":
        try:
            number = int(text)
        except ValueError:
            raise ValueError("请输入整数") from None
        if not INT_MIN <= number <= INT_MAX:
            raise ValueError(f"数值超出范围：应在 {INT_MIN} 到 {INT_MAX} 之间")
        return number
    if f.type == "number":
        try:
            decimal = float(text)
        except ValueError:
            raise ValueError("请输入数字") from None
        return int(decimal) if decimal.is_integer() else decimal
    if f.widget == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("请输入有效日期（年-月-日）") from None
    if f.widget == "datetime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("请输入有效的日期和时间") from None
        return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)).isoformat()
    return text


def _option_value(f: Field, text: str) -> Any:
    for option in f.options:
        if as_text(option.value) == text:
            return option.value
    raise ValueError("请从给出的选项中选择")


def as_text(value: Any) -> str:
    """A value as a page's input holds it: booleans as true/false, nothing as empty text."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


# -- values → Chinese messages per field ------------------------------------------------------------------------
def validate(form: Form, values: Mapping[str, Any]) -> dict[str, str]:
    """Check values against the form's schema (draft 2020-12, if/then included); one message per field."""
    validator = Draft202012Validator(form.schema, format_checker=FormatChecker())
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(dict(values)), key=lambda e: list(e.schema_path)):
        for name, message in _messages(form, error):
            errors.setdefault(name, message)
    return errors


def _messages(form: Form, error: ValidationError) -> Iterable[tuple[str, str]]:
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name in instance:
                continue
            f = form.field(name)
            if f is None:
                yield name, "请填写此项"
            elif f.options or f.type == "boolean" or f.widget == "select":
                yield name, f"请选择{f.title}"
            else:
                yield name, f"请填写{f.title}"
        return
    name = str(error.path[0]) if error.path else FORM_ERROR
    yield name, _message(form.field(name), error)


def _message(f: Field | None, error: ValidationError) -> str:
    rule, limit = error.validator, error.validator_value
    if rule == "pattern":
        return PATTERN_MESSAGES.get(f.name if f else "", "格式不正确") if f else "格式不正确"
    texts = {
        "minLength": f"至少填写{limit}个字" if isinstance(limit, int) and limit > 1 else "请填写此项",
        "maxLength": f"最多填写{limit}个字（现有{len(error.instance)}个字）" if isinstance(error.instance, str)
        else f"最多填写{limit}个字",
        "minimum": f"不能小于{limit}",
        "maximum": f"不能大于{limit}",
        "exclusiveMinimum": f"必须大于{limit}",
        "exclusiveMaximum": f"必须小于{limit}",
        "enum": "请从给出的选项中选择",
        "const": "取值不正确",
        "format": "请输入有效日期（年-月-日）" if limit == "date" else "格式不正确",
        "minItems": f"至少选择{limit}项",
        "maxItems": f"最多选择{limit}项",
        "additionalProperties": "表单包含未定义的字段",
    }
    if rule == "type":
        return {"integer": "请输入整数", "number": "请输入数字", "boolean": "请选择“是”或“否”",
                "string": "请输入文字", "array": "请选择"}.get(str(limit), "类型不正确")
    return texts.get(str(rule), "填写有误")
