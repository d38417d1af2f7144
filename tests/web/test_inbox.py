"""My tasks: role AND place decide who sees a task; filters, sorting, counts, highlighting, claim and release."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .pages import text_of


def _task_ids(page) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/tasks/([0-9a-f-]{36})"', page.text)))


def test_the_reception_tasks_go_to_whoever_is_on_duty_today(browser, desk):
    case_id = desk.visit()
    hear = desk.task(case_id, "hear_claim")
    assert hear.id in _task_ids(browser("t01.cadre").get("/tasks"))          # on duty at 青溪镇 today
    assert hear.id not in _task_ids(browser("t02.cadre").get("/tasks"))      # cadre of another township
    assert hear.id not in _task_ids(browser("t01v01.secretary").get("/tasks"))  # 乡镇信访干部's lane, not hers
    assert hear.id not in _task_ids(browser("bureau1").get("/tasks"))


def test_the_duty_secretary_of_the_day_gets_the_reception_room_tasks(browser, desk):
    case_id = desk.visit()
    desk.complete(case_id, "hear_claim", {"disposition": "answer"}, "t01.cadre")
    answer = desk.task(case_id, "record_answer")
    assert answer.id in _task_ids(browser("t01v01.secretary").get("/tasks"))
    # 刘静 (t01v02) is 青溪镇's duty secretary tomorrow, not today
    assert answer.id not in _task_ids(browser("t01v02.secretary").get("/tasks"))
    desk.advance(timedelta(days=1))
    assert answer.id in _task_ids(browser("t01v02.secretary").get("/tasks"))
    assert answer.id not in _task_ids(browser("t01v01.secretary").get("/tasks"))


def test_leader_tasks_go_to_the_leader_of_the_case_and_place(browser, desk):
    case_id = desk.handed_over()
    assign = desk.task(case_id, "assign_unit")
    assert assign.id in _task_ids(browser("t01.leader.social").get("/tasks"))
    assert assign.id not in _task_ids(browser("t01.leader.land").get("/tasks"))  # another domain's leader
    assert assign.id not in _task_ids(browser("t02.leader").get("/tasks"))       # another township


def test_handling_unit_tasks_go_to_the_chosen_unit_only(browser, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    handle = desk.task(case_id, "handle_case")
    assert handle.id in _task_ids(browser("hrss.handler").get("/tasks"))
    assert handle.id not in _task_ids(browser("civil.handler").get("/tasks"))
    assert handle.id not in _task_ids(browser("t01-justice.handler").get("/tasks"))


def test_village_tasks_go_to_the_village_cadres_of_that_village(browser, desk):
    case_id = desk.petition(village="t01v01")
    resolve = desk.task(case_id, "village_resolve")
    assert resolve.id in _task_ids(browser("t01v01.cadre").get("/tasks"))
    assert resolve.id in _task_ids(browser("t01v01.secretary").get("/tasks"))
    assert resolve.id not in _task_ids(browser("t01v02.secretary").get("/tasks"))  # holds no 村干部 position
    other = desk.petition(village="t01v02")
    assert desk.task(other, "village_resolve").id not in _task_ids(browser("t01v01.cadre").get("/tasks"))


def test_filters_and_counts(browser, desk):
    desk.handed_over()
    desk.handed_over(category="labor", claim="拖欠工资")
    desk.handed_over(category="dispute", claim="邻里纠纷")  # 矛盾纠纷: the law leader's, not hers
    leader = browser("t01.leader.social")
    page = leader.get("/tasks")
    assert len(_task_ids(page)) == 2
    text = text_of(page)
    assert "社会保障 (1)" in text and "劳动就业 (1)" in text and "矛盾纠纷" not in text
    filtered = leader.get("/tasks?category=labor")
    assert len(_task_ids(filtered)) == 1
    assert "共 2 件，当前显示 1 件" in text_of(filtered)
    # the counts of other filters follow the chosen category
    assert "坐班接访 (1)" in text_of(filtered)
    assert len(_task_ids(leader.get("/tasks?place=t01"))) == 2
    assert len(_task_ids(leader.get("/tasks?place=t02"))) == 0
    assert len(_task_ids(leader.get("/tasks?process=reception"))) == 2
    assert len(_task_ids(leader.get("/tasks?process=petition"))) == 0
    assert len(_task_ids(leader.get("/tasks?due=none"))) == 2
    assert leader.get("/tasks?due=bogus&sort=bogus").status_code == 200


def test_overdue_and_due_today_tasks_stand_out_and_sort_first(browser, desk):
    first = desk.handed_over(fire=False)
    second = desk.handed_over(fire=False, category="labor")
    desk.run_timer(first)  # both are handed over at 17:30 on 2026-03-02
    tomorrow = (date(2026, 3, 3)).isoformat()
    desk.complete(first, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-03"},
                  "t01.leader.social")
    desk.complete(second, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-30"},
                  "t01.leader.social")
    handler = browser("hrss.handler")
    # now 2026-03-02 17:31: the first is due 2026-03-03 17:30 (tomorrow), the second at the end of March
    page = handler.get("/tasks?sort=due")
    ids = _task_ids(page)
    assert ids[0] == desk.task(first, "handle_case").id
    assert tomorrow in text_of(page)
    desk.advance(timedelta(hours=15))  # 2026-03-03 08:31: the first is due today
    today = handler.get("/tasks")
    assert '<span class="badge today">今天到期</span>' in today.text
    assert len(_task_ids(handler.get("/tasks?due=today"))) == 1
    desk.advance(timedelta(days=1))  # 2026-03-04 08:31: overdue
    late = handler.get("/tasks")
    assert '<tr class="overdue">' in late.text and "已超期" in late.text
    assert _task_ids(handler.get("/tasks?due=overdue")) == [desk.task(first, "handle_case").id]
    assert "已超期 (1)" in text_of(late)


def test_claim_and_release(browser, desk, services):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}/claim", {"next": "/tasks?claim=mine"})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks?claim=mine"
    assert desk.task(case_id, "assign_unit").claimed_by == "t01.leader.social"
    mine = leader.get("/tasks?claim=mine")
    assert _task_ids(mine) == [task_id] and "我已认领" in mine.text
    assert "已认领「交办」" in text_of(mine)
    assert leader.post(f"/tasks/{task_id}/release").status_code == 302
    assert desk.task(case_id, "assign_unit").claimed_by is None
    assert _task_ids(leader.get("/tasks?claim=unclaimed")) == [task_id]


def test_a_task_claimed_by_someone_else_cannot_be_taken_or_completed(browser, desk, app):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    desk.run(lambda s, e: e.claim(task_id, "someone.else"))
    cadre = browser("t01.cadre")
    page = cadre.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and "已由 someone.else 认领" in page.text
    assert 'action="/tasks/' + task_id + '"' not in page.text  # no form to submit
    # taking it is a lost race, as when both clicked at once: back to the inbox, told who holds it
    taken = cadre.post(f"/tasks/{task_id}/claim")
    assert taken.status_code == 302 and "该任务已由 someone.else" in cadre.get(taken.location).text
    # submitting the form (opened before the colleague claimed it) is told the same, on the case page
    sent = cadre.post(f"/tasks/{task_id}", {"disposition": "answer"})
    assert sent.status_code == 302 and sent.location.endswith(f"/cases/{case_id}")
    assert "该任务已由 someone.else" in cadre.get(sent.location).text
    assert desk.task(case_id, "hear_claim").status == "open"
    assert desk.task(case_id, "hear_claim").claimed_by == "someone.else"


def test_claiming_another_places_task_is_forbidden(browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    stranger = browser("t02.cadre")
    assert stranger.post(f"/tasks/{task_id}/claim").status_code == 403
    assert stranger.post(f"/tasks/{task_id}", {"disposition": "answer"}).status_code == 403
    assert stranger.post(f"/tasks/{task_id}/release").status_code == 403
    assert desk.task(case_id, "hear_claim").claimed_by is None




def test_an_overdue_notice_without_its_own_due_time_shows_the_cases_deadline(browser, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    while "report_overdue" not in desk.open_elements(case_id):
        desk.run_timer(case_id)
    task = desk.task(case_id, "report_overdue")
    assert task.due_at is None
    page = browser("bureau1").get("/tasks")
    start = page.text.index(f'href="/tasks/{task.id}"')
    assert "2026-03-20 17:30" in page.text[start - 400:start], page.text[start - 400:start]
    assert "督办办结期限" in page.text[start - 400:start]
