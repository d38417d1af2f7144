"""The pages a cadre works from, on a phone: Chromium's mobile emulation at 375 px. The header folds into a menu,
tables become cards, forms are one column, nothing scrolls sideways; the diagram fits with a zoom control."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .test_reception_route import register_visit

pytestmark = pytest.mark.browser


def fits_the_width(page: Any) -> None:
    """The page does not scroll sideways, and no element sticks out to the right of the screen."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    wide = page.evaluate("""(width) => Array.from(document.querySelectorAll('main *'))
        .filter(e => e.getBoundingClientRect().right > width + 1 && e.offsetParent !== null
                     && !e.closest('.diagram'))
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""", width)
    assert wide == [], (page.url, wide)


def test_the_working_pages_fit_a_phone(site: Any) -> None:
    secretary = site.person("duty_secretary", phone=True)
    # The header: one line with the title and a 菜单 button; the menu opens on a tap.
    brand = secretary.locator("header.top .brand").bounding_box()
    assert brand is not None and brand["height"] < 40  # not one character per line
    nav = secretary.locator("header.top nav")
    expect(nav).to_be_hidden()
    secretary.get_by_text("菜单", exact=True).click()
    expect(nav).to_be_visible()
    fits_the_width(secretary)  # the inbox
    register_visit(secretary)  # through the menu's 接访台 link
    expect(secretary.locator(".flash.success")).to_contain_text("已登记来访")
    case_id = int(secretary.url.rsplit("#case-", 1)[1])
    expect(secretary.locator("table.cards thead")).to_be_hidden()  # today's visits as cards
    row = secretary.locator(f"#case-{case_id}")
    assert row.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content") == '"案件"'
    fits_the_width(secretary)  # the desk
    site.shot(secretary, "phone-desk")

    cadre = site.person("township_cadre", phone=True)
    cadre.goto(f"{site.url}/tasks")
    fits_the_width(cadre)
    cadre.locator("table.cards tbody tr").first.get_by_role("link", name="办理", exact=True).click()
    expect(cadre.locator("#earlier-steps")).to_contain_text("登记来访")
    fits_the_width(cadre)  # the task form
    choices = cadre.locator("[name=disposition]")  # radios or, with many choices, a select
    assert choices.first.bounding_box()["x"] < 60  # one column: the choices start at the left edge
    site.shot(cadre, "phone-task")

    cadre.goto(f"{site.url}/cases/{case_id}")
    cadre.locator("#diagram-1[data-drawn=true]").wait_for()
    expect(cadre.get_by_role("toolbar", name="流程图缩放")).to_be_visible()
    box = cadre.locator("#diagram-1").bounding_box()
    assert box is not None and box["width"] <= 375
    zoom = cadre.evaluate("() => document.querySelector('#diagram-1 .viewport').getAttribute('transform')")
    scale = float(re.search(r"matrix\(([\d.]+)", zoom).group(1))
    assert scale >= 0.6  # labels stay readable: the diagram scrolls rather than shrinking to nothing
    cadre.get_by_role("button", name="放大").first.click()
    bigger = cadre.evaluate("() => document.querySelector('#diagram-1 .viewport').getAttribute('transform')")
    assert float(re.search(r"matrix\(([\d.]+)", bigger).group(1)) > scale
    fits_the_width(cadre)  # the case page
    site.shot(cadre, "phone-case")

    petitioner = site.anonymous(phone=True)
    petitioner.goto(f"{site.url}/query")
    fits_the_width(petitioner)


def test_without_javascript_the_case_page_says_where_the_diagram_went(site: Any) -> None:
    secretary = site.person("duty_secretary", javascript=False)
    register_visit(secretary)
    case_id = int(secretary.url.rsplit("#case-", 1)[1])
    secretary.goto(f"{site.url}/cases/{case_id}")
    expect(secretary.locator("#diagram-1")).to_contain_text("流程图要在浏览器启用 JavaScript 后才能显示")
    expect(secretary.locator("details.fallback").first).to_have_attribute("open", "")
    expect(secretary.locator("details.fallback table").first).to_be_visible()
