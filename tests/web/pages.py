"""Reading pages in tests: field messages and visible text."""

from __future__ import annotations

import html
import re

from werkzeug.test import TestResponse


def errors_of(response: TestResponse) -> dict[str, str]:
    """The field messages of a form page, by the id of the field they describe."""
    found = re.findall(r'<div class="error" id="([^"]+)-error" role="alert">([^<]+)</div>', response.text)
    return {field.removeprefix("f-"): message for field, message in found}


def text_of(response: TestResponse) -> str:
    """The visible text of a page, with tags removed and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


# English sentences and raw codes that must not reach a page a person reads (outside fields meant for codes).
_HIDDEN = re.compile(r"<(script|style|code|textarea)\b.*?</\1>"
                     r"|<(\w+)\b[^>]*\bclass=\"[^\"]*\bcode\b[^\"]*\"[^>]*>.*?</\2>", re.S)
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,})+")  # two English words or more in a row
_RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+\b|\b[a-z]\d\d(?:[a-z]\d\d)+\b")  # county-hrss, t01v01
_ALLOWED = {"bpmn-js", "fit-viewport"}


def foreign_text(response: TestResponse) -> list[str]:
    """The English sentences and raw codes (`county-hrss`, `flow_answer`, `t01v01`) in the visible text of a page,
    leaving out scripts and elements marked as code (`class="code"`: case numbers, query codes, user names)."""
    visible = html.unescape(re.sub(r"<[^>]+>", " ", _HIDDEN.sub(" ", response.text)))
    found = _ENGLISH.findall(visible) + _RAW_CODE.findall(visible)
    return [text for text in found if text not in _ALLOWED]
