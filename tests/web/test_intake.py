"""The doors of intake (workflows/data/start_permissions.yaml) on pages and the API: who may open what, forms
checked on the fields, nothing saved when refused, the place fixed for doors at one's own place."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from workflows.cases.org_choice import check_org_fields
from workflows.cases.record import CaseRecord
from workflows.intake.start_permissions import start_permissions
from workflows.org.search import PICKS, choices

from .pages import errors_of, text_of

# Who may open which door: the table the county agreed on (issue #10), written out here so that a change of the
# data file that opens or closes a door to a role shows up as a failing test.
PEOPLE = ("t01v01.secretary", "t01v01.cadre", "t01v01g01.worker", "t01.cadre", "t01.leader.social",
          "hrss.handler", "bureau1", "auditor1", "designer1", "county.leader1")
OPEN_TO = {
    "letter": {"bureau1"}, "phone": {"bureau1"}, "fax": {"bureau1"}, "visit_county": {"bureau1"}, "online": {"bureau1"},
    "household_visit": {"t01v01g01.worker"}, "wechat_group": {"t01v01.secretary", "t01v01.cadre"},
    "message_board": {"bureau1"}, "leader_package": {"bureau1"}, "handed_down": {"bureau1"},
}
PETITION = {"category": "dispute", "petitioner_name": "张秋菊", "id_number": "431224196504110529",
            "phone": "13873025571", "headcount": "1", "township": "t01", "village": "t01v01",
            "claim": "邻居搭建猪圈堵塞排水沟", "confidentiality_requested": "false"}
GRID_ISSUE = {"household": "李大爷", "source": "home_visit", "category": "infrastructure",
              "claim": "村道路灯坏了三盏", "complexity": "general"}
MESSAGE = {"petitioner_name": "网友", "claim": "村里垃圾清运不及时"}


def cases_count(services: Any) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(CaseRecord)))


def test_every_door_of_the_data_file_is_in_the_table_above():
    assert {d.code for d in start_permissions().doors if d.page != "reception"} == set(OPEN_TO)


@pytest.mark.parametrize("door", sorted(OPEN_TO))
def test_a_door_opens_to_its_roles_only_on_pages(browser, door):
    for person in PEOPLE:
        page = browser(person).get(f"/intake/{door}")
        assert page.status_code == (200 if person in OPEN_TO[door] else 403), (person, door)
        listed = browser(person).get("/intake").get_data(as_text=True)
        assert (f"/intake/{door}\"" in listed) == (person in OPEN_TO[door]), (person, door)


def test_the_county_bureau_registers_a_letter_and_is_told_the_query_code(browser, services):
    bureau = browser("bureau1")
    page = bureau.get("/intake/letter").get_data(as_text=True)
    assert "来信" in page and 'name="channel"' not in page  # the channel is the door's, not asked
    done = bureau.post("/intake/letter", PETITION)
    assert done.status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
        assert (case.channel, case.process_id, case.village) == ("letter", "petition", "t01v01")
    shown = bureau.get(done.headers["Location"]).get_data(as_text=True)
    assert case.query_code in shown and case.case_number in shown


def test_a_refused_registration_says_so_on_the_fields_and_saves_nothing(browser, services):
    refused = browser("bureau1").post("/intake/phone", {**PETITION, "village": "t02v01", "id_number": "12"})
    assert refused.status_code == 422
    errors = errors_of(refused)
    assert errors["village"] == "该村（社区）不属于青溪镇" and "18位身份证号码" in errors["id_number"]
    assert "12" in refused.get_data(as_text=True)  # what was typed is kept
    assert cases_count(services) == 0


def test_a_matter_handed_down_from_above_names_the_level_it_came_from(browser, services):
    bureau = browser("bureau1")
    missing = bureau.post("/intake/handed_down", {**PETITION, "channel": "letter"})
    assert errors_of(missing) == {"handed_down_from": "请选择上级交办来源（上级信访部门转送、交办的填写）"}
    assert cases_count(services) == 0
    done = bureau.post("/intake/handed_down", {**PETITION, "channel": "letter", "handed_down_from": "province"})
    assert done.status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
        assert (case.channel, case.handed_down_from) == ("letter", "province")


def test_the_grid_worker_records_an_issue_at_their_own_grid(browser, services):
    worker = browser("t01v01g01.worker")
    page = worker.get("/intake/household_visit").get_data(as_text=True)
    assert "第1网格" in page and 'name="grid"' not in page
    done = worker.post("/intake/household_visit", {**GRID_ISSUE, "grid": "t02v01", "village": "t02v01"})
    assert done.status_code == 302  # a place typed into the post is ignored: the worker's own grid is used
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
        assert (case.township, case.village, case.grid, case.channel) == ("t01", "t01v01", "t01v01g01", "grid")


def test_the_village_cadre_enters_a_wechat_group_message_for_the_own_village(browser, services):
    done = browser("t01v01.cadre").post("/intake/wechat_group", MESSAGE)
    assert done.status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
        assert (case.process_id, case.village) == ("online_message", "t01v01")


def test_a_wechat_group_message_is_acknowledged_by_the_cadre_of_its_own_village(browser, desk, services):
    done = browser("t01v01.cadre").post("/intake/wechat_group", MESSAGE)
    case_id = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert desk.open_elements(case_id) == ["respond_village"]
    task = desk.task(case_id, "respond_village")
    assert task.lane == "村干部" and task.scope == "t01v01"
    assert f"/tasks/{task.id}" in browser("t01v01.secretary").get("/tasks").get_data(as_text=True)
    for outsider in ("bureau1", "t01v02.secretary", "t01.cadre"):  # the county, another village, the township
        assert browser(outsider).get(f"/tasks/{task.id}").status_code == 403, outsider
    reply = {"response": "已收到，正在联系县人社局", "category": "social_security"}
    village = browser("t01v01.cadre").post(f"/tasks/{task.id}", {**reply, "responsible_unit": "t01v02"})
    assert "请从列表中选择" in errors_of(village)["responsible_unit"]  # the unit that claims it must have staff
    unstaffed = browser("t01v01.cadre").post(f"/tasks/{task.id}", {**reply, "responsible_unit": "county-water"})
    assert errors_of(unstaffed) == {"responsible_unit": "县水利局没有可以办理的承办人员，请另选承办单位"}
    answered = browser("t01v01.cadre").post(f"/tasks/{task.id}", {**reply, "responsible_unit": "county-hrss"})
    assert answered.status_code == 302
    assert desk.open_elements(case_id) == ["claim"]
    assert browser("hrss.handler").get(f"/tasks/{desk.task(case_id, 'claim').id}").status_code == 200


def test_a_message_board_message_is_acknowledged_by_the_county_bureau(browser, desk):
    done = browser("bureau1").post("/intake/message_board", {**MESSAGE, "township": "t01", "village": "t01v01"})
    case_id = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert desk.open_elements(case_id) == ["respond"]
    task = desk.task(case_id, "respond")
    assert task.lane == "县信访局"
    assert browser("t01v01.cadre").get(f"/tasks/{task.id}").status_code == 403
    assert browser("bureau1").get(f"/tasks/{task.id}").status_code == 200


def test_leader_packaging_starts_from_a_chosen_case_linked_by_id(browser, api, desk, services):
    earlier = desk.petition()
    bureau = browser("bureau1")
    chooser = bureau.get("/intake/leader_package").get_data(as_text=True)
    assert f"source_case={earlier}" in chooser
    form = bureau.get(f"/intake/leader_package?source_case={earlier}").get_data(as_text=True)
    assert "邻居搭建猪圈堵塞排水沟" in form and 'name="case_ref"' not in form
    done = bureau.post("/intake/leader_package", {"source_case": str(earlier), "list_reason": "stuck",
                                                 "case_summary": "多次反映未果", "package_leader": "county.leader1"})
    assert done.status_code == 302
    new_id = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    data = desk.run(lambda s, e: e.case_data(new_id))
    assert data["source_case"] == earlier and data["case_ref"].startswith("XP2026-")
    with services.unit_of_work() as session:
        assert session.get(CaseRecord, new_id).source_case == earlier
        numbers = {c.instance_id: c.case_number for c in session.scalars(select(CaseRecord))}
    packaged = text_of(bureau.get(f"/cases/{earlier}"))
    assert f"已包案 → 案件 {numbers[new_id]}" in packaged
    assert f'href="/cases/{new_id}"' in bureau.get(f"/cases/{earlier}").get_data(as_text=True)
    assert f'href="/cases/{earlier}"' in bureau.get(f"/cases/{new_id}").get_data(as_text=True)
    assert f"包案案件 {numbers[earlier]}" in text_of(bureau.get(f"/cases/{new_id}"))
    answer = api("bureau1").get(f"/api/v1/cases/{new_id}").get_json()
    assert answer["source_case"] == {"id": earlier, "case_number": numbers[earlier]}
    assert api("bureau1").get(f"/api/v1/cases/{earlier}").get_json()["packaged_in"] == [
        {"id": new_id, "case_number": numbers[new_id]}]
    village = browser("t01v01.cadre")  # sees the village's case, not the county's packaging of it
    assert village.get(f"/cases/{new_id}").status_code == 403
    assert "已包案" not in text_of(village.get(f"/cases/{earlier}"))


def test_packagings_listed_before_the_column_existed_are_linked_by_the_migration(browser, desk, services):
    earlier = desk.petition()
    done = browser("bureau1").post("/intake/leader_package", {
        "source_case": str(earlier), "list_reason": "stuck", "case_summary": "多次反映未果",
        "package_leader": "county.leader1"})
    new_id = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    path = Path(__file__).parents[2] / "doorstep/migrations/versions/0013_case_record_source_case.py"
    found = importlib.util.spec_from_file_location("migration_0013", path)
    assert found is not None and found.loader is not None
    migration = importlib.util.module_from_spec(found)
    found.loader.exec_module(migration)
    with services.unit_of_work() as session:
        session.execute(update(CaseRecord).values(source_case=None))
        migration.link_existing_packagings(session.connection())
        session.commit()
        assert session.get(CaseRecord, new_id).source_case == earlier
        assert session.get(CaseRecord, earlier).source_case is None


def test_leader_packaging_refuses_a_typed_leader_and_a_case_not_chosen(browser, desk, services):
    earlier = desk.petition()
    bureau = browser("bureau1")
    typed = {"list_reason": "stuck", "case_summary": "多次反映未果", "package_leader": "陈志远县长"}
    refused = bureau.post("/intake/leader_package", {**typed, "source_case": str(earlier)})
    assert refused.status_code == 422
    assert errors_of(refused) == {"package_leader": "没有找到该包案领导：请从列表中选择（按姓名或用户名查找）"}
    not_leader = bureau.post("/intake/leader_package", {**typed, "source_case": str(earlier),
                                                        "package_leader": "t01.cadre"})
    assert "不是包案领导" in errors_of(not_leader)["package_leader"]
    unknown = bureau.post("/intake/leader_package", {**typed, "source_case": "99999"})
    assert errors_of(unknown) == {"source_case": "请选择一个您可以查看的案件"}
    assert cases_count(services) == 1


# -- the API follows the same table ------------------------------------------------------------------------------
API_STARTS = {  # process → (data of a valid start, who may start it)
    "petition": ({**PETITION, "channel": "letter", "headcount": 1, "confidentiality_requested": False}, {"bureau1"}),
    "grid_visit": (GRID_ISSUE, {"t01v01g01.worker"}),
    "online_message": (MESSAGE, {"t01v01.secretary", "t01v01.cadre", "bureau1"}),
}


@pytest.mark.parametrize("process", sorted(API_STARTS))
def test_the_api_starts_what_the_role_may_start_and_refuses_the_rest(api, process, services):
    data, allowed = API_STARTS[process]
    started = 0
    for person in PEOPLE:
        answer = api(person).post("/api/v1/cases", {"process_id": process, "data": data})
        assert answer.status_code == (201 if person in allowed else 403), (person, process, answer.get_json())
        started += answer.status_code == 201
    assert cases_count(services) == started


def test_the_api_refuses_a_channel_the_door_does_not_take_and_unknown_fields(api, services):
    bureau = api("bureau1")
    answer = bureau.post("/api/v1/cases", {"process_id": "petition",
                                           "data": {**API_STARTS["petition"][0], "channel": "grid", "colour": 1}})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"data.channel"}
    answer = bureau.post("/api/v1/cases", {"process_id": "petition",
                                           "data": {**API_STARTS["petition"][0], "colour": 1}})
    assert answer.get_json()["error"]["fields"] == {"data.colour": "表单中没有此项"}
    refused = bureau.post("/api/v1/cases", {"process_id": "supervision", "data": {}})
    assert refused.status_code == 403 and "由其他流程的步骤" in refused.get_json()["error"]["message"]
    assert cases_count(services) == 0


def test_the_openapi_document_shows_who_may_start_what(client):
    document = client.get("/api/v1/openapi.json").get_json()
    text = document["paths"]["/api/v1/cases"]["post"]["description"]
    assert "| grid_visit | 入户走访发现问题 | 网格员 |" in text
    assert "| petition | 来信登记 | 县信访局 | `channel=letter` |" in text
    assert "| online_message | 一村一群留言登记 | 村干部 | `message_channel=wechat_group`、本人所在地" in text


def test_the_message_channel_is_called_message_channel_on_the_api_and_the_form(api, browser, services):
    cadre = api("t01v01.cadre")
    for wrong in ("source", "channel"):
        refused = cadre.post("/api/v1/cases", {"process_id": "online_message",
                                               "data": {**MESSAGE, wrong: "wechat_group"}})
        assert refused.status_code == 422
        assert refused.get_json()["error"]["fields"] == {f"data.{wrong}": (
            f"表单中没有 {wrong}：留言渠道的字段名是 message_channel，可选 wechat_group（一村一群）、"
            "message_board（网民留言）")}
    assert cases_count(services) == 0
    other = cadre.post("/api/v1/cases", {"process_id": "online_message",
                                         "data": {**MESSAGE, "message_channel": "message_board"}})
    refused = {"data.message_channel": "您只能登记：一村一群留言登记（wechat_group）"}
    assert other.get_json()["error"]["fields"] == refused
    done = cadre.post("/api/v1/cases", {"process_id": "online_message",
                                        "data": {**MESSAGE, "message_channel": "wechat_group"}})
    assert done.status_code == 201
    assert 'name="message_channel"' not in browser("bureau1").get("/intake/message_board").get_data(as_text=True)


def test_a_transfer_goes_to_a_unit_of_the_org_or_outside_the_county(services):
    with services.unit_of_work() as session:
        assert check_org_fields(session, {"transfer_to": "outside"}, {}) == {}
        chosen = {"transfer_to": "t02"}
        assert check_org_fields(session, chosen, {}) == {} and chosen == {"transfer_to": "t02"}
        typed = {"transfer_to": "邻县信访局"}
        refused = check_org_fields(session, typed, {})
        assert refused == {"transfer_to": "没有找到该转送单位：请从列表中选择，不要手工填写名称"}
        found = choices(session, PICKS["transfer_to"], None, "县外")
        assert [c.value for c in found] == ["outside"]


def test_the_registrar_sees_the_petitioners_earlier_cases_found_at_registration(browser, desk):
    earlier = desk.petition()
    found = [{"instance_id": earlier, "case_number": f"XP2026-{earlier:06d}", "claim": "邻居搭建猪圈堵塞排水沟",
              "registered_at": "2026-03-02T01:00:00+00:00", "final": True, "match": "id_number"}]
    case_id = desk.visit(repeat_candidates=found)
    page = browser("t01.cadre").get(f"/tasks/{desk.task(case_id, 'hear_claim').id}").get_data(as_text=True)
    assert "既往信访事项（1件）" in page and f'href="/cases/{earlier}"' in page
    assert "身份证号相同" in page and "已终结" in page


def test_the_api_packages_a_chosen_case_for_the_county_bureau_only(api, desk, services):
    earlier = desk.petition()
    data = {"source_case": earlier, "list_reason": "repeat", "case_summary": "反复信访",
            "package_leader": "county.leader1"}
    for person in PEOPLE:
        answer = api(person).post("/api/v1/cases", {"process_id": "leader_package", "data": data})
        assert answer.status_code == (201 if person == "bureau1" else 403), (person, answer.get_json())
    unseen = api("bureau1").post("/api/v1/cases", {"process_id": "leader_package",
                                                   "data": {**data, "source_case": 99999}})
    assert unseen.get_json()["error"]["fields"] == {"data.source_case": "请选择一个您可以查看的案件"}
    assert cases_count(services) == 2
