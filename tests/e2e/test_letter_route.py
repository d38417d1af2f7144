"""The county bureau's intake of a letter in real headless Chromium, through the statutory path: registration,
the acceptance decision and notice, the handling unit's reply, then the petitioner on the public query page rates
the reply and asks for a review (复查) with the query code the registration gave."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CLAIM = "养老保险缴费年限核定有误，多次反映未果"


def open_task(page: Any, name: str) -> None:
    """Open the first task called `name` in the inbox."""
    page.get_by_role("link", name="我的待办").click()
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page.locator("h1")).to_contain_text(name.split("（")[0])


def submit(page: Any) -> None:
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".flash.success")).to_be_visible()


def test_a_letter_from_registration_to_the_review_request(site):
    bureau = site.person("county_bureau")
    bureau.get_by_role("link", name="登记入口").click()
    bureau.get_by_role("link", name="来信登记").click()
    bureau.select_option("#f-category", "social_security")
    bureau.fill("#f-petitioner_name", "王桂英")
    bureau.fill("#f-id_number", "431224196802150021")
    bureau.fill("#f-phone", "13807451234")
    bureau.select_option("#f-township", "t01")
    bureau.fill("#f-village", "t01v01")
    bureau.fill("#f-claim", CLAIM)
    bureau.get_by_role("button", name="登记").click()
    notice = bureau.locator(".flash.success")
    expect(notice).to_contain_text("查询码")
    code = re.search(r"查询码 ([A-Z2-7]{12})", notice.inner_text())[1]
    site.shot(bureau, "letter-registered")

    open_task(bureau, "受理审查")
    bureau.select_option("#f-decision", "accept")
    bureau.fill("#f-notice", "您反映的养老保险缴费年限问题已受理，将于60日内书面答复。")
    bureau.locator("input[name=tier][value=county]").check()
    submit(bureau)
    open_task(bureau, "交办承办单位")
    bureau.select_option("#f-handling_unit", "county-hrss")
    submit(bureau)

    handler = site.person("handling_unit")
    open_task(handler, "确认职责（异议期）")
    handler.locator("input[name=competent][value=true]").check()
    submit(handler)
    open_task(handler, "办理")
    handler.locator("input[name=handling_action][value=done]").check()
    handler.fill("#f-handling_note", "经核查，补记缴费年限三年")
    submit(handler)
    open_task(handler, "书面答复")
    handler.locator("input[name=outcome][value=support]").check()
    handler.fill("#f-reply", "经核查，您的缴费年限已补记三年。")
    handler.fill("#f-review_rights_notice", "如不服本答复，可自收到之日起30日内向上一级机关申请复查。")
    submit(handler)

    petitioner = site.anonymous()
    petitioner.goto(f"{site.url}/query")
    petitioner.fill("#code", code)
    petitioner.get_by_role("button", name="查询").click()
    expect(petitioner.locator("dl.facts")).to_contain_text("支持")
    petitioner.get_by_label("不满意", exact=True).check()
    petitioner.get_by_role("button", name="提交评价").click()
    expect(petitioner.locator(".flash.success")).to_contain_text("感谢您的评价")
    petitioner.fill("textarea[name=reason]", "补记年限仍少两年，请求复查")
    petitioner.get_by_role("button", name="提交申请复查").click()
    expect(petitioner.locator(".flash.success")).to_contain_text("已提交复查申请")
    site.shot(petitioner, "review-requested", docs="query-review")
