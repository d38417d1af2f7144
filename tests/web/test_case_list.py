"""The 案件 list: the total, every page, a search over all the cases the viewer may see, and the query code;
the receipt (回执) with the query code for every channel; a second submit told that the first went through."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from workflows.cases.access import Access, load_viewer
from workflows.cases.record import CaseRecord
from workflows.views.case_list import case_page

from .pages import text_of

START_DAY = date(2026, 3, 2)
PEOPLE = ("t01.cadre", "t01v01.cadre", "t01v01g01.worker", "t02.cadre", "t01.leader.social", "hrss.handler",
          "discipline.handler", "t01-justice.handler", "bureau1", "auditor1", "county.leader1", "t01v01.secretary")


def _cases(desk) -> list[int]:
    """Cases of several places, tracks and tiers, one of them an accusation against 县人社局."""
    assigned = desk.handed_over()
    desk.complete(assigned, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    return [desk.visit(), desk.visit(actor="t02v01.secretary", township="t02", village="t02v01"), assigned,
            desk.petition(category="accusation", accused_unit="county-hrss", tier="county", claim="举报县人社局"),
            desk.petition(township="t02", village="t02v01", claim="土地承包纠纷")]


def test_the_paged_list_is_exactly_what_the_access_rules_allow(services, desk):
    ids = _cases(desk)
    with services.unit_of_work() as session:
        every = session.scalars(select(CaseRecord)).all()
        assert {c.instance_id for c in every} == set(ids)
        for username in PEOPLE:
            access = Access(session, load_viewer(session, username, START_DAY))
            allowed = sorted(c.instance_id for c in every if access.may_see_case(c))
            listed = case_page(access, per_page=100)
            assert sorted(c.instance_id for c in listed.cases) == allowed, username
            assert listed.total == len(allowed), username
            paged = [c.instance_id for page in range(1, max(len(allowed), 1) + 1)
                     for c in case_page(access, page=page, per_page=1).cases]
            assert sorted(paged) == allowed, username  # one page at a time: none lost, none twice


def test_the_list_shows_the_total_pages_and_query_codes(browser, desk, services):
    ids = [desk.visit(claim=f"土地确权第{n}户") for n in range(3)] + [desk.visit(claim="低保")]
    with services.unit_of_work() as session:
        codes = {c.instance_id: c.query_code for c in session.scalars(select(CaseRecord))}
    bureau = browser("bureau1")
    page = text_of(bureau.get("/cases"))
    assert "共 4 件，显示第 1–4 件" in page and all(code in page for code in codes.values())
    found = text_of(bureau.get("/cases?q=土地"))
    assert "查找“土地”：共 3 件" in found
    by_code = bureau.get(f"/cases?q={codes[ids[3]].lower()}")
    assert f"/cases/{ids[3]}\"" in by_code.text and "共 1 件" in text_of(by_code)


def test_a_second_page_is_reachable(app, browser, desk, monkeypatch):
    import web.cases

    monkeypatch.setattr(web.cases, "case_page", lambda access, search, page: case_page(access, search, page, 2))
    ids = [desk.visit() for _ in range(3)]
    bureau = browser("bureau1")
    first = bureau.get("/cases")
    assert "共 3 件，显示第 1–2 件（第 1 / 2 页）" in text_of(first) and 'href="/cases?page=2" rel="next"' in first.text
    second = bureau.get("/cases?page=2")
    assert f"/cases/{ids[0]}\"" in second.text and "显示第 3–3 件" in text_of(second)


def test_the_case_page_and_the_receipt_carry_the_query_code(browser, desk, services):
    case_id = desk.petition(channel="letter")
    with services.unit_of_work() as session:
        code = session.get(CaseRecord, case_id).query_code
    bureau = browser("bureau1")
    assert f"查询码 {code} 打印回执" in text_of(bureau.get(f"/cases/{case_id}"))
    receipt = bureau.get(f"/cases/{case_id}/receipt")
    text = text_of(receipt)
    assert "信访事项登记回执" in text and code in text and "来信" in text and "张秋菊" in text
    assert "http://localhost/query" in text
    assert "15日内书面告知是否受理" in text and "60日内办结" in text and "不超过30日" in text
    assert "431224196504110529" not in receipt.text and "13873025571" not in receipt.text
    assert browser("t02.cadre").get(f"/cases/{case_id}/receipt").status_code == 403


def test_registering_through_a_task_form_tells_the_query_code(browser, desk, services):
    case_id = desk.start("petition", {}, "bureau1")
    task_id = desk.task(case_id, "register").id
    bureau = browser("bureau1")
    response = bureau.post(f"/tasks/{task_id}", {
        "channel": "letter", "category": "dispute", "petitioner_name": "张秋菊", "headcount": "1",
        "township": "t01", "village": "t01v01", "claim": "邻居搭建猪圈堵塞排水沟", "tier": "village",
        "confidentiality_requested": "false"})
    assert response.status_code == 302, text_of(response)
    with services.unit_of_work() as session:
        code = session.get(CaseRecord, case_id).query_code
    assert f"查询码 {code}（请告知信访人" in text_of(bureau.get("/tasks"))


def test_a_second_submit_without_javascript_says_the_first_went_through(browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    cadre = browser("t01.cadre")
    assert cadre.post(f"/tasks/{task_id}", {"disposition": "hand_over", "note": "移交"}).status_code == 302
    again = cadre.post(f"/tasks/{task_id}", {"disposition": "hand_over", "note": "移交"})
    assert again.status_code == 302 and again.headers["Location"] == f"/cases/{case_id}"
    page = text_of(cadre.get(again.headers["Location"]))
    assert "「接谈研判」已于 2026-03-02 09:00 由周明提交成功，本次重复提交未再处理" in page
