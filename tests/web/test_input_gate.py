"""The input gate: NUL and lone surrogates, deep JSON, large bodies, integers beyond a column, texts beyond a field —
each refused in the one error shape naming the field, before anything is changed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from werkzeug.test import encode_multipart

from engine.models import Event, Instance
from web.input_gate import INT_MAX, MAX_JSON_DEPTH
from workflows.org.throttle import FailedAttempt

from .conftest import PASSWORD, VISIT


def _counts(services) -> tuple[int, ...]:
    with services.unit_of_work() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(model)))
                     for model in (Instance, Event, FailedAttempt))


def _api_token(client) -> dict[str, str]:
    token = client.post("/api/v1/tokens", json={"username": "t01v01.secretary", "password": PASSWORD})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_nul_in_a_public_form_is_refused_naming_the_field_and_counts_nothing(browser, services, text):
    public, before = browser(), _counts(services)
    login = public.post("/login", {"username": text, "password": "x"})
    assert login.status_code == 400 and "username" in login.text and "无法保存的字符" in login.text
    query = public.post("/query", {"code": text})
    assert query.status_code == 400 and "code" in query.text
    assert _counts(services) == before  # not even a failed attempt was recorded


def test_nul_and_lone_surrogates_in_json_are_refused_naming_the_field(client, services):
    before = _counts(services)
    for body in ('{"username": "a\\u0000", "password": "x"}', '{"username": "\\ud800", "password": "x"}',
                 '{"username": "t01.cadre", "password": "\\udfff"}'):
        answer = client.post("/api/v1/tokens", data=body, content_type="application/json")
        assert answer.status_code == 400, body
        error = answer.get_json()["error"]
        assert error["status"] == 400 and set(error["fields"]) <= {"username", "password"} and error["fields"]
    assert _counts(services) == before


def test_nul_in_a_url_or_query_parameter_is_refused(browser):
    cadre = browser("t01.cadre")
    assert cadre.get("/cases?q=%00").status_code == 400
    assert "q" in cadre.get("/cases?q=%00").text
    assert cadre.get("/tasks/ab%00cd").status_code == 400
    assert browser().get("/api/v1/tasks?category=%ED%A0%80").status_code in (400, 401)


def test_deeply_nested_json_is_refused_before_parsing_even_unauthenticated(client):
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/api/v1/tokens", data=deep, content_type="application/json")
    assert answer.status_code == 400 and "嵌套" in answer.get_json()["error"]["message"]
    nested = json.loads("[" * MAX_JSON_DEPTH + "1" + "]" * MAX_JSON_DEPTH)
    too_deep = client.post("/api/v1/tokens", json={"username": nested, "password": "x"})
    assert too_deep.status_code == 400
    assert [field.startswith("username.0.0") for field in too_deep.get_json()["error"]["fields"]] == [True]
    brackets = {"username": "[[[[[[" * 100, "password": nested[0][0]}  # brackets inside a text do not nest
    assert client.post("/api/v1/tokens", json=brackets).status_code == 422  # parsed; refused by the schema


def test_a_body_over_the_limit_is_refused_with_413_even_unauthenticated(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"username": "' + b"x" * limit + b'"}'
    answer = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert answer.status_code == 413 and answer.get_json()["error"]["status"] == 413
    page = client.post("/login", data=b"username=" + b"x" * limit,
                       content_type="application/x-www-form-urlencoded")
    assert page.status_code == 413 and "内容过大" in page.text


def test_ids_beyond_an_integer_column_are_not_found(client, browser):
    headers = _api_token(client)
    assert client.get("/api/v1/cases/2147483648", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{10**30}", headers=headers).get_json()["error"]["status"] == 404
    assert browser("auditor1").get("/audit/cases/99999999999/steps/1").status_code == 404
    assert browser("t01.cadre").get("/cases/2147483648").status_code == 404


def test_integers_beyond_a_column_are_422_naming_the_field(client, browser, services):
    before = _counts(services)
    headers = _api_token(client)
    visit = {"headcount": INT_MAX + 1, "village": "t01v01", "category": "social_security", "claim": "x",
             "petitioners": [{"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234"}]}
    answer = client.post("/api/v1/cases", json={"process_id": "reception", "data": visit}, headers=headers)
    assert answer.status_code == 422 and "data.headcount" in answer.get_json()["error"]["fields"]
    page = browser("t01v01.secretary").post("/reception", {**VISIT, "headcount": str(2**31)})
    assert page.status_code == 422 and "数值超出范围" in page.text
    assert _counts(services)[:2] == before[:2]


def test_texts_longer_than_their_field_are_422_naming_the_field(client, services):
    before = _counts(services)
    headers = _api_token(client)
    visit = {"headcount": 1, "village": "t01v01", "category": "social_security", "claim": "x",
             "petitioners": [{"petitioner_name": "王" * 51, "id_number": "431224196802150021",
                              "phone": "13807451234"}]}
    answer = client.post("/api/v1/cases", json={"process_id": "reception", "data": visit}, headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"data.petitioners.0.petitioner_name": "最多填写50个字"}
    assert client.post("/api/v1/tokens", json={"username": "x" * 65, "password": "y"}).status_code == 422
    assert _counts(services)[:2] == before[:2]


def test_nan_and_infinity_are_not_json_numbers(client):
    answer = client.post("/api/v1/tokens", data='{"username": NaN}', content_type="application/json")
    assert answer.status_code == 400 and "NaN" in answer.get_json()["error"]["message"], answer.get_json()
    broken = client.post("/api/v1/tokens", data=b'{"username": "\xff"}', content_type="application/json")
    assert broken.status_code == 400 and "不是有效的 JSON" in broken.get_json()["error"]["message"]


def test_a_json_body_that_does_not_parse_is_told_where(client):
    answer = client.post("/api/v1/tokens", data='{"username": "a", "password": "x\ry"}',
                         content_type="application/json")
    assert answer.status_code == 400, answer.get_json()
    assert "不是有效的 JSON：第 1 行第 33 列" in answer.get_json()["error"]["message"]
    # a body not sent as JSON at all is still the schemas' "应为 JSON 对象"
    form = client.post("/api/v1/tokens", data="username=a")
    assert form.status_code == 422 and form.get_json()["error"]["fields"] == {"_form": "应为 JSON 对象"}


def test_a_huge_form_field_is_refused_naming_it_and_nothing_is_registered(browser, services):
    before = _counts(services)
    secretary = browser("t01v01.secretary")
    answer = secretary.post("/reception", {**VISIT, "claim": "诉" * 700_000})  # 2 MB
    assert answer.status_code == 422 and "最多填写" in answer.text
    boundary, body = encode_multipart({**VISIT, "claim": "诉" * 700_000, "csrf_token": secretary.token})
    multipart = secretary.client.post("/reception", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert multipart.status_code == 413
    assert "单个填写项最多 500 KB" in multipart.text and "未保存任何内容" in multipart.text
    assert _counts(services)[:2] == before[:2]
