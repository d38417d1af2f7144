"""Bounds that keep absurd input out of the official figures: deadlines, headcounts and text lengths, on the
pages and on the API, each refused with a message on the field."""

from __future__ import annotations

import json
from pathlib import Path

import engine
from workflows.cases.forms import read_form
from workflows.org.accounts import issue_api_token

from .conftest import PROJECT_DIR, VISIT
from .pages import errors_of

FORMS = PROJECT_DIR / "bpmn" / "forms"


def test_every_form_of_the_project_bounds_its_text_and_numbers():
    result = engine.validate_bundle(engine.read_bundle([PROJECT_DIR / "bpmn"]))
    assert result.problems == []
    for path in sorted(FORMS.glob("*.json")):
        assert engine.validation.unbounded_fields(path.name, json.loads(path.read_text())) == [], path.name


def test_names_and_claims_have_sensible_limits():
    register = read_form(Path(FORMS / "reception-register.json").read_bytes(), "reception-register.json")
    assert register.field("petitioner_name").max_length == 50
    assert 2000 <= register.field("claim").max_length <= 5000
    assert register.field("headcount").maximum is not None


def test_a_deadline_beyond_the_statutory_handling_period_is_refused(browser, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}", {"handling_unit": "county-hrss", "deadline": "9999-12-31"})
    assert response.status_code == 422
    # the case's own limit: 60 days from the acceptance at the hearing (2 March), 1-5 May being days off
    assert errors_of(response)["deadline"].startswith("办结期限不能晚于2026-05-06：法定办理期限为自受理之日起60日")
    assert desk.task(case_id, "assign_unit").status == "open"


def test_overlong_text_is_refused_with_the_count_and_kept(browser, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}", {"handling_unit": "county-hrss", "deadline": "2026-03-20",
                                                 "instructions": "请" * 10_000})
    assert response.status_code == 422
    assert errors_of(response) == {"instructions": "最多填写2000个字（现有10000个字）"}
    assert 'maxlength="2000"' in response.text


def test_the_desk_refuses_an_absurd_headcount_and_a_long_name(browser):
    clerk = browser("t01v01.secretary")
    response = clerk.post("/reception", {**VISIT, "headcount": "100000", "p-0-petitioner_name": "王" * 300})
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["headcount"] == "不能大于300"
    assert errors["p-0-petitioner_name"] == "最多填写50个字（现有300个字）"
    assert set(errors) == {"headcount", "p-0-petitioner_name"}


def test_a_group_visit_asks_for_confirmation_of_the_headcount(browser):
    clerk = browser("t01v01.secretary")
    response = clerk.post("/reception", {**VISIT, "headcount": "12"})
    assert response.status_code == 422
    assert errors_of(response) == {
        "group_confirmed": "来访12人，达到集体访标准（5人及以上）：请核对来访人数，"
                           "无误后在“已核对人数，确认为集体访”选“是”"}
    assert 'value="12"' in response.text
    confirmed = clerk.post("/reception", {**VISIT, "headcount": "12", "group_confirmed": "true"})
    assert confirmed.status_code == 302


def test_the_api_answers_422_naming_the_field(app, services, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    with services.unit_of_work() as session:
        token = issue_api_token(session, "t01.leader.social")
    response = app.test_client().post(
        f"/api/v1/tasks/{task_id}/complete", headers={"Authorization": f"Bearer {token}"},
        json={"data": {"handling_unit": "county-hrss", "deadline": "9999-12-31", "instructions": "请" * 2001}})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"deadline", "instructions"}
    assert fields["instructions"] == "最多填写2000个字（现有2001个字）"
