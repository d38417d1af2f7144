"""Reading pages in tests: field messages and visible text."""

from __future__ import annotations

import re

from werkzeug.test import TestResponse


def errors_of(response: TestResponse) -> dict[str, str]:
    """The field messages of a form page, by the id of the field they describe."""
    found = re.findall(r'<div class="error" id="([^"]+)-error" role="alert">([^<]+)</div>', response.text)
    return {field.removeprefix("f-"): message for field, message in found}


def text_of(response: TestResponse) -> str:
    """The visible text of a page, with tags removed and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
