"""Doors of intake in real headless Chromium: the grid worker records a household-visit issue on a phone (375 px,
mobile emulation) and the village cadre enters a WeChat-group message, each told the case's query code."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def fits_the_screen(page: Any) -> bool:
    """Whether the page needs no sideways scrolling."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_grid_worker_records_a_household_issue_on_a_phone(site):
    page = site.person("grid_worker", phone=True)
    page.get_by_text("菜单", exact=True).click()  # on a phone the header's links are behind the menu button
    page.get_by_role("link", name="登记入口").click()
    page.get_by_role("link", name="入户走访发现问题").click()
    expect(page.locator("h1")).to_contain_text("入户走访发现问题")
    assert fits_the_screen(page)
    page.fill("#f-household", "李大爷")
    page.get_by_label("入户走访").check()
    page.select_option("#f-category", "infrastructure")
    page.fill("#f-claim", "村道路灯坏了三盏，晚上出行不便")
    page.get_by_label("一般").check()
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".flash.success")).to_contain_text("查询码")
    assert fits_the_screen(page)
    site.shot(page, "grid-worker-phone", docs="grid-worker-phone")


def test_a_refused_issue_keeps_what_was_typed_on_the_phone(site):
    page = site.person("grid_worker", phone=True)
    page.goto(f"{site.url}/intake/household_visit")
    page.fill("#f-claim", "村道路灯坏了三盏")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#f-category-error")).to_be_visible()
    expect(page.locator("#f-claim")).to_have_value("村道路灯坏了三盏")
    assert fits_the_screen(page)


def test_the_village_cadre_enters_a_wechat_group_message(site):
    page = site.person("village_cadre")
    page.goto(f"{site.url}/intake/wechat_group")
    page.fill("#f-petitioner_name", "群友李四")
    page.fill("#f-claim", "村里垃圾清运不及时")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".flash.success")).to_contain_text("查询码")
