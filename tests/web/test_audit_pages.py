"""The audit pages: search, history, stepping through a case on its diagram, verification, exports, and that
auditors read (recorded) but change nothing."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select, text

from engine.access_log import reads_of
from engine.audit import take_chain_digest, verify
from engine.export import XES_NS, from_json
from engine.models import AccessEntry, Event
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import script_helpers
from workflows.views import audit_view

from .pages import text_of

FULL_ID, MASKED_ID = "431224196802150021", "431224********0021"
FULL_PHONE, MASKED_PHONE = "13807451234", "138****1234"
NON_AUDITORS = ("t01.cadre", "t01v01.secretary", "t01.leader.social", "hrss.handler", "designer1", "county.leader1")


def number(case_id: int) -> str:
    return f"XP2026-{case_id:06d}"


def found(response) -> list[str]:
    """The case numbers a search page lists."""
    return re.findall(r'href="/audit/cases/\d+">(XP\d{4}-\d{6})</a>', response.text)


def events(services, case_id: int, kind: str | None = None) -> list[Event]:
    with services.unit_of_work() as session:
        query = select(Event).where(Event.instance_id == case_id)
        if kind is not None:
            query = query.where(Event.type == kind)
        return list(session.scalars(query.order_by(Event.seq)))


def reads(services, case_id: int, kind: str | None = None) -> list[AccessEntry]:
    with services.unit_of_work() as session:
        return [r for r in reads_of(session, case_id) if kind is None or r.kind == kind]


def event_count(services) -> int:
    with services.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def marks_of(response) -> list[dict]:
    """The marks each diagram of a page carries for bpmn-js (the case's own process first)."""
    return [json.loads(html.unescape(raw))["marks"] for raw in re.findall(r'data-marks="([^"]*)"', response.text)]


def sql(services, statement: str, **params) -> None:
    with services.unit_of_work() as session:
        session.execute(text(statement), params)


@pytest.fixture
def looped(desk):
    """A handed-over visit whose handling unit was sent back once, then replied, rated and closed: fifteen events,
    a loop in the called process."""
    case_id = desk.handed_over()  # 1 started, 2 register, 3 hear, 4 end-of-workday timer
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")  # 5
    desk.complete(case_id, "handle_case", {"handling_result": "已复核", "outcome": "explain"}, "hrss.handler")  # 6
    desk.complete(case_id, "check_result", {"approved": False, "check_note": "材料不全"}, "t01.leader.social")  # 7
    desk.complete(case_id, "handle_case", {"handling_result": "已补齐材料", "outcome": "support"},
                  "hrss.handler")  # 8
    # 9, then 10: approval ends the handling, and the reminder timer not yet due with it
    desk.complete(case_id, "check_result", {"approved": True, "check_note": "同意"}, "t01.leader.social")
    desk.complete(case_id, "reply", {"outcome": "support", "reply": "已恢复低保", "review_rights_notice": "可申请复查"},
                  "hrss.handler")  # 11 the written reply
    desk.complete(case_id, "rate", {"satisfaction": "satisfied"}, "petitioner")  # 12 the rating
    # 13 no review asked for within 30 days, 14 the request task withdrawn, 15 the case completes
    desk.advance(timedelta(days=31))
    return case_id


@pytest.fixture
def cases(desk):
    """Three visits: one overdue at 青溪镇, one answered on the spot (closed, explained), one at 栗垄村 (t02)."""
    late = desk.handed_over()
    desk.complete(late, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-03"},
                  "t01.leader.social")
    answered = desk.visit()
    desk.complete(answered, "hear_claim", {"disposition": "answer"}, "t01.cadre")
    desk.complete(answered, "record_answer", {"answer": "已说明复核进度", "outcome": "explain"}, "t01v01.secretary")
    elsewhere = desk.visit(actor="t02v01.secretary", township="t02", village="t02v01", category="land")
    desk.advance(timedelta(days=2))
    return {"late": late, "answered": answered, "elsewhere": elsewhere}


# -- search -------------------------------------------------------------------------------------------------------
def test_search_filters_by_number_place_period_process_status_overdue_and_outcome(browser, cases):
    auditor = browser("auditor1")
    late, answered, elsewhere = number(cases["late"]), number(cases["answered"]), number(cases["elsewhere"])
    page = auditor.get("/audit")
    assert page.status_code == 200 and found(page) == [elsewhere, answered, late]  # newest first
    assert found(auditor.get("/audit", query_string={"number": answered[-3:]})) == [answered]
    assert found(auditor.get("/audit", query_string={"number": answered.lower()})) == [answered]
    assert found(auditor.get("/audit", query_string={"number": "XP2026-999999"})) == []
    assert found(auditor.get("/audit", query_string={"place": "t02"})) == [elsewhere]
    assert found(auditor.get("/audit", query_string={"place": "t01v01"})) == [answered, late]
    assert found(auditor.get("/audit", query_string={"status": "closed"})) == [answered]
    assert found(auditor.get("/audit", query_string={"status": "open"})) == [elsewhere, late]
    assert found(auditor.get("/audit", query_string={"overdue": "yes"})) == [late]
    assert found(auditor.get("/audit", query_string={"overdue": "no"})) == [elsewhere, answered]
    assert found(auditor.get("/audit", query_string={"outcome": "explain"})) == [answered]
    assert found(auditor.get("/audit", query_string={"process": "reception"})) == [elsewhere, answered, late]
    assert found(auditor.get("/audit", query_string={"process": "petition"})) == []
    assert found(auditor.get("/audit", query_string={"period": "2026-03", "place": "t01"})) == [answered, late]
    assert found(auditor.get("/audit", query_string={"period": "2026-02"})) == []
    wrong = auditor.get("/audit", query_string={"period": "March"})
    assert wrong.status_code == 200 and "月份请写成 2026-03 的形式" in wrong.text
    assert "共 3 件" in text_of(auditor.get("/audit", query_string={"period": "2026-03"}))


def test_the_query_code_is_on_the_audit_search_and_every_audit_page_of_the_case(browser, services, cases):
    with services.unit_of_work() as session:
        code = session.get(CaseRecord, cases["answered"]).query_code
    auditor = browser("auditor1")
    assert code in auditor.get("/audit").text
    for path in ("", "/steps/1", "/verification", "/reads"):
        page = auditor.get(f"/audit/cases/{cases['answered']}{path}")
        assert page.status_code == 200 and f'查询码 <span class="code">{code}</span>' in page.text, path


def test_search_pages_through_many_cases(browser, cases, monkeypatch):
    monkeypatch.setattr(audit_view, "PER_PAGE", 2)
    auditor = browser("auditor1")
    first = auditor.get("/audit", query_string={"place": "", "status": ""})
    assert len(found(first)) == 2 and "第 1 / 2 页" in text_of(first)
    assert 'href="/audit?page=2" rel="next"' in first.text
    second = auditor.get("/audit", query_string={"page": "2"})
    assert found(second) == [number(cases["late"])] and 'rel="prev"' in second.text
    monkeypatch.setattr(audit_view, "PER_PAGE", 1)
    narrowed = auditor.get("/audit", query_string={"place": "t01", "page": "1"})
    assert found(narrowed) == [number(cases["answered"])]
    assert 'href="/audit?place=t01&amp;page=2" rel="next"' in narrowed.text  # page links keep the filters
    monkeypatch.setattr(audit_view, "PER_PAGE", 2)
    assert found(auditor.get("/audit", query_string={"page": "99"})) == [number(cases["late"])]  # the last page


def test_searching_records_nothing_and_shows_no_personal_data(browser, services, cases):
    before = event_count(services)
    page = browser("auditor1").get("/audit")
    assert "王桂英" not in page.text and MASKED_ID not in page.text and FULL_ID not in page.text
    assert event_count(services) == before


# -- history ------------------------------------------------------------------------------------------------------
def test_the_history_shows_who_did_what_when_with_the_data_masked_and_the_view_is_recorded(browser, services,
                                                                                          looped):
    page = browser("auditor1").get(f"/audit/cases/{looped}")
    assert page.status_code == 200
    shown = text_of(page)
    rows = re.findall(r'<tr id="event-(\d+)"', page.text)
    assert rows == [str(n) for n in range(1, 16)]  # fifteen events; the view itself is not one of them
    assert "登记来访" in shown and "接谈研判" in shown and "审核办理结果" in shown and "系统（定时）" in shown
    assert "2026-03-02 09:00:00" in shown  # business time, to the second
    assert MASKED_ID in page.text and MASKED_PHONE in page.text
    assert FULL_ID not in page.text and FULL_PHONE not in page.text  # also not in the recorded data shown
    assert re.search(r"审核意见：\s*—\s*→\s*材料不全", shown)  # before → after
    assert re.search(r"审核意见：\s*材料不全\s*→\s*同意", shown)
    assert "校验通过" in shown and "15 个事件" in shown
    assert events(services, looped, audit_view.AUDIT_VIEWED) == []  # the view went to the access log
    (viewed,) = reads(services, looped)
    assert (viewed.seq, viewed.actor, viewed.data) == (1, "auditor1", {"page": "history", "masked": True})
    again = browser("bureau1").get(f"/audit/cases/{looped}")
    assert re.findall(r'<tr id="event-(\d+)"', again.text) == [str(n) for n in range(1, 16)]  # no step added
    assert [r.actor for r in reads(services, looped)] == ["auditor1", "bureau1"]
    tab = browser("auditor1").get(f"/audit/cases/{looped}/reads")
    assert tab.status_code == 200 and "查阅记录完整" in text_of(tab)
    assert re.findall(r'<tr id="read-(\d+)"', tab.text) == ["1", "2"]  # the tab's own view is recorded after it
    assert [r.kind for r in reads(services, looped)] == ["audit_viewed"] * 2


def test_reading_a_case_leaves_its_step_count_unchanged(browser, services, looped):
    auditor = browser("auditor1")
    before = len(events(services, looped))
    for url in (f"/audit/cases/{looped}", f"/audit/cases/{looped}/steps/3", f"/audit/cases/{looped}/steps/3",
                f"/audit/cases/{looped}/verification"):
        assert auditor.get(url).status_code == 200
    auditor.post("/audit/export", {"case": looped, "format": "csv"})
    assert len(events(services, looped)) == before
    assert f"第 3 / {before} 步" in text_of(auditor.get(f"/audit/cases/{looped}/steps/3"))
    assert [r.seq for r in reads(services, looped)] == [1, 2, 3, 4, 5]


def test_an_edited_read_is_detected_on_the_access_tab(browser, services, looped):
    browser("auditor1").get(f"/audit/cases/{looped}")
    browser("auditor1").get(f"/audit/cases/{looped}/steps/2")
    sql(services, "UPDATE access_log SET actor = 'someone else' WHERE instance_id = :c AND seq = 1", c=looped)
    shown = text_of(browser("bureau1").get(f"/audit/cases/{looped}/reads"))
    assert "查阅记录校验未通过" in shown and "第 1 条" in shown


# -- stepping -----------------------------------------------------------------------------------------------------
def test_stepping_through_a_loop_shows_the_diagram_as_it_stood(browser, looped):
    auditor = browser("auditor1")
    first = auditor.get(f"/audit/cases/{looped}/steps/1")
    assert first.status_code == 200
    (reception,) = marks_of(first)  # the supervision process has not been called yet
    assert reception["register_visit"] == {"count": 1, "states": ["active"]}
    assert "supervise" not in reception
    assert 'rel="prev"' not in first.text and f'href="/audit/cases/{looped}/steps/2" rel="next"' in first.text

    handing = auditor.get(f"/audit/cases/{looped}/steps/6")
    reception, supervision = marks_of(handing)
    assert reception["supervise"] == {"count": 1, "states": ["active"]}
    assert supervision["handle_case"] == {"count": 1, "states": ["completed"]}
    assert supervision["check_result"] == {"count": 1, "states": ["active"]}
    assert f"/audit/cases/{looped}/diagram/" in handing.text  # the diagram of the version it ran on

    sent_back = auditor.get(f"/audit/cases/{looped}/steps/7")
    supervision = marks_of(sent_back)[1]
    assert supervision["handle_case"] == {"count": 2, "states": ["completed", "active"]}  # the loop, again
    assert supervision["check_result"] == {"count": 1, "states": ["completed"]}
    shown = text_of(sent_back)
    assert "第 7 / 15 步" in shown and "审核办理结果" in shown and "与记录一致" in shown
    assert re.search(r"审核意见 — 材料不全", shown)  # what the step changed
    assert f'href="/audit/cases/{looped}/steps/6" rel="prev"' in sent_back.text

    done = auditor.get(f"/audit/cases/{looped}/steps/10")
    drawn = marks_of(done)  # reception first, then the processes it called (supervision, and later statutory)
    reception, supervision = drawn[0], next(m for m in drawn[1:] if "handle_case" in m)
    assert supervision["handle_case"] == {"count": 2, "states": ["completed"]}
    assert supervision["check_result"] == {"count": 2, "states": ["completed"]}
    assert reception["supervise"]["states"] == ["active"]  # on to the written reply inside it
    assert "overdue_timer" not in supervision  # armed twice, never fired: not shown as passed


def test_a_step_shows_the_case_data_then_masked(browser, looped):
    page = browser("auditor1").get(f"/audit/cases/{looped}/steps/2")
    shown = text_of(page)
    assert MASKED_ID in shown and MASKED_PHONE in shown and FULL_ID not in page.text
    assert "低保资格复核进度" in shown and "审核意见" not in shown  # not yet known at step 2
    later = text_of(browser("auditor1").get(f"/audit/cases/{looped}/steps/9"))
    assert "审核意见 同意" in later
    assert "办结截止时间 2026-03-20 17:30" in later and "09:30:00+00:00" not in later  # local time, not UTC


def test_parallel_branches_are_open_together_at_a_step(browser, desk):
    case_id = desk.start("four_team", {"township": "t01", "village": "t01v01", "claim": "修路占地"}, "t01v01.cadre")
    desk.complete(case_id, "view_backer_unit", {"backer_unit_view": "可协调", "backer_unit_suggestion": "补偿"},
                  "t01v01.cadre")
    auditor = browser("auditor1")
    (start,) = marks_of(auditor.get(f"/audit/cases/{case_id}/steps/1"))
    branches = ("view_backer_unit", "view_township_cadre", "view_work_team", "view_village_committee")
    assert all(start[b] == {"count": 1, "states": ["active"]} for b in branches)
    (after,) = marks_of(auditor.get(f"/audit/cases/{case_id}/steps/2"))
    assert after["view_backer_unit"] == {"count": 1, "states": ["completed"]}
    assert all(after[b] == {"count": 1, "states": ["active"]} for b in branches[1:])


def test_jumping_and_steps_out_of_range(browser, services, looped):
    auditor = browser("auditor1")
    jump = auditor.get(f"/audit/cases/{looped}/steps", query_string={"n": "4"})
    assert jump.status_code == 302 and jump.headers["Location"].endswith(f"/audit/cases/{looped}/steps/4")
    far = auditor.get(f"/audit/cases/{looped}/steps", query_string={"n": "999"})
    assert far.headers["Location"].endswith("/steps/15")
    assert auditor.get(f"/audit/cases/{looped}/steps/0").status_code == 404
    assert auditor.get(f"/audit/cases/{looped}/steps/99").status_code == 404
    assert auditor.get("/audit/cases/999/steps/1").status_code == 404
    assert reads(services, looped) == []  # refused pages record nothing
    auditor.get(f"/audit/cases/{looped}/steps/4")
    auditor.get(f"/audit/cases/{looped}/steps/5")
    assert [r.data.get("step") for r in reads(services, looped, audit_view.AUDIT_VIEWED)] == [4, 5]


# -- verification -------------------------------------------------------------------------------------------------
def test_an_untouched_case_verifies(browser, looped):
    page = browser("auditor1").get(f"/audit/cases/{looped}/verification")
    shown = text_of(page)
    assert page.status_code == 200 and "校验通过" in shown and "不一致" not in shown
    assert shown.count("一致") == 15 + 1  # every event's digest row, and the verdict's sentence
    assert "尚未生成链摘要" in shown


def test_a_tampered_event_shows_the_first_divergence(browser, services, looped):
    sql(services, "UPDATE event SET actor = 'someone else' WHERE instance_id = :c AND seq = 7", c=looped)
    shown = text_of(browser("auditor1").get(f"/audit/cases/{looped}"))
    assert "校验未通过" in shown and "第 7 个事件" in shown and "记录内容的哈希值" in shown
    assert "校验通过" not in shown


def test_edited_recorded_data_fails_re_execution_at_that_event(browser, services, looped):
    forged = json.dumps({"submitted": {"approved": True, "check_note": "同意"}, "changes": {}})
    sql(services, "UPDATE event SET data = :d WHERE instance_id = :c AND seq = 7", d=forged, c=looped)
    page = browser("auditor1").get(f"/audit/cases/{looped}/verification")
    shown = text_of(page)
    assert "校验未通过" in shown and "第 7 个事件" in shown
    diverged = re.findall(r'<tr class="diverged" id="event-(\d+)">', page.text)
    assert diverged[0] == "7"  # re-executed with the forged input, the state after event 7 differs
    assert "执行后的状态" in shown
    step = text_of(browser("auditor1").get(f"/audit/cases/{looped}/steps/7"))
    assert "与记录不一致" in step


def test_stored_state_edited_in_the_database_is_detected(browser, services, looped):
    with services.unit_of_work() as session:
        state = json.loads(session.scalar(text("SELECT state FROM instance WHERE id = :c"), {"c": looped}))
    state["data"]["claim"] = "别的诉求"
    sql(services, "UPDATE instance SET state = :s WHERE id = :c", s=json.dumps(state), c=looped)
    shown = text_of(browser("auditor1").get(f"/audit/cases/{looped}/verification"))
    assert "校验未通过" in shown and "案件整体" in shown and "保存的流程状态" in shown


def test_the_chain_digest_status_of_a_case(browser, services, desk, looped):
    desk.run(lambda session, engine: take_chain_digest(session, engine.clock.now()))
    shown = text_of(browser("auditor1").get(f"/audit/cases/{looped}/verification"))
    assert "的链摘要记录了本案前 15 个事件，本案的链与之相符" in shown
    sql(services, "DELETE FROM event WHERE instance_id = :c AND seq >= 11", c=looped)
    shown = text_of(browser("auditor1").get(f"/audit/cases/{looped}/verification"))
    assert "链摘要不符" in shown and "no such event" in shown


# -- exports ------------------------------------------------------------------------------------------------------
def test_a_json_export_is_masked_by_default_and_its_links_verify(browser, services, looped):
    response = browser("auditor1").post("/audit/export", {"case": looped, "format": "json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{number(looped)}.json"'
    body = response.get_data(as_text=True)
    assert FULL_ID not in body and FULL_PHONE not in body and MASKED_ID in body
    (case,) = from_json(body)
    with services.unit_of_work() as session:
        names = set(script_helpers(session))
    verdict = verify(case, names)
    assert verdict.ok and verdict.links_only and "masked export" in str(verdict)
    case.events[4]["prev_hash"] = "0" * 64  # a masked export still shows a cut or reordered chain
    assert verify(case, names).divergence.seq == 5
    assert case.events[-1]["type"] == "completed"  # the export is not a step of the case
    (exported,) = reads(services, looped, "exported")
    assert (exported.actor, exported.personal_data) == ("auditor1", False)
    assert exported.data == {"format": "json", "file": f"{number(looped)}.json", "masked": True}


def test_an_unmasked_export_needs_the_right_and_a_reason_and_is_a_personal_data_view(browser, services, looped):
    form = {"case": looped, "format": "json", "unmask": "yes"}
    assert browser("auditor1").post("/audit/export", {**form, "reason": "复查"}).status_code == 403
    assert browser("bureau1").post("/audit/export", form).status_code == 400  # no reason
    assert reads(services, looped) == []
    response = browser("bureau1").post("/audit/export", {**form, "reason": "复查调取原始材料"})
    assert response.status_code == 200 and FULL_ID in response.get_data(as_text=True)
    (case,) = from_json(response.get_data(as_text=True))
    with services.unit_of_work() as session:
        verdict = verify(case, set(script_helpers(session)))
    assert verdict.ok and not verdict.links_only  # complete: hashes and re-execution
    (exported,) = reads(services, looped, "exported")
    assert exported.personal_data and exported.data["reason"] == "复查调取原始材料"
    table = browser("bureau1").post("/audit/export", {**form, "format": "csv", "reason": "核对"})
    assert FULL_ID in table.data.decode("utf-8-sig")


def test_csv_and_xes_exports_parse(browser, services, looped):
    auditor = browser("auditor1")
    table = auditor.post("/audit/export", {"case": looped, "format": "csv"})
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert [int(r["序号"]) for r in rows] == list(range(1, 16)) and rows[-1]["事件"] == "流程结束"
    log = auditor.post("/audit/export", {"case": looped, "format": "xes"})
    assert log.status_code == 200
    root = etree.fromstring(log.data)
    (trace,) = root.findall(f"{{{XES_NS}}}trace")
    names = [e.find(f"{{{XES_NS}}}string[@key='concept:name']").get("value")
             for e in trace.findall(f"{{{XES_NS}}}event")]
    assert names[:3] == ["started", "登记来访", "接谈研判"] and names[-1] == "completed" and len(names) == 15
    assert [r.data["format"] for r in reads(services, looped, "exported")] == ["csv", "xes"]


def test_a_month_is_exported_with_every_case_of_it_recorded(browser, services, cases):
    response = browser("bureau1").post("/audit/export", {"period": "2026-03", "format": "xes"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="cases-2026-03.xes"'
    traces = etree.fromstring(response.data).findall(f"{{{XES_NS}}}trace")
    assert sorted(t.find(f"{{{XES_NS}}}string[@key='concept:name']").get("value") for t in traces) == sorted(
        f"case-{i}" for i in cases.values())
    for case_id in cases.values():
        assert [(r.actor, r.data["file"]) for r in reads(services, case_id, "exported")] == [
            ("bureau1", "cases-2026-03.xes")]
    empty = browser("auditor1").post("/audit/export", {"period": "2026-05", "format": "json"})
    assert empty.status_code == 302 and "period=2026-05" in empty.headers["Location"]


def test_exports_refused(browser, services, looped):
    before = event_count(services)
    auditor = browser("auditor1")
    assert auditor.post("/audit/export", {"case": looped, "format": "pdf"}).status_code == 400
    assert auditor.post("/audit/export", {"format": "json"}).status_code == 400
    assert auditor.post("/audit/export", {"period": "March", "format": "json"}).status_code == 400
    assert auditor.post("/audit/export", {"case": looped, "format": "json"}, csrf=False).status_code == 400
    assert browser("t01.leader.social").post("/audit/export", {"case": looped, "format": "json"}).status_code == 403
    assert event_count(services) == before


# -- who may ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", NON_AUDITORS)
def test_other_roles_get_403(username, browser, services, looped):
    before = event_count(services)
    person = browser(username)
    for url in ("/audit", f"/audit/cases/{looped}", f"/audit/cases/{looped}/steps/3",
                f"/audit/cases/{looped}/verification", f"/audit/cases/{looped}/steps?n=2",
                f"/audit/cases/{looped}/diagram/1/reception.bpmn"):
        assert person.get(url).status_code == 403, url
    assert person.post("/audit/export", {"period": "2026-03", "format": "json"}).status_code == 403
    assert 'href="/audit"' not in person.get("/tasks").text  # no nav link either
    assert event_count(services) == before


def test_auditors_and_the_bureau_see_the_nav_link_and_a_login_is_needed(browser, client, looped):
    for username in ("auditor1", "bureau1"):
        assert 'href="/audit"' in browser(username).get("/tasks").text
    response = client.get(f"/audit/cases/{looped}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_diagram_of_a_step_is_served_for_the_version_it_ran_on(browser, looped):
    auditor = browser("auditor1")
    page = auditor.get(f"/audit/cases/{looped}/steps/6")
    urls = re.findall(r'data-xml-url="([^"]+)"', page.text)
    assert len(urls) == 2
    for url in urls:
        xml = auditor.get(url)
        assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"<bpmn:definitions" in xml.data
    assert auditor.get(f"/audit/cases/{looped}/diagram/1/no_such_process.bpmn").status_code == 404


def test_auditors_cannot_change_a_case(browser, desk, services):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    before = (event_count(services), desk.open_elements(case_id))
    auditor = browser("auditor1")
    assert auditor.post(f"/tasks/{task_id}", {"disposition": "hand_over", "note": "x"}).status_code == 403
    assert auditor.post(f"/tasks/{task_id}/claim").status_code == 403
    assert auditor.post(f"/tasks/{task_id}/release").status_code == 403
    assert auditor.post(f"/cases/{case_id}/reveal").status_code == 403
    assert auditor.post("/reception", {"village": "t01v01", "headcount": "1", "category": "land", "claim": "x",
                                       "p-0-petitioner_name": "某人"}).status_code == 403
    assert (event_count(services), desk.open_elements(case_id)) == before


def test_the_csv_opens_in_excel_as_people_read_the_pages(browser, looped):
    """Excel on a Chinese Windows needs the byte order mark; headers, times, versions and values as on the pages."""
    table = browser("auditor1").post("/audit/export", {"case": looped, "format": "csv"})
    assert table.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert list(rows[0])[:9] == ["案件", "序号", "事件", "业务时间", "记录时间", "操作人", "任务", "活动", "流程版本"]
    assert "data" not in rows[0] and "身份证号" in rows[0] and "办理情况" in rows[0]  # a column per field
    assert (rows[0]["事件"], rows[0]["业务时间"], rows[0]["流程版本"]) == ("立案", "2026-03-02 09:00:00+08:00", "v1")
    register = rows[1]
    assert register["活动"] == "登记来访" and register["身份证号"] == MASKED_ID
    assert FULL_ID not in table.data.decode("utf-8-sig") and FULL_PHONE not in table.data.decode("utf-8-sig")
    reports = [r["办理情况"] for r in rows if r["活动"] == "办理并报告"]
    assert reports == ["已复核", "已补齐材料"]  # each report on the step that made it
