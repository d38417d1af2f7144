"""Every task page shows the records of the steps before it, read-only above the form, and the case's deadlines."""

from __future__ import annotations

import re

from .pages import text_of


def _context(page) -> str:
    """The visible text of the earlier-steps panel of a task page."""
    start = page.text.index('id="earlier-steps"')
    html = page.text[start:page.text.index('<div class="card">', start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_assigning_leader_reads_the_interview_notes(browser, desk):
    case_id = desk.visit()
    desk.complete(case_id, "hear_claim", {"disposition": "hand_over", "note": "低保复核材料已提交，村里未答复"},
                  "t01.cadre")
    desk.run_timer(case_id)
    page = browser("t01.leader.social").get(f"/tasks/{desk.task(case_id, 'assign_unit').id}")
    context = _context(page)
    assert "接谈研判" in context and "周明" in context
    assert "接谈记录 低保复核材料已提交，村里未答复" in context and "处理方式 登记移交" in context
    assert "431224196802150021" not in page.text  # personal data masked as on the case page
    assert page.text.index('id="earlier-steps"') < page.text.index('name="handling_unit"')  # above the form


def test_the_checking_leader_reads_the_units_report_and_the_case_deadline(browser, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    report = "已入户核实，补发低保金三个月。" * 40
    desk.complete(case_id, "handle_case", {"handling_result": report, "outcome": "support"}, "hrss.handler")
    page = browser("t01.leader.social").get(f"/tasks/{desk.task(case_id, 'check_result').id}")
    context = _context(page)
    assert "办理并报告" in context and "向晓燕" in context
    assert "办理情况" in context and "处理意见 支持" in context
    assert "承办单位 县人力资源和社会保障局" in context  # names, not codes
    assert f"展开（共{len(report)}字）" in context and report in page.text  # folded, nothing cut away
    assert "案件督办办结期限：2026-03-20 17:30" in text_of(page)


def test_the_interviewing_cadre_reads_the_registration_masked(browser, desk):
    case_id = desk.visit()
    page = browser("t01.cadre").get(f"/tasks/{desk.task(case_id, 'hear_claim').id}")
    context = _context(page)
    assert "登记来访" in context and "诉求内容 低保资格复核进度" in context
    assert "431224196802150021" not in page.text and "431224********0021" in context
