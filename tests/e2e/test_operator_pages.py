"""Today's operator pages in real headless Chromium, with the demo accounts: the township's reception rota (a
petition cadre swaps two days, a village cadre only reads), an initial password from `doorstep account create`
that must be changed before anything else opens, an account `doorstep account disable` stopped, and the
discipline body sending an accusation up to 市纪委监委 on 检举控告受理. No page runs a script the
Content-Security-Policy refuses."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "qingxi-grid-2026"
ACCUSATION = {"channel": "letter", "category": "accusation", "petitioner_name": "张秋菊", "township": "t01",
              "village": "t01v01", "accused_unit": "t01v01", "claim": "村委会挪用修路补助款"}
TRANSFER_REASON = "被检举人系市管干部，超出县纪委监委管辖权限"
TRANSFER_NOTICE = "您的检举控告已转送市纪委监委处理"


def secretary_on(page: Any, day: str) -> str:
    """The secretary (with the village) the rota table shows on `day`."""
    return str(page.locator(f"#day-{day} td").nth(2).inner_text())


def test_a_township_cadre_swaps_two_days_and_a_village_cadre_only_reads(site: Any) -> None:
    cadre = site.person("township_cadre")
    cadre.get_by_role("link", name="接访排班").click()
    expect(cadre.locator("h1")).to_contain_text("荷垭镇坐班接访排班")
    expect(cadre.locator("h1")).to_contain_text("2026-03")  # the month of the (simulated) today
    expect(cadre.locator("#day-2026-03-03")).to_contain_text("周二")
    expect(cadre.locator("#day-2026-03-07")).to_have_count(0)  # a Saturday: nobody sits
    tuesday, thursday = secretary_on(cadre, "2026-03-03"), secretary_on(cadre, "2026-03-05")
    assert tuesday != thursday
    site.shot(cadre, "rota-month")

    # A past day is refused on its field; the other day typed stays.
    swap = cadre.locator("form", has=cadre.get_by_role("button", name="换班"))
    swap.get_by_label("第一天").fill("2026-02-27")
    swap.get_by_label("第二天").fill("2026-03-05")
    swap.get_by_role("button", name="换班").click()
    expect(cadre.locator("#swap-first-error")).to_have_text(
        "2026-02-27 已经过去（今天是 2026-03-02），不能再改那天的排班")
    expect(cadre.locator("#swap-second")).to_have_value("2026-03-05")
    assert secretary_on(cadre, "2026-03-05") == thursday

    cadre.locator("#swap-first").fill("2026-03-03")
    cadre.get_by_role("button", name="换班").click()
    expect(cadre.locator(".flash.success")).to_have_text("已换班：2026-03-03 与 2026-03-05 的坐班村支书互换")
    expect(cadre.locator("#day-2026-03-03 td").nth(2)).to_have_text(thursday)
    expect(cadre.locator("#day-2026-03-05 td").nth(2)).to_have_text(tuesday)
    expect(cadre.locator("#day-2026-03-03 td").nth(3)).to_have_text("朱斌平")  # the cadre stays
    site.shot(cadre, "rota-swapped")

    # The village cadre reads the township's rota, the swap included, without the forms to change it.
    village = site.person("village_cadre")
    village.get_by_role("link", name="接访排班").click()
    expect(village.locator("#day-2026-03-03 td").nth(2)).to_have_text(thursday)
    expect(village.get_by_role("button", name="换班")).to_have_count(0)
    expect(village.get_by_role("button", name="改派")).to_have_count(0)
    site.shot(village, "rota-read-only")
    # A swap sent anyway (with the session's own CSRF token) is refused and changes nothing.
    token = village.locator("header input[name=csrf_token]").get_attribute("value")
    refused = village.request.post(f"{site.url}/rota", form={
        "csrf_token": token, "action": "swap", "township": "t01", "first": "2026-03-03", "second": "2026-03-05"})
    assert refused.status == 403 and "只有本乡镇的乡镇信访干部和县信访局可以调整接访排班" in refused.text()
    village.reload()
    expect(village.locator("#day-2026-03-03 td").nth(2)).to_have_text(thursday)

    assert not site.policy_violations()


def test_an_initial_password_opens_only_the_form_to_change_it(site: Any, tmp_path: Path) -> None:
    # The operator gives the grid worker an account; the initial password is in the CSV only.
    out = tmp_path / "initial-passwords.csv"
    site.command("account", "create", "--unit", "t01v01g02", "--out", str(out), "--jobs", "1", "--as", "bureau1")
    with out.open(encoding="utf-8") as rows:
        [row] = csv.DictReader(rows)
    username, initial = row["username"], row["initial_password"]

    worker = site.log_in(username, initial)
    worker.wait_for_url(f"{site.url}/account/password")
    expect(worker.locator(".flash.info")).to_contain_text("这是管理员发给您的初始密码：请先设置您自己的新密码")
    site.shot(worker, "initial-password")
    worker.goto(f"{site.url}/tasks")  # the inbox, typed in: back to the form
    expect(worker).to_have_url(f"{site.url}/account/password")
    worker.get_by_role("link", name="我的待办").click()  # nor through the header's link
    expect(worker).to_have_url(f"{site.url}/account/password")

    worker.fill("#current", initial)
    worker.fill("#new", NEW_PASSWORD)
    worker.fill("#confirm", NEW_PASSWORD + "!")
    worker.get_by_role("button", name="修改密码").click()
    expect(worker.locator(".field.has-error")).to_contain_text("两次输入的新密码不一致")
    worker.goto(f"{site.url}/tasks")  # still the form: nothing changed
    expect(worker).to_have_url(f"{site.url}/account/password")

    worker.fill("#current", initial)
    worker.fill("#new", NEW_PASSWORD)
    worker.fill("#confirm", NEW_PASSWORD)
    worker.get_by_role("button", name="修改密码").click()
    expect(worker).to_have_url(f"{site.url}/tasks")
    expect(worker.locator(".flash.success")).to_contain_text("密码已修改")
    expect(worker.locator("h1")).to_contain_text("我的待办")
    worker.get_by_role("link", name="案件").click()  # every page opens now
    expect(worker).to_have_url(re.compile(r"/cases"))

    # The next login with the new password goes straight to the inbox; the initial one opens nothing.
    site.log_in(username, NEW_PASSWORD).wait_for_url(f"{site.url}/tasks")
    expect(site.log_in(username, initial).locator(".flash.error")).to_have_text("用户名或密码不正确")
    assert not site.policy_violations()


def test_a_disabled_account_is_told_so_only_with_the_right_password(site: Any) -> None:
    username = site.accounts["village_cadre"]
    earlier = site.person("village_cadre")  # logged in before the operator disables the account
    site.command("account", "disable", username, "--reason", "调离 2026-03-01", "--as", "bureau1")
    earlier.goto(f"{site.url}/tasks")
    expect(earlier).to_have_url(re.compile(r"/login\?next="))  # the session ended with the account

    right = site.log_in(username, PASSWORD)
    expect(right.locator(".flash.error")).to_have_text("此账号已停用，请联系系统管理员")
    expect(right.locator("#username")).to_have_value(username)
    site.shot(right, "account-disabled")
    wrong = site.log_in(username, "not-" + PASSWORD)
    expect(wrong.locator(".flash.error")).to_have_text("用户名或密码不正确")

    site.command("account", "enable", username, "--reason", "返岗", "--as", "bureau1")
    site.person("village_cadre")  # in again with the same password
    assert not site.policy_violations()


def registered_accusation(site: Any) -> int:
    """An accusation against a village committee the county bureau registered and accepted: its 检举控告受理 waits
    for the county discipline body."""
    bureau = site.accounts["county_bureau"]
    steps = (("register", ACCUSATION), ("decide_registration", {"decision": "accept", "notice": "已受理",
                                                                "tier": "county"}))
    with site.engine() as engine:
        case_id = int(engine.start("petition", {}, bureau).instance.id)
        for element, data in steps:
            task = next(t for t in engine.open_tasks(case_id) if t.element_id == element)
            engine.complete_task(task.id, data, bureau)
    return case_id


def test_the_discipline_body_transfers_an_accusation_up_with_a_reason(site: Any) -> None:
    case_id = registered_accusation(site)
    staff = site.person("discipline")
    staff.goto(f"{site.url}/cases/{case_id}")
    staff.get_by_role("link", name="检举控告受理").click()
    expect(staff.locator("h1")).to_contain_text("检举控告受理")

    # The page draws every field of the form; what each branch of the if/then requires is said beside it.
    transfer_only = "处理意见为“转送市纪委监委”时必填"
    expect(staff.locator("#f-decision_reason-hint")).to_have_text(transfer_only)
    expect(staff.locator("#f-notice-hint")).to_have_text(transfer_only)
    expect(staff.locator("#f-acceptance_notice-hint")).to_have_text("处理意见为“受理，交承办单位办理”时必填")
    expect(staff.locator("input[name=discipline_decision][value=accept]")).to_be_checked()  # the default

    staff.get_by_label("转送市纪委监委").check()
    expect(staff.locator("#f-decision_reason")).to_be_visible()
    expect(staff.locator("#f-notice")).to_be_visible()
    staff.fill("#f-notice", TRANSFER_NOTICE)
    staff.get_by_role("button", name="提交", exact=True).click()
    expect(staff.locator("#f-decision_reason-error")).to_have_text("请填写转送理由")
    expect(staff.locator("#f-notice")).to_have_value(TRANSFER_NOTICE)  # nothing typed is lost
    expect(staff.locator("input[name=discipline_decision][value=transfer_up]")).to_be_checked()
    site.shot(staff, "transfer-without-reason")

    staff.fill("#f-decision_reason", TRANSFER_REASON)
    staff.get_by_role("button", name="提交", exact=True).click()
    expect(staff.locator(".flash.success")).to_contain_text("已提交「检举控告受理」")
    expect(staff.locator(".flash.success")).to_contain_text("案件已办结")

    staff.goto(f"{site.url}/cases/{case_id}")
    expect(staff.locator("h1")).to_contain_text("已办结")
    facts = staff.locator("dl.facts")
    expect(facts.locator("dt:has-text('受理审查') + dd")).to_have_text("转送")
    expect(facts.locator("dt:has-text('状态') + dd")).to_have_text("已办结")
    expect(facts.locator("dt:has-text('承办单位')")).to_have_count(0)  # nobody here handles it
    history = staff.locator("table.history")
    expect(history).to_contain_text(TRANSFER_REASON)
    expect(history).to_contain_text(TRANSFER_NOTICE)
    site.shot(staff, "accusation-transferred")
    assert not site.policy_violations()


def test_the_console_watch_sees_an_inline_script_the_policy_refuses(site: Any) -> None:
    """The check the tests above end with can fail: a script put inline into a page is refused and reported."""
    page = site.anonymous()
    page.goto(f"{site.url}/login")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = true';
                                 document.body.appendChild(s); }""")
    assert page.evaluate("window.ran === undefined")
    assert any("inline script" in text for text in site.policy_violations()), site.console
