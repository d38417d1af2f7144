"""What an API client needs to drive cases without listing its whole inbox: tasks of one case, the next tasks
in a step's answer, and `Idempotency-Key` so a retry after a lost answer is answered, not repeated."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import Event, Instance

from .test_api import VISIT, error_of

START = {"process_id": "reception", "data": VISIT}


def _count(services, model) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_the_task_list_filters_by_case(api, desk):
    first, second = desk.visit(), desk.visit()
    cadre = api("t01.cadre")
    assert {i["case_id"] for i in cadre.get("/api/v1/tasks").get_json()["items"]} == {first, second}
    only = cadre.get(f"/api/v1/tasks?case={second}").get_json()
    assert [(i["case_id"], i["element_id"]) for i in only["items"]] == [(second, "hear_claim")]
    assert cadre.get("/api/v1/tasks?case=999999").get_json()["items"] == []
    bad = cadre.get("/api/v1/tasks?case=abc")
    assert bad.status_code == 422 and error_of(bad)["fields"] == {"case": "应为案件编号（正整数）"}


def test_the_next_tasks_of_a_start_carry_ids_and_links_to_go_on_with(api, desk):
    secretary, cadre = api("t01v01.secretary"), api("t01.cadre")
    started = secretary.post("/api/v1/cases", START).get_json()
    [hear] = started["next_tasks"]
    assert hear["id"] == desk.task(started["id"], "hear_claim").id
    assert (hear["name"], hear["lane"], hear["may_act"]) == ("接谈研判", "乡镇信访干部", False)  # the cadre's, not hers
    assert cadre.get(hear["links"]["self"]).get_json()["may_act"] is True
    done = cadre.post(hear["links"]["complete"], {"data": {"disposition": "hand_over", "note": "移交"}})
    assert done.status_code == 200 and done.get_json()["next_tasks"] == []  # waits for the end of the workday


def test_a_start_retried_with_its_key_returns_the_first_answer_and_starts_one_case(api, services):
    secretary = api("t01v01.secretary")
    headers = {"Idempotency-Key": "visit-7f3a"}
    cases, events = _count(services, Instance), _count(services, Event)
    first = secretary.post("/api/v1/cases", START, headers=headers)
    again = secretary.post("/api/v1/cases", START, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(services, Instance) == cases + 1
    assert _count(services, Event) == events + len(_events_of_one_start(services, first.get_json()["id"]))
    other = secretary.post("/api/v1/cases", START, headers={"Idempotency-Key": "visit-7f3b"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def _events_of_one_start(services, case_id: int) -> list[int]:
    with services.unit_of_work() as session:
        return list(session.scalars(select(Event.seq).where(Event.instance_id == case_id)))


def test_a_completion_retried_with_its_key_returns_the_first_answer_not_a_409(api, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    cadre = api("t01.cadre")
    body, headers = {"data": {"disposition": "hand_over", "note": "移交"}}, {"Idempotency-Key": "c1"}
    first = cadre.post(f"/api/v1/tasks/{task_id}/complete", body, headers=headers)
    again = cadre.post(f"/api/v1/tasks/{task_id}/complete", body, headers=headers)
    assert first.status_code == again.status_code == 200 and again.get_json() == first.get_json()
    # without the key the engine still knows the same person's identical submission: applied, not done twice
    without_key = cadre.post(f"/api/v1/tasks/{task_id}/complete", body)
    assert without_key.status_code == 200 and without_key.get_json()["already_applied"] is True
    other = cadre.post(f"/api/v1/tasks/{task_id}/complete", {"data": {"disposition": "answer"}})
    assert other.status_code == 409


def test_a_key_is_the_callers_own_and_names_one_request(api, desk):
    secretary = api("t01v01.secretary")
    headers = {"Idempotency-Key": "shared-key"}
    assert secretary.post("/api/v1/cases", START, headers=headers).status_code == 201
    changed = secretary.post("/api/v1/cases", {**START, "data": {**VISIT, "claim": "另一件事"}}, headers=headers)
    assert changed.status_code == 422 and error_of(changed)["fields"] == {"Idempotency-Key": "已用于另一个请求"}
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    mine = api("t01.cadre").post(f"/api/v1/tasks/{task_id}/complete",
                                 {"data": {"disposition": "hand_over"}}, headers=headers)
    assert mine.status_code == 200 and mine.get_json()["task_id"] == task_id  # another person's key: no clash
    blank = secretary.post("/api/v1/cases", START, headers={"Idempotency-Key": " "})
    assert blank.status_code == 422 and "Idempotency-Key" in error_of(blank)["fields"]


def test_a_refused_request_is_not_remembered_under_its_key(api, services):
    secretary = api("t01v01.secretary")
    headers = {"Idempotency-Key": "fix-and-resend"}
    refused = secretary.post("/api/v1/cases", {**START, "data": {**VISIT, "village": "t09v09"}}, headers=headers)
    assert refused.status_code == 422
    fixed = secretary.post("/api/v1/cases", {**START, "data": {**VISIT, "village": "t09v09"}}, headers=headers)
    assert fixed.status_code == 422  # still wrong: checked again, not replayed from memory
    assert "Idempotent-Replayed" not in fixed.headers
