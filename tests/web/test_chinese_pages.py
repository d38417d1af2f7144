"""No page of the walk through a case contains an English sentence or a raw code outside the fields meant for
codes (case numbers, query codes, user names): every person reads Chinese names, labels and messages."""

from __future__ import annotations

import pytest

from .pages import foreign_text


@pytest.fixture
def walked(desk) -> dict[str, int]:
    """Cases at each stage of the reception and petition routes."""
    visit = desk.visit()
    assigned = desk.handed_over()
    desk.complete(assigned, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20",
                                            "instructions": "请核实"}, "t01.leader.social")
    checked = desk.handed_over()
    desk.complete(checked, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    desk.complete(checked, "handle_case", {"handling_result": "已补发", "outcome": "support"}, "hrss.handler")
    letter = desk.petition(channel="letter", tier="county")
    return {"visit": visit, "assigned": assigned, "checked": checked, "letter": letter}


def assert_chinese(response, where: str) -> None:
    assert response.status_code == 200, where
    assert foreign_text(response) == [], where


def test_every_page_of_the_walk_is_chinese(browser, desk, walked):
    for username in ("t01v01.secretary", "t01.cadre", "t01.leader.social", "hrss.handler", "bureau1", "auditor1"):
        person = browser(username)
        for url in ("/tasks", "/cases", "/reception"):
            assert_chinese(person.get(url), f"{username} {url}")
        for name, case_id in walked.items():
            page = person.get(f"/cases/{case_id}")
            if page.status_code == 200:
                assert_chinese(page, f"{username} case {name}")
                assert_chinese(person.get(f"/cases/{case_id}/receipt"), f"{username} receipt {name}")
            for task in desk.run(lambda session, engine, case_id=case_id: engine.open_tasks(case_id)):
                page = person.get(f"/tasks/{task.id}")
                if page.status_code == 200:
                    assert_chinese(page, f"{username} task {task.element_id}")
    assert_chinese(browser().get("/query"), "query page")
    assert_chinese(browser("bureau1").get("/reports/monthly"), "monthly report")
    auditor = browser("auditor1")
    assert_chinese(auditor.get("/audit"), "audit search")
    for name, case_id in walked.items():  # the raw record of each event is shown as it is, marked as code
        for path in ("", "/steps/1", "/steps/2", "/verification", "/reads"):
            assert_chinese(auditor.get(f"/audit/cases/{case_id}{path}"), f"audit {name} {path}")
    assert_chinese(browser("bureau1").get("/intake"), "intake doors")


def test_the_check_finds_english_and_codes():
    class Page:
        text = ("<p>语法错误：invalid syntax</p><p>承办单位 county-hrss</p><td class=\"code\">t01.cadre</td>"
                "<span class=\"code\">XP2026-000001</span>")

    assert foreign_text(Page()) == ["invalid syntax", "county-hrss"]
