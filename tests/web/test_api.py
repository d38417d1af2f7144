"""The JSON API: tokens, my tasks, claim, release, complete, start and read a case, errors in one shape, and the
OpenAPI document matching the routes. (Who may do what, person by person: test_access_matrix.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from doorstep.cli import main
from engine.models import Event, Instance
from web.openapi import openapi_path
from workflows.cases.record import CaseRecord

from .conftest import PASSWORD, Api

VISIT = {"headcount": 1, "village": "t01v01", "category": "social_security", "claim": "低保资格复核进度",
         "petitioners": [{"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234"}]}


def error_of(response) -> dict[str, Any]:
    """The error body, checked to have the one shape."""
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "fields"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"]


def _cases(services) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count(Instance.id))))


# -- authentication ---------------------------------------------------------------------------------------------
def test_a_token_for_a_username_and_password(client):
    response = client.post("/api/v1/tokens", json={"username": "t01.cadre", "password": PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["username"], body["display_name"]) == ("t01.cadre", "周明") and "password" not in body
    token = body["token"]
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # a new token replaces the old one
    again = client.post("/api/v1/tokens", json={"username": "t01.cadre", "password": PASSWORD}).get_json()["token"]
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {again}"}).status_code == 200


def test_a_wrong_password_or_a_malformed_request_gets_no_token(client):
    wrong = client.post("/api/v1/tokens", json={"username": "t01.cadre", "password": "guess-1234"})
    assert wrong.status_code == 401 and error_of(wrong)["message"] == "用户名或密码不正确"
    unknown = client.post("/api/v1/tokens", json={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401
    empty = client.post("/api/v1/tokens", json={"username": "", "extra": 1})
    assert empty.status_code == 422
    assert error_of(empty)["fields"] == {"username": "请填写此项", "password": "请填写此项", "extra": "不认识的字段"}
    not_json = client.post("/api/v1/tokens", data="username=t01.cadre")
    assert not_json.status_code == 422 and error_of(not_json)["fields"] == {"_form": "应为 JSON 对象"}


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic dDAxLmNhZHJlOnB3", "t01.cadre"])
def test_no_valid_token_is_401(client, header):
    response = client.get("/api/v1/tasks", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert error_of(response)["message"].startswith("需要有效的 API 令牌")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_never_authenticates_the_api(browser, desk):
    """A logged-in browser (cookie and CSRF token) is not a caller of the API: another site cannot use it."""
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    cadre = browser("t01.cadre")
    assert cadre.get("/tasks").status_code == 200  # logged in for the pages
    assert cadre.get("/api/v1/tasks").status_code == 401
    claim = cadre.client.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRF-Token": cadre.token})
    assert claim.status_code == 401 and "Set-Cookie" not in claim.headers
    assert desk.task(case_id, "hear_claim").claimed_by is None


def test_a_username_remembered_for_its_session_is_no_token(app, browser):
    """Pages and tokens share the worker's memory of viewers, in separate kinds: a session's person, remembered
    for the inbox page, cannot be named as a bearer token."""
    assert browser("t01.cadre").get("/tasks").status_code == 200
    for header in ("Bearer t01.cadre", "Bearer session:t01.cadre"):
        assert app.test_client().get("/api/v1/tasks", headers={"Authorization": header}).status_code == 401


def test_the_cli_issues_a_token(app, services, monkeypatch):
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", services.settings.database_url)
    runner = CliRunner()
    issued = runner.invoke(main, ["token", "issue", "t01.cadre"], catch_exceptions=False)
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert Api(app, token).get("/api/v1/tasks").status_code == 200
    missing = runner.invoke(main, ["token", "issue", "nobody"])
    assert missing.exit_code == 1 and "nobody has no account" in missing.stderr


# -- my tasks, claim, release -----------------------------------------------------------------------------------
def test_my_tasks_with_filters_and_counts(api, desk):
    first, second = desk.visit(), desk.visit(category="land", claim="宅基地纠纷")
    cadre = api("t01.cadre")
    box = cadre.get("/api/v1/tasks").get_json()
    assert box["total"] == 2
    assert sorted(item["case_id"] for item in box["items"]) == [first, second]
    item = next(i for i in box["items"] if i["case_id"] == first)
    assert (item["name"], item["lane"], item["process_id"], item["category"], item["place"]) == \
        ("接谈研判", "乡镇信访干部", "reception", "social_security", "t01")
    assert item["case_number"].startswith("XP2026-") and item["claimed_by"] is None and item["due"] == "none"
    assert {f["value"]: f["count"] for f in box["facets"]["category"]} == {"land": 1, "social_security": 1}
    land = cadre.get("/api/v1/tasks?category=land").get_json()
    assert [i["case_id"] for i in land["items"]] == [second] and land["total"] == 2
    assert cadre.get("/api/v1/tasks?claim=mine").get_json()["items"] == []
    bad = cadre.get("/api/v1/tasks?due=soon&sort=random")
    assert bad.status_code == 422
    assert set(error_of(bad)["fields"]) == {"due", "sort"}
    assert error_of(bad)["fields"]["due"].startswith("可选值：overdue（已超期）")
    assert api("t02.cadre").get("/api/v1/tasks").get_json()["items"] == []  # another township


def test_a_task_with_its_form(api, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    task = api("t01.leader.social").get(f"/api/v1/tasks/{task_id}").get_json()
    assert task["may_act"] is True and task["status"] == "open"
    assert task["form"]["required"] == ["handling_unit", "deadline"]
    # the routing rules' unit and the case's statutory handling limit (60 days from the acceptance), as on the page
    assert task["suggested"] == {"handling_unit": "county-hrss", "deadline": "2026-05-06"}


def test_the_suggested_handling_unit_is_one_the_form_accepts(api, desk):
    """Land claims go first to 县自然资源局, where nobody holds 承办单位 in this org: the suggestion passes it over for
    the next unit of the routing tables, and the suggestion submitted as it stands is accepted."""
    case_id = desk.handed_over(category="land", claim="宅基地纠纷")
    task_id = desk.task(case_id, "assign_unit").id
    leader = api("t01.leader.land")
    suggested = leader.get(f"/api/v1/tasks/{task_id}").get_json()["suggested"]
    assert suggested["handling_unit"] == "county-discipline"  # the fallback list's first unit with a handler
    refused = leader.post(f"/api/v1/tasks/{task_id}/complete",
                          {"data": {**suggested, "handling_unit": "county-natural-resources"}})
    assert error_of(refused)["fields"] == {"handling_unit": "县自然资源局没有可以办理的承办人员，请另选承办单位"}
    done = leader.post(f"/api/v1/tasks/{task_id}/complete", {"data": suggested})
    assert done.status_code == 200, done.get_json()


def test_claim_and_release(api, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    cadre = api("t01.cadre")
    claimed = cadre.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200
    assert (claimed.get_json()["claimed_by"], claimed.get_json()["claimed_by_me"]) == ("t01.cadre", True)
    assert [i["id"] for i in cadre.get("/api/v1/tasks?claim=mine").get_json()["items"]] == [task_id]
    released = cadre.post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["claimed_by"] is None
    again = cadre.post(f"/api/v1/tasks/{task_id}/release")
    assert again.status_code == 409 and error_of(again)["message"] == "您没有认领该任务"
    assert desk.task(case_id, "hear_claim").claimed_by is None


# -- complete ---------------------------------------------------------------------------------------------------
def test_completing_checks_the_form_and_the_domain_rules(api, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = api("t01.leader.social")
    url = f"/api/v1/tasks/{task_id}/complete"
    refused = leader.post(url, {"data": {"handling_unit": "no-such-unit", "deadline": "2026-03-01", "colour": "red"}})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"handling_unit": "没有找到该承办单位：请从列表中选择，不要手工填写名称",
                                           "deadline": "办结期限不能早于今天（2026-03-02）", "colour": "表单中没有此项"}
    typed = leader.post(url, {"data": {"handling_unit": "county-hrss", "deadline": 20260320}})
    assert error_of(typed)["fields"] == {"deadline": "请输入文字"}
    missing = leader.post(url, {"values": {}})
    assert error_of(missing)["fields"] == {"data": "请填写此项", "values": "不认识的字段"}
    assert desk.open_elements(case_id) == ["assign_unit"]
    done = leader.post(url, {"data": {"handling_unit": "县人力资源和社会保障局", "deadline": "2026-03-20"}})
    assert done.status_code == 200
    answer = done.get_json()
    handle = desk.task(case_id, "handle_case")
    assert answer == {"task_id": task_id, "case_id": case_id, "case_number": f"XP2026-{case_id:06d}",
                      "case_status": "running", "next_steps": ["办理并报告"], "already_applied": False, "next_tasks": [{
                          "id": handle.id, "name": "办理并报告", "element_id": "handle_case", "lane": "承办单位",
                          "due_at": answer["next_tasks"][0]["due_at"], "claimed_by": None, "may_act": False,
                          "stand_in_reason": "",
                          "links": {"self": f"/api/v1/tasks/{handle.id}",
                                    "complete": f"/api/v1/tasks/{handle.id}/complete"}}]}
    assert answer["next_tasks"][0]["due_at"].startswith("2026-03-20T")
    assert desk.open_elements(case_id) == ["handle_case"]
    # the same submission again (a client retrying after a lost answer) is answered as applied, not done twice
    twice = leader.post(url, {"data": {"handling_unit": "county-hrss", "deadline": "2026-03-20"}})
    assert twice.status_code == 200 and twice.get_json()["already_applied"] is True
    assert desk.open_elements(case_id) == ["handle_case"]
    # different data after the task was completed: 409 naming who completed it
    other = leader.post(url, {"data": {"handling_unit": "county-hrss", "deadline": "2026-03-21"}})
    assert other.status_code == 409 and "该任务已由" in error_of(other)["message"]
    assert "t01.leader.social" in error_of(other)["message"] and "办理" in error_of(other)["message"]


def test_a_value_outside_the_choices_is_a_field_message(api, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    response = api("t01.cadre").post(f"/api/v1/tasks/{task_id}/complete", {"data": {"disposition": "shrug"}})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"disposition": "请从给出的选项中选择"}
    boolean = api("t01.cadre").post(f"/api/v1/tasks/{task_id}/complete", {"data": {}})
    assert error_of(boolean)["fields"] == {"disposition": "请选择处理方式"}


def test_a_task_claimed_by_someone_else_cannot_be_completed(api, desk, services):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    desk.run(lambda s, e: e.claim(task_id, "bureau1"))  # e.g. claimed before a reassignment
    response = api("t01.leader.social").post(f"/api/v1/tasks/{task_id}/complete",
                                             {"data": {"handling_unit": "county-hrss", "deadline": "2026-03-20"}})
    assert response.status_code == 409 and "该任务已由" in error_of(response)["message"]  # as a lost claim is told
    assert "bureau1" in error_of(response)["message"] and desk.task(case_id, "assign_unit").status == "open"


# -- start and read a case --------------------------------------------------------------------------------------
def test_the_duty_secretary_starts_a_reception_case(api, desk, services):
    response = api("t01v01.secretary").post("/api/v1/cases", {"process_id": "reception", "data": {
        **VISIT, "headcount": 2, "petitioners": [*VISIT["petitioners"], {"petitioner_name": "李四"}]}})
    assert response.status_code == 201
    body = response.get_json()
    case_id = body["id"]
    assert response.headers["Location"] == f"/api/v1/cases/{case_id}"
    assert body["next_steps"] == ["接谈研判"] and body["case_status"] == "running"
    with services.unit_of_work() as session:
        record = session.get(CaseRecord, case_id)
        assert body["query_code"] == record.query_code and body["case_number"] == record.case_number
        assert (record.township, record.village, record.headcount, record.channel) == ("t01", "t01v01", 2, "visit")
        assert [p["petitioner_name"] for p in record.petitioners] == ["王桂英", "李四"]
    assert desk.open_elements(case_id) == ["hear_claim"]


def test_a_refused_visit_names_every_field_and_starts_no_case(api, services):
    before = _cases(services)
    secretary = api("t01v01.secretary")
    response = secretary.post("/api/v1/cases", {"process_id": "reception", "data": {
        "headcount": 1, "village": "t02v01", "category": "", "claim": "x",
        "petitioners": [{"petitioner_name": "王桂英", "id_number": "12345"}, {"petitioner_name": "李四",
                                                                              "phone": "0745"}]}})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "data.village": "该村（社区）不属于青溪镇", "data.category": "请选择诉求类别",
        "data.headcount": "来访人数不能少于登记的信访人数（2人）",
        "data.petitioners.0.id_number": "请输入18位身份证号码（最后一位可以是X）",
        "data.petitioners.1.phone": "请输入11位手机号码"}
    shapes = secretary.post("/api/v1/cases", {"process_id": "reception", "data": {
        "headcount": "two", "petitioners": [{"name": "王"}]}})
    assert error_of(shapes)["fields"] == {"data.headcount": "请输入整数",
                                          "data.petitioners.0.name": "不认识的字段"}
    nobody = secretary.post("/api/v1/cases", {"process_id": "reception", "data": {**VISIT, "petitioners": []}})
    assert error_of(nobody)["fields"] == {"data.petitioners.0.petitioner_name": "请填写至少一位信访人的姓名"}
    assert _cases(services) == before


def test_only_what_the_domain_offers_can_be_started(api, services):
    before = _cases(services)
    not_on_duty = api("t01v02.secretary").post("/api/v1/cases", {"process_id": "reception", "data": VISIT})
    assert not_on_duty.status_code == 403 and "不在乡镇接访室坐班" in error_of(not_on_duty)["message"]
    petition = api("t01.cadre").post("/api/v1/cases", {"process_id": "petition", "data": {}})
    assert petition.status_code == 403
    assert "不能发起流程 petition（可发起者：县信访局）" in error_of(petition)["message"]
    supervision = api("bureau1").post("/api/v1/cases", {"process_id": "supervision", "data": {}})
    assert supervision.status_code == 403 and "由其他流程的步骤" in error_of(supervision)["message"]
    empty = api("bureau1").post("/api/v1/cases", {"process_id": "petition", "data": {}})
    assert empty.status_code == 422 and "data.claim" in error_of(empty)["fields"]
    unknown = api("bureau1").post("/api/v1/cases", {"process_id": "no_such_process"})
    assert unknown.status_code == 404
    assert _cases(services) == before


def test_reading_a_case_masks_personal_data(api, desk):
    case_id = desk.handed_over()
    response = api("t01.leader.social").get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200
    case = response.get_json()
    assert "431224196802150021" not in response.text and "13807451234" not in response.text
    assert case["petitioners"] == [{"petitioner_name": "王桂英", "id_number": "431224********0021",
                                    "phone": "138****1234"}]
    assert (case["id"], case["process_id"], case["status"], case["places"]) == \
        (case_id, "reception", "open", ["青溪镇", "桃园社区"])
    assert [h["task"] for h in case["holders"]] == ["交办"] and case["holders"][0]["who"] == "王芳"
    assert [e["label"] for e in case["history"]][:3] == ["立案", "完成任务", "完成任务"]
    assert any(d == {"label": "身份证号", "value": "431224********0021"}
               for e in case["history"] for d in e["details"])


def test_reading_a_case_does_not_record_an_unmasked_view(api, desk, services):
    case_id = desk.visit()
    api("bureau1").get(f"/api/v1/cases/{case_id}")
    with services.unit_of_work() as session:
        assert not session.scalars(select(Event).where(Event.instance_id == case_id,
                                                       Event.type == "personal_data_viewed")).all()


def test_unknown_ids_and_routes_are_404_in_the_one_shape(api):
    cadre = api("t01.cadre")
    for response in (cadre.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000"),
                     cadre.post("/api/v1/tasks/00000000-0000-0000-0000-000000000000/claim"),
                     cadre.post("/api/v1/tasks/00000000-0000-0000-0000-000000000000/complete", {"data": {}}),
                     cadre.get("/api/v1/cases/999999"), cadre.get("/api/v1/nothing-here")):
        assert response.status_code == 404 and error_of(response)["message"]
    wrong_method = cadre.client.delete("/api/v1/tasks", headers=cadre.headers)
    assert wrong_method.status_code == 405 and error_of(wrong_method)["status"] == 405


# -- the OpenAPI document ---------------------------------------------------------------------------------------
def test_the_openapi_document_matches_the_routes(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            routes.setdefault(openapi_path(rule.rule)[0], set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    documented = {path: set(operations) for path, operations in document["paths"].items()}
    assert documented == routes
    assert {"/api/v1/tasks", "/api/v1/tasks/{task_id}/complete", "/api/v1/cases", "/api/v1/cases/{case_id}",
            "/api/v1/tokens"} <= set(documented)
    schemas = document["components"]["schemas"]
    assert {"Task", "Inbox", "Case", "CompletionRequest", "VisitRequest", "Error"} <= set(schemas)
    complete = document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} == set(complete["responses"])
    assert complete["requestBody"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/CompletionRequest"}
    assert complete["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/v1/tokens"]["post"]["security"] == []
    assert set(schemas["ErrorBody"]["properties"]) == {"status", "message", "fields"}
    assert [p["name"] for p in document["paths"]["/api/v1/tasks"]["get"]["parameters"]] == \
        ["due", "category", "place", "process", "claim", "sort", "case"]
    rating = document["paths"]["/api/v1/cases/{case_id}/rating"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} == set(rating["responses"])
    assert [p["name"] for p in rating["parameters"]] == ["case_id", "Idempotency-Key"]
    assert schemas["RatingRequest"]["properties"]["satisfaction"]["enum"] == \
        ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
    assert schemas["RatingRequest"]["properties"]["comment"]["maxLength"] == 500
