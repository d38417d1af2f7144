"""Every page and POST checks role and place on the server: the matrix of people × routes for one visit."""

from __future__ import annotations

import pytest

# A visit at 青溪镇 (t01), waiting for 接谈研判 (乡镇信访干部). Expected answers, in this order: task page, claim,
# case page, unmask, diagram, complete.
MATRIX = {
    "t01.cadre":          (200, 302, 200, 200, 200, 302),  # on duty: acts on it, may unmask
    "t02.cadre":          (403, 403, 403, 403, 403, 403),  # another township
    "t01v01.secretary":   (403, 403, 200, 403, 200, 403),  # registered it: reads the case; not her lane
    "t02v01.secretary":   (403, 403, 403, 403, 403, 403),
    "t01v01.cadre":       (403, 403, 200, 403, 200, 403),  # staff of the village: reads
    "t01v01g01.worker":   (403, 403, 403, 403, 403, 403),  # a grid below the case's village
    "t01.leader.social":  (403, 403, 200, 403, 200, 403),  # township staff: reads
    "t02.leader":         (403, 403, 403, 403, 403, 403),
    "hrss.handler":       (403, 403, 403, 403, 403, 403),  # not (yet) the handling unit
    "bureau1":            (403, 403, 200, 200, 200, 403),  # county bureau: reads and may unmask
    "auditor1":           (403, 403, 200, 403, 200, 403),  # reads only
    "designer1":          (403, 403, 403, 403, 403, 403),
    "county.leader1":     (403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_people_by_routes(username, browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    person = browser(username)
    answers = (
        person.get(f"/tasks/{task_id}").status_code,
        person.post(f"/tasks/{task_id}/claim").status_code,
        person.get(f"/cases/{case_id}").status_code,
        person.post(f"/cases/{case_id}/reveal").status_code,
        person.get(f"/cases/{case_id}/diagram/reception.bpmn").status_code,
        person.post(f"/tasks/{task_id}", {"disposition": "hand_over"}).status_code,
    )
    assert answers == MATRIX[username]
    assert (desk.open_elements(case_id) == ["hear_claim"]) == (MATRIX[username][5] == 403)


@pytest.mark.parametrize("url", ["/tasks", "/reception", "/cases", "/cases/1", "/tasks/x"])
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# -- the JSON API answers as the pages do ------------------------------------------------------------------------
def _api(app, services, username: str):
    from workflows.org.accounts import issue_api_token

    with services.unit_of_work() as session:
        token = issue_api_token(session, username)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return (lambda url: client.get(url, headers=headers)), (lambda url, body=None: client.post(url, json=body,
                                                                                                 headers=headers))


def _as_api(page_status: int) -> int:
    """What the API answers where a page answers `page_status` (a page redirects after a successful POST)."""
    return 200 if page_status == 302 else page_status


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_the_api_allows_what_the_pages_allow(username, app, services, browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    in_page_inbox = task_id in browser(username).get("/tasks").text
    get, post = _api(app, services, username)
    listed = get("/api/v1/tasks")
    assert listed.status_code == 200
    assert (task_id in {item["id"] for item in listed.get_json()["items"]}) == in_page_inbox
    answers = (
        get(f"/api/v1/tasks/{task_id}").status_code,
        post(f"/api/v1/tasks/{task_id}/claim").status_code,
        get(f"/api/v1/cases/{case_id}").status_code,
        post(f"/api/v1/tasks/{task_id}/complete", {"data": {"disposition": "hand_over"}}).status_code,
    )
    page = MATRIX[username]
    assert answers == tuple(_as_api(page[i]) for i in (0, 1, 2, 5))
    assert (desk.open_elements(case_id) == ["hear_claim"]) == (answers[3] == 403)


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_the_api_starts_a_case_where_the_reception_desk_does(username, app, services, browser):
    from .conftest import VISIT

    page = browser(username).post("/reception", VISIT).status_code
    visit = {"headcount": 1, "village": VISIT["village"], "category": VISIT["category"], "claim": VISIT["claim"],
             "petitioners": [{k.removeprefix("p-0-"): v for k, v in VISIT.items() if k.startswith("p-0-")}]}
    _, post = _api(app, services, username)
    answer = post("/api/v1/cases", {"process_id": "reception", "data": visit}).status_code
    assert answer == {302: 201}.get(page, page)
    assert answer == (201 if username == "t01v01.secretary" else 422 if username == "t02v01.secretary" else 403)


@pytest.mark.parametrize("username", ["t01.cadre", "t02.cadre", "bureau1", "auditor1"])
def test_release_through_the_api_is_for_whoever_claimed(username, app, services, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    desk.run(lambda s, e: e.claim(task_id, "t01.cadre"))
    _, post = _api(app, services, username)
    expected = {"t01.cadre": 200, "t02.cadre": 403, "bureau1": 403, "auditor1": 403}[username]
    assert post(f"/api/v1/tasks/{task_id}/release").status_code == expected


@pytest.mark.parametrize("url", ["/api/v1/tasks", "/api/v1/tasks/x", "/api/v1/cases/1"])
def test_the_api_needs_a_token(client, url):
    assert client.get(url).status_code == 401
