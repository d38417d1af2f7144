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
