"""The reception desk: the duty secretary registers a visit in one step; the duty cadre disposes of it."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import Instance
from workflows.cases.record import CaseRecord

from .conftest import VISIT
from .pages import errors_of, text_of


def _cases(services) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count(Instance.id))))


def test_the_desk_is_for_whoever_sits_in_the_reception_room_today(browser):
    page = browser("t01v01.secretary").get("/reception")
    assert page.status_code == 200
    text = text_of(page)
    assert "接访台 · 青溪镇" in text and "今日坐班：张伟" in text and "值班：周明" in text
    assert "登记来访" in text
    assert '<option value="t01v01" >桃园社区</option>' in page.text
    villages = page.text.split('id="f-village"')[1].split("</select>")[0]
    assert "桃园社区" in villages and "栗垄村" not in villages  # not a village of another township
    assert "接访台（青溪镇）" in text  # in the menu
    not_today = browser("t01v02.secretary").get("/reception")
    assert "今天您不在乡镇接访室值班" in not_today.text
    assert "接访台（" not in text_of(not_today)
    cadre = browser("t01.cadre").get("/reception")
    assert "今日接访" in cadre.text and 'action="/reception"' not in cadre.text  # the cadre does not register


def test_registering_a_visit_starts_the_case_and_completes_the_registration(browser, desk, services):
    clerk = browser("t01v01.secretary")
    response = clerk.post("/reception", {**VISIT, "headcount": "3", "p-1-petitioner_name": "李四",
                                         "p-1-phone": "13900001111"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reception#case-")
    case_id = int(response.headers["Location"].rsplit("-", 1)[1])
    with services.unit_of_work() as session:
        record = session.get(CaseRecord, case_id)
        assert record.petitioners == [
            {"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234"},
            {"petitioner_name": "李四", "phone": "13900001111"}]
        assert (record.headcount, record.township, record.village, record.category, record.channel) == \
            (3, "t01", "t01v01", "social_security", "visit")
        code = record.query_code
    assert desk.open_elements(case_id) == ["hear_claim"]
    desk_page = clerk.get("/reception")
    text = text_of(desk_page)
    assert f"查询码 {code}（请告知信访人）" in text
    assert "下一步：接谈研判" in text
    assert "王桂英、李四（3人）" in text
    assert "待接谈研判（乡镇信访干部：周明）" in text


def test_a_refused_registration_shows_every_message_keeps_the_input_and_starts_no_case(browser, services):
    before = _cases(services)
    clerk = browser("t01v01.secretary")
    response = clerk.post("/reception", {**VISIT, "p-0-id_number": "12345", "p-1-petitioner_name": "李四",
                                         "p-1-phone": "0745-123", "headcount": "1", "village": "",
                                         "category": "", "claim": "低保资格复核进度"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors["p-0-id_number"] == "请输入18位身份证号码（最后一位可以是X）"
    assert errors["p-1-phone"] == "请输入11位手机号码"
    assert errors["village"] == "请选择村（社区）"
    assert errors["category"] == "请选择诉求类别"
    assert errors["headcount"] == "来访人数不能少于登记的信访人数（2人）"
    assert 'value="12345"' in response.text and 'value="李四"' in response.text and 'value="0745-123"' in response.text
    assert "低保资格复核进度</textarea>" in response.text
    assert _cases(services) == before


def test_a_village_of_another_township_is_refused(browser, services):
    before = _cases(services)
    response = browser("t01v01.secretary").post("/reception", {**VISIT, "village": "t02v01"})
    assert response.status_code == 422
    assert errors_of(response) == {"village": "该村（社区）不属于青溪镇"}
    assert _cases(services) == before


def test_only_the_duty_secretary_registers(browser, services):
    before = _cases(services)
    assert browser("t01v02.secretary").post("/reception", VISIT).status_code == 403
    assert browser("t01.cadre").post("/reception", VISIT).status_code == 403
    assert browser("bureau1").post("/reception", VISIT).status_code == 403
    assert _cases(services) == before


def test_the_cadre_answers_on_the_spot_from_the_desk_and_the_secretary_records_the_answer(browser, desk, services):
    clerk, cadre = browser("t01v01.secretary"), browser("t01.cadre")
    case_id = int(clerk.post("/reception", VISIT).headers["Location"].rsplit("-", 1)[1])
    # the secretary cannot do the cadre's step: the desk says who is next
    hear = desk.task(case_id, "hear_claim")
    assert f'action="/tasks/{hear.id}"' not in clerk.get("/reception").text
    assert clerk.post(f"/tasks/{hear.id}", {"disposition": "answer"}).status_code == 403
    # the cadre disposes with one click on the desk
    page = cadre.get("/reception")
    assert f'action="/tasks/{hear.id}"' in page.text
    assert 'name="disposition" value="answer"' in page.text and 'value="hand_over"' in page.text
    response = cadre.post(f"/tasks/{hear.id}", {"disposition": "answer", "note": "政策明确，当场解释",
                                                "next": f"/reception#case-{case_id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/reception#case-{case_id}"
    assert desk.open_elements(case_id) == ["record_answer"]
    answer = desk.task(case_id, "record_answer")
    assert f'href="/tasks/{answer.id}"' in clerk.get("/reception").text
    done = clerk.post(f"/tasks/{answer.id}", {"answer": "复核结果将于本月公示", "outcome": "explain"})
    assert done.status_code == 302
    with services.unit_of_work() as session:
        record = session.get(CaseRecord, case_id)
        assert (record.status, record.on_the_spot, record.outcome) == ("closed", True, "explain")
    assert "已办结（当场化解）" in text_of(clerk.get("/reception"))


def test_handing_over_waits_for_the_end_of_the_workday_then_goes_to_the_leader(browser, desk):
    clerk, cadre = browser("t01v01.secretary"), browser("t01.cadre")
    case_id = int(clerk.post("/reception", VISIT).headers["Location"].rsplit("-", 1)[1])
    hear = desk.task(case_id, "hear_claim")
    cadre.post(f"/tasks/{hear.id}", {"disposition": "hand_over", "next": "/reception"})
    assert "待下班时移交分管领导督办" in text_of(clerk.get("/reception"))
    desk.run_timer(case_id)
    assert desk.open_elements(case_id) == ["assign_unit"]
    assert desk.task(case_id, "assign_unit").id in browser("t01.leader.social").get("/tasks").text


def test_more_petitioner_rows_without_javascript(browser):
    page = browser("t01v01.secretary").get("/reception?rows=4")
    assert 'name="p-3-petitioner_name"' in page.text and 'name="p-4-petitioner_name"' not in page.text
    assert 'href="/reception?rows=5"' in page.text


def test_off_duty_the_desk_names_who_is_on_duty_and_how_to_log_in(browser):
    page = text_of(browser("t01v02.secretary").get("/reception"))
    assert "今天您不在乡镇接访室值班" in page
    assert "今天青溪镇接访室：坐班村支书 张伟（用户名 t01v01.secretary ），" \
           "乡镇信访干部 周明（用户名 t01.cadre ）" in page


def test_todays_visits_are_all_listed_with_their_count_even_on_a_busy_day(browser, desk):
    cases = [desk.visit() for _ in range(101)]  # more than the desk used to show before cutting the list
    page = browser("t01v01.secretary").get("/reception")
    assert "共 101 件" in text_of(page)
    assert all(f'id="case-{case_id}"' in page.text for case_id in cases)
