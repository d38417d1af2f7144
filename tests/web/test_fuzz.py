"""Property-based fuzzing (Hypothesis) of the JSON API and the page forms: whatever is sent — NUL characters, lone
surrogates, huge integers, deep or odd JSON, over-long texts, unknown fields, ids beyond a column, no CSRF token —
no answer is a 500, and a refused request (any 4xx) changes no data.

2,100 examples in all (derandomized, so CI runs the same ones every time); the whole module takes well under a
minute on the SQLite test database of an idle machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from .conftest import PASSWORD

PAGE_EXAMPLES, API_EXAMPLES = 800, 1300  # 2,100 requests in all (the API's are cheaper)
QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
# What a refused request must leave as it was: every table of cases, tasks, history, designs and accounts.
DATA_TABLES = ("instance", "event", "human_task", "case_record", "incident", "stored_file", "deployment",
               "process_version", "design_draft", "design_event", "account", "person", "case_rating", "rota_entry",
               "rota_change")
COUNTS = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in DATA_TABLES))
SPECIAL = ["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "2147483648", "-2147483649", "9" * 40, "1e999", "NaN",
           "-0", "1.5", "true", "null", "[]", "{}", "x" * 101, "字" * 2100, "x" * 70_000, "<script>alert(1)</script>",
           "' OR '1'='1", "../../etc/passwd", "%00", "\u202e", "𝌆", "\r\n", "2026-02-30", "9999-12-31T23:59:59"]
PLAUSIBLE = ["answer", "coordinate", "hand_over", "social_security", "t01", "t01v01", "reception", "1", "0", "csv",
             "json", "2026-03", "王桂英", "431224196802150021", "13807451234", "satisfied", "overdue", "due", "open",
             "swap", "reassign", "2026-03-04"]

texts = st.one_of(st.sampled_from(SPECIAL), st.sampled_from(PLAUSIBLE),
                  st.text(st.characters(exclude_categories=()), max_size=24))
numbers = st.one_of(st.integers(), st.integers(min_value=-3, max_value=100),
                    st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), numbers, texts),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(texts, inner, max_size=4)), max_leaves=12)


def _fields(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the form's own fields (and maybe unknown ones), each with a hostile or plausible value."""
    known = st.dictionaries(st.sampled_from(names), st.one_of(texts, numbers), max_size=len(names))
    return st.tuples(known, st.dictionaries(texts, texts, max_size=2)).map(lambda pair: {**pair[1], **pair[0]})


def _form(fields: dict[str, Any]) -> bytes:
    """The fields URL-encoded as a browser would, lone surrogates sent as the (invalid) UTF-8 bytes they make."""
    return urlencode([(str(k), str(v)) for k, v in fields.items()], errors="surrogatepass").encode("ascii")


def _part(value: Any) -> str:
    return quote(str(value), safe="", errors="surrogatepass")


class Fuzzer:
    """Test clients for the people of the test org, the case and task under fire, and the data fingerprint."""

    def __init__(self, app: Any, desk: Any, browser: Any):
        self.case_id = desk.visit()
        self.task_id = desk.task(self.case_id, "hear_claim").id
        self.visitors = {who: browser(username) for who, username in (
            ("anonymous", None), ("secretary", "t01v01.secretary"), ("cadre", "t01.cadre"), ("auditor", "auditor1"),
            ("bureau", "bureau1"), ("designer", "designer1"))}
        token = app.test_client().post("/api/v1/tokens", json={"username": "t01v01.secretary", "password": PASSWORD})
        self.api_headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        self.api = app.test_client()
        self.engine = app.extensions["doorstep"].db
        self.last = self.fingerprint()

    def fingerprint(self) -> tuple[int, ...]:
        with self.engine.connect() as connection:
            return tuple(connection.execute(COUNTS).one())

    def page(self, who: str, method: str, path: str, fields: dict[str, Any], csrf: bool) -> Any:
        visitor = self.visitors[who]
        if method == "GET":
            return visitor.client.get(f"{path}?{_form(fields).decode()}")
        if csrf:
            fields = {**fields, "csrf_token": visitor.token}
        return visitor.client.post(path, data=_form(fields), content_type="application/x-www-form-urlencoded")

    def call(self, method: str, path: str, body: bytes | None, authorized: bool) -> Any:
        headers = self.api_headers if authorized else {}
        if method == "GET":
            return self.api.get(path, headers=headers)
        return self.api.post(path, data=body, content_type="application/json", headers=headers)

    def check(self, send: Callable[[], Any]) -> None:
        answer = send()
        assert answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:800])
        after = self.fingerprint()
        if answer.status_code >= 400:
            assert after == self.last, f"a refused request ({answer.status_code}) changed data"
        self.last = after


@pytest.fixture
def fuzzer(app: Any, desk: Any, browser: Any) -> Fuzzer:
    return Fuzzer(app, desk, browser)


PAGES = [  # who, method, path ({case}, {task} or {any} filled in), the form's own fields
    ("anonymous", "POST", "/login", ["username", "password", "next"]),
    ("anonymous", "POST", "/query", ["code"]),
    ("anonymous", "POST", "/query/rate", ["code", "satisfaction", "comment"]),
    ("secretary", "POST", "/reception", ["p-0-petitioner_name", "p-0-id_number", "p-0-phone", "p-1-phone", "headcount",
                                         "village", "category", "claim"]),
    ("secretary", "GET", "/reception", ["rows"]),
    ("cadre", "POST", "/tasks/{task}", ["disposition", "note"]),
    ("cadre", "POST", "/tasks/{any}/claim", []),
    ("cadre", "GET", "/tasks", ["due", "category", "place", "process", "claim", "sort"]),
    ("cadre", "GET", "/cases", ["q"]),
    ("cadre", "GET", "/cases/{any}", []),
    ("cadre", "POST", "/cases/{case}/reveal", []),
    ("bureau", "POST", "/cases/{case}/rating", ["satisfaction", "comment"]),
    ("bureau", "GET", "/reports/monthly", ["month", "township", "period"]),
    ("bureau", "GET", "/reports/monthly.csv", ["month", "township"]),
    ("auditor", "GET", "/audit", ["number", "township", "month", "process", "status", "overdue", "outcome"]),
    ("auditor", "GET", "/audit/cases/{case}/steps/{any}", []),
    ("auditor", "POST", "/audit/export", ["format", "case", "period"]),
    ("designer", "GET", "/designer/processes/{any}", []),
    ("bureau", "POST", "/intake/letter", ["petitioner_name", "id_number", "phone", "headcount", "township", "village",
                                          "category", "claim", "accused_unit", "accused_person", "channel"]),
    ("bureau", "GET", "/intake/{any}", ["category", "claim"]),
    ("cadre", "GET", "/org/search", ["field", "q"]),
    ("cadre", "POST", "/account/password", ["current", "new", "confirm"]),
    ("cadre", "GET", "/rota", ["township", "month"]),
    ("cadre", "POST", "/rota", ["action", "township", "month", "first", "second", "day", "secretary", "cadre"]),
]
API = [  # method, path, body shape (None: no body), with the API token?
    ("POST", "/api/v1/tokens", {"username": "", "password": ""}, False),
    ("GET", "/api/v1/tasks?{query}", None, True),
    ("GET", "/api/v1/tasks/{any}", None, True),
    ("POST", "/api/v1/tasks/{task}/claim", None, True),
    ("POST", "/api/v1/tasks/{task}/complete", {"data": {"disposition": "", "note": ""}}, True),
    ("POST", "/api/v1/cases", {"process_id": "reception", "data": {
        "headcount": 1, "village": "", "category": "", "claim": "",
        "petitioners": [{"petitioner_name": "", "id_number": "", "phone": ""}]}}, True),
    ("GET", "/api/v1/cases/{any}", None, True),
    ("POST", "/api/v1/cases/{case}/rating", {"satisfaction": "satisfied", "comment": ""}, True),
    ("POST", "/api/v1/cases/{any}/rating", {"satisfaction": "satisfied"}, True),
    ("POST", "/api/v1/cases", None, False),
]


def _path(template: str, fuzzer: Fuzzer, any_part: Any, query: dict[str, Any]) -> str:
    return (template.replace("{case}", str(fuzzer.case_id)).replace("{task}", fuzzer.task_id)
            .replace("{any}", _part(any_part)).replace("{query}", _form(query).decode()))


def _mutated(shape: Any, draw: Any) -> Any:
    """The body shape with each leaf maybe replaced by a hostile value (and sometimes the whole body)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    if isinstance(shape, dict):
        body = {k: _mutated(v, draw) for k, v in shape.items() if draw(st.integers(0, 7))}
        body.update(draw(st.dictionaries(texts, json_values, max_size=1)))
        return body
    if isinstance(shape, list):
        return [_mutated(item, draw) for item in shape] * draw(st.integers(0, 3))
    return draw(st.one_of(json_values, texts, numbers)) if draw(st.booleans()) else shape


@settings(max_examples=PAGE_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=QUIET)
@given(data=st.data())
def test_page_forms_never_answer_500_and_refusals_change_nothing(fuzzer: Fuzzer, data: Any) -> None:
    who, method, template, names = data.draw(st.sampled_from(PAGES))
    any_part = data.draw(st.one_of(st.integers(), texts))
    fields = data.draw(_fields(names or ["x"]))
    path = _path(template, fuzzer, any_part, {})
    csrf = data.draw(st.integers(0, 9)) > 0
    fuzzer.check(lambda: fuzzer.page(who, method, path, fields, csrf))


@settings(max_examples=API_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=QUIET)
@given(data=st.data())
def test_the_api_never_answers_500_and_refusals_change_nothing(fuzzer: Fuzzer, data: Any) -> None:
    method, template, shape, authorized = data.draw(st.sampled_from(API))
    any_part = data.draw(st.one_of(st.integers(), texts))
    query = data.draw(_fields(["due", "category", "place", "process", "claim", "sort"]))
    path = _path(template, fuzzer, any_part, query)
    body: bytes | None = None
    if method == "POST":
        kind = data.draw(st.integers(0, 19))
        if kind == 0:
            body = b"[" * 5000 + b"]" * 5000  # nesting far beyond the limit
        elif kind == 1:
            body = data.draw(st.binary(max_size=64))  # not JSON, maybe not UTF-8
        else:
            body = json.dumps(_mutated(shape or {}, data.draw)).encode()
    fuzzer.check(lambda: fuzzer.call(method, path, body, authorized))
