"""The reception route in real headless Chromium, with the demo accounts: the duty secretary registers a visit, the
duty cadre hands it over (the acceptance, told on the spot), the workday ends, the responsible leader assigns it
within the statutory handling limit, the handling unit reports, the leader checks it, the unit writes the reply,
and the petitioner reads it with the query code, rates it and asks for a review. The bpmn-js marks follow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CLAIM = "低保资格复核已三个月没有结果"


def marks(page: Any, diagram: int, element_id: str) -> set[str]:
    """The Doorstep marker classes (ds-completed, ds-active, ...) bpmn-js put on an element of a drawn diagram."""
    page.locator(f"#diagram-{diagram}[data-drawn=true]").wait_for()
    shape = page.locator(f'#diagram-{diagram} g.djs-element[data-element-id="{element_id}"]')
    classes = shape.get_attribute("class") or ""
    return {name.removeprefix("ds-") for name in classes.split() if name.startswith("ds-")}


def drawn_with(page: Any, element_id: str) -> int:
    """The number of the drawn diagram (the case's own first, then the processes it called) holding an element."""
    for number in range(1, 5):
        diagram = page.locator(f"#diagram-{number}")
        if diagram.count() == 0:
            break
        page.locator(f"#diagram-{number}[data-drawn=true]").wait_for()
        if diagram.locator(f'g.djs-element[data-element-id="{element_id}"]').count():
            return number
    raise AssertionError(f"no diagram shows {element_id}")


def submit_task(page: Any) -> None:
    """Press the task form's 提交 button."""
    page.get_by_role("button", name="提交", exact=True).click()


def register_visit(page: Any, id_number: str = "431224196802150021") -> None:
    """Fill the desk's registration form for one petitioner and send it."""
    page.get_by_role("link", name=re.compile("^接访台")).click()
    page.fill("#p-0-petitioner_name", "王桂英")
    page.fill("#p-0-id_number", id_number)
    page.fill("#p-0-phone", "13807451234")
    page.fill("#f-headcount", "1")
    page.select_option("#f-village", index=1)
    page.select_option("#f-category", "social_security")
    page.fill("#f-claim", CLAIM)
    page.get_by_role("button", name="登记", exact=True).click()


def test_reception_to_reply(site: Any) -> None:
    # 1. The duty secretary logs in and registers the visit at the township's reception desk.
    secretary = site.person("duty_secretary")
    site.shot(secretary, "secretary-login-inbox")
    register_visit(secretary)
    flash = secretary.locator(".flash.success")
    expect(flash).to_contain_text("已登记来访")
    found = re.search(r"案件 (XP\d{4}-\d{6})，查询码 (\w+)", flash.inner_text())
    assert found is not None, flash.inner_text()
    number, code = found.groups()
    case_id = int(secretary.url.rsplit("#case-", 1)[1])
    row = secretary.locator(f"#case-{case_id}")
    expect(row).to_contain_text("待接谈研判（乡镇信访干部")
    site.shot(secretary, "desk-registered", docs="reception-desk")

    # The case diagram: registration done, the hearing open.
    secretary.goto(f"{site.url}/cases/{case_id}")
    assert marks(secretary, 1, "register_visit") == {"completed"}
    assert marks(secretary, 1, "hear_claim") == {"active"}
    site.shot(secretary, "case-registered")

    # 2. The duty cadre, at the same desk, hears the claim and registers it for hand-over.
    cadre = site.person("township_cadre")
    cadre.get_by_role("link", name=re.compile("^接访台")).click()
    row = cadre.locator(f"#case-{case_id}")
    row.locator("textarea[name=note]").fill("需分管领导协调县人社局")
    site.shot(cadre, "desk-hearing", docs="desk-hand-over")
    row.get_by_role("button", name="登记移交").click()
    expect(cadre.locator(".flash.success")).to_contain_text("已提交「接谈研判」")
    expect(cadre.locator(f"#case-{case_id}")).to_contain_text("待下班时移交分管领导督办")
    site.shot(cadre, "desk-handed-over")

    # 3. The workday ends (17:30): the simulated clock moves as `doorstep clock advance PT9H` moves it.
    assert f"case {case_id}: fired end_of_workday_timer#1" in site.advance("PT9H")

    # 4. The responsible leader sees the case in the inbox and assigns it (a past deadline is refused first).
    leader = site.person("responsible_leader")
    task_row = leader.locator("tbody tr", has_text=number)
    expect(task_row).to_contain_text("交办")
    expect(task_row).to_contain_text("坐班接访")
    site.shot(leader, "leader-inbox", docs="inbox")
    task_row.get_by_role("link", name="办理", exact=True).click()
    expect(leader.locator("#f-handling_unit")).to_have_value("county-hrss")  # the routing rules' suggestion
    expect(leader.locator("#f-handling_unit option:checked")).to_have_text("县人力资源和社会保障局（溆浦县）")
    expect(leader.locator("#earlier-steps")).to_contain_text("需分管领导协调县人社局")  # the interview notes
    assert marks(leader, 1, "assign_unit") == {"active"}  # the task's own (called) process is drawn first
    leader.fill("#f-deadline", "2026-02-27")
    leader.fill("#f-instructions", "核实后十日内答复信访人")
    submit_task(leader)
    expect(leader.locator("#f-deadline-error")).to_have_text("办结期限不能早于今天（2026-03-02）")
    expect(leader.locator("#f-instructions")).to_have_value("核实后十日内答复信访人")  # nothing typed is lost
    site.shot(leader, "assign-refused", docs="task-form")
    leader.fill("#f-deadline", "2026-05-07")  # past the statutory limit: 60 days from acceptance, off days moved
    submit_task(leader)
    expect(leader.locator("#f-deadline-error")).to_contain_text("办结期限不能晚于2026-05-06")
    leader.fill("#f-deadline", "2026-03-20")
    submit_task(leader)
    expect(leader.locator(".flash.success")).to_contain_text("已提交「交办」")
    expect(leader.locator(".flash.success")).to_contain_text("下一步：办理并报告")
    site.shot(leader, "assigned")

    # 5. The handling unit handles the case and reports.
    handler = site.person("handling_unit")
    handler.locator("tbody tr", has_text=number).get_by_role("link", name="办理", exact=True).click()
    handler.fill("#f-handling_result", "已复核，符合低保条件，本月起恢复发放并补发")
    handler.check("input[name=outcome][value=support]")
    site.shot(handler, "handle-report")
    submit_task(handler)
    expect(handler.locator(".flash.success")).to_contain_text("下一步：审核办理结果")

    # 6. The leader checks the result; the case is closed.
    leader.goto(f"{site.url}/tasks")
    leader.locator("tbody tr", has_text=number).get_by_role("link", name="办理", exact=True).click()
    expect(leader.locator("#earlier-steps")).to_contain_text("已复核，符合低保条件，本月起恢复发放并补发")  # the report
    leader.check("input[name=approved][value=true]")
    leader.fill("#f-check_note", "同意，已电话告知信访人")
    submit_task(leader)
    expect(leader.locator(".flash.success")).to_contain_text("下一步：书面答复")

    # 7. The handling unit writes the reply (支持), with the review-rights notice the form fills in.
    handler.goto(f"{site.url}/tasks")
    handler.locator("tbody tr", has_text=number).get_by_role("link", name="办理", exact=True).click()
    handler.check("input[name=outcome][value=support]")
    handler.fill("#f-reply", "经复核，您符合低保条件，自本月起恢复发放并补发。")
    expect(handler.locator("#f-review_rights_notice")).to_contain_text("30日内请求原办理机关的上一级机关复查")
    submit_task(handler)
    expect(handler.locator(".flash.success")).to_contain_text("已提交「书面答复」")

    # The diagram marks have moved: the reception and supervision steps done, the reply written, the case open.
    leader.goto(f"{site.url}/cases/{case_id}")
    expect(leader.locator("h1")).to_contain_text("办理中")
    expect(leader.locator("dl.facts")).to_contain_text("受理（已告知受理）")
    assert marks(leader, 1, "hear_claim") == {"completed"}
    assert marks(leader, 1, "record_acceptance") == {"completed"}
    assert marks(leader, 1, "end_of_workday_timer") == {"completed"}
    assert marks(leader, 1, "record_answer") == set()  # the branch not taken stays unmarked
    supervision, statutory = drawn_with(leader, "assign_unit"), drawn_with(leader, "reply")
    for element in ("assign_unit", "handle_case", "check_result"):
        assert marks(leader, supervision, element) == {"completed"}, element
    assert marks(leader, statutory, "reply") == {"completed"}
    assert marks(leader, statutory, "rate") == {"active"}
    assert "431224196802150021" not in leader.content()  # ID numbers stay masked
    site.shot(leader, "case-replied", docs="case")

    # 8. The petitioner reads the reply with the query code (no personal data), rates it and asks for a review.
    petitioner = site.anonymous()
    petitioner.goto(f"{site.url}/query")
    petitioner.fill("#code", code)
    petitioner.get_by_role("button", name="查询").click()
    facts = petitioner.locator("dl.facts")
    expect(facts).to_contain_text(number)
    expect(facts).to_contain_text("支持")
    assert "王桂英" not in petitioner.content()
    site.shot(petitioner, "petitioner-query", docs="query")
    petitioner.check("input[name=satisfaction][value=dissatisfied]")
    petitioner.get_by_role("button", name="提交评价").click()
    expect(petitioner.locator("dl.facts")).to_contain_text("不满意")
    petitioner.locator("textarea[name=reason]").first.fill("补发金额与政策不符")
    petitioner.get_by_role("button", name="提交申请复查").click()
    expect(petitioner.locator("body")).to_contain_text("已提交复查申请")
    site.shot(petitioner, "petitioner-review-requested")


def test_without_javascript_and_outside_ones_place(site: Any) -> None:
    # The desk works without JavaScript; a refused registration keeps what was typed and says what is wrong.
    secretary = site.person("duty_secretary", javascript=False)
    register_visit(secretary, id_number="43122419680215")
    expect(secretary.locator("#p-0-id_number-error")).to_have_text("请输入18位身份证号码（最后一位可以是X）")
    expect(secretary.locator("#p-0-petitioner_name")).to_have_value("王桂英")
    expect(secretary.locator("#f-claim")).to_have_value(CLAIM)
    site.shot(secretary, "desk-refused")
    secretary.fill("#p-0-id_number", "431224196802150021")
    secretary.get_by_role("button", name="登记", exact=True).click()
    expect(secretary.locator(".flash.success")).to_contain_text("已登记来访")
    case_id = int(secretary.url.rsplit("#case-", 1)[1])

    # A grid worker below the village may not open the case, nor its task, by typing the address.
    worker = site.person("grid_worker")
    response = worker.goto(f"{site.url}/cases/{case_id}")
    assert response is not None and response.status == 403
    expect(worker.locator("main")).to_contain_text("无权访问")
    site.shot(worker, "case-403")
    task_url = f"{site.url}/tasks/{site.open_task(case_id, 'hear_claim')}"
    assert worker.goto(task_url).status == 403
    expect(worker.locator("main")).to_contain_text("无权访问")
    assert secretary.goto(task_url).status == 403  # she registered it, but the hearing is the cadre's
