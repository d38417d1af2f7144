"""One input gate in front of every view: what no database column, parser or page can take is refused here.

- the request body is limited (`MAX_CONTENT_LENGTH`, from the setting `DOORSTEP_MAX_REQUEST_BYTES`): 413;
- JSON may nest at most `MAX_JSON_DEPTH` levels, and holds no NaN or Infinity: 400;
- no text anywhere (URL path, query parameters, form fields and file names, JSON keys and strings) holds a NUL
  character or a lone UTF-16 surrogate (PostgreSQL cannot store them, nothing can print them): 400 naming the field;
- integers in JSON fit a database integer column: 422 naming the field;
- ids in URLs (`<int:...>`) beyond an integer column do not match any route: 404.

Every refusal comes before any view runs, so nothing is changed, and is answered in the one error shape of
`web/errors.py`. Field lengths and ranges of particular fields are the schemas' job (form JSON Schemas, the API's
marshmallow schemas); this gate holds what is true of every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # the range of an INTEGER column (PostgreSQL, and our SQLite ids)
MAX_JSON_DEPTH = 32
UNSTORABLE_TEXT = "含有无法保存的字符（空字符 NUL 或不成对的代理字符），请删除后重新提交"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
TOO_DEEP = f"JSON 嵌套过深：最多允许 {MAX_JSON_DEPTH} 层"


class InputRefused(Exception):
    """A request carries input no view may receive; `field` names where (a form field, `path`, a JSON path)."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.status, self.field, self.message = status, field, message


class ColumnIntegerConverter(IntegerConverter):
    """`<int:...>` in a route: a non-negative integer that fits an integer column (larger ids match nothing)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


class GatedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing too deep nesting, NaN/Infinity, unstorable text and integers beyond a column."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8") if isinstance(s, bytes) else s  # invalid UTF-8: a ValueError, Flask's 400
        try:
            value = json.loads(text, parse_constant=_refuse_constant, **kwargs)
        except RecursionError:  # nested deeper than the interpreter's stack: far beyond the limit
            raise InputRefused(400, "body", TOO_DEEP) from None
        check_json_value(value)
        return value


class GatedRequest(Request):
    """Flask's request, with a Chinese answer for a body that is not JSON."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        where = f"：第 {e.lineno} 行第 {e.colno} 列（{e.msg}）" if isinstance(e, json.JSONDecodeError) else ""
        raise BadRequest(description=f"请求内容不是有效的 JSON{where}；应为 UTF-8 编码的 JSON 文本")


def init_app(app: Flask) -> None:
    """Install the gate: the JSON provider, the bounded `int` converter and the text check.

    Call before any blueprint is registered (routes read the converter when they are added) and before the other
    `before_request` hooks (the CSRF check reads the form).
    """
    app.url_map.converters["int"] = ColumnIntegerConverter
    app.json_provider_class = GatedJSONProvider
    app.json = GatedJSONProvider(app)
    app.json.ensure_ascii = False  # Chinese in API answers, not \uXXXX escapes
    app.request_class = GatedRequest
    app.before_request(check_request)


def check_request() -> None:
    """Refuse a too large body, and unstorable text in the URL, the query string and the form (before any view)."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    for field, text in _texts():
        if _UNSTORABLE.search(text):
            raise InputRefused(400, _UNSTORABLE.sub("?", field), UNSTORABLE_TEXT)


def too_large_message() -> str:
    """What a 413 tells: the limits of a whole request and of one form field (werkzeug's own 413s included)."""
    whole, field = current_app.config.get("MAX_CONTENT_LENGTH"), current_app.config.get("MAX_FORM_MEMORY_SIZE")
    limits = [f"整个请求最多 {whole / 1024 / 1024:g} MB" if whole else "",
              f"单个填写项最多 {field // 1000} KB" if field else ""]
    return f"提交的内容过大（{'，'.join(x for x in limits if x)}）；未保存任何内容。"


def _texts() -> Iterator[tuple[str, str]]:
    yield "path", request.path
    for name, value in request.args.items(multi=True):
        yield name, name
        yield name, value
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            yield name, name
            yield name, value
        for name, upload in request.files.items(multi=True):
            yield name, upload.filename or ""


def check_json_value(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse nesting beyond `MAX_JSON_DEPTH`, NUL and lone surrogates in keys and strings, and integers beyond an
    integer column, naming the path."""
    if depth > MAX_JSON_DEPTH:
        raise InputRefused(400, path or "body", TOO_DEEP)
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InputRefused(400, path or "body", UNSTORABLE_TEXT)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InputRefused(422, path or "body", f"数值超出范围：应在 {INT_MIN} 到 {INT_MAX} 之间")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if _UNSTORABLE.search(key):
                raise InputRefused(400, _UNSTORABLE.sub("?", inner), "字段名含有无法保存的字符")
            check_json_value(item, inner, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}.{index}" if path else str(index), depth + 1)


def _refuse_constant(name: str) -> Any:
    raise InputRefused(400, "body", f"JSON 中不允许 {name}（不是有效的数字）")
