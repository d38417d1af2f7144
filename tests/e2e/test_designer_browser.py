"""The process designer in real headless Chromium (Debian's, through Playwright): open the reception diagram in the
bpmn-js modeler, change a label and a condition, see the lint problem appear on the gateway, fix it, save, run the
scenarios, deploy version 2, see the diff drawn, and move the running cases that can move.

The server and the database are this module's own (tests/e2e/conftest.py serves the staff walk-through): the demo
deployment made by `doorstep init --demo`, with two reception cases running, served on a free localhost port.
Nothing sleeps: every wait is Playwright's auto-waiting on something the page shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from doorstep.cli import main
from doorstep.config import PROJECT_DIR, Settings
from doorstep.services import Services
from tests.e2e.conftest import served_copy

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START = "2026-03-02T09:00:00+08:00"
SCREENSHOTS = PROJECT_DIR / "test-output" / "screenshots"
VIEWPORT = {"width": 1440, "height": 1000}
VISIT = {"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234", "headcount": 1,
         "category": "social_security", "claim": "低保资格复核进度"}


def settings_for(path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{path}", bpmn_dir=PROJECT_DIR / "bpmn", secret_key="designer-e2e",
                    host="127.0.0.1", port=0)


@dataclass(frozen=True)
class Prepared:
    """The demo database with running reception cases, and the designer's login."""

    path: Path
    username: str
    password: str
    waiting: int  # at 接谈研判: can move to a version that changes the gateway after it
    past_gateway: int  # already through the gateway: cannot


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """`doorstep init --demo` on a simulated clock, then two reception cases started through the engine."""
    path = tmp_path_factory.mktemp("designer-e2e") / "doorstep.db"
    env = {"DOORSTEP_DATABASE_URL": settings_for(path).database_url, "DOORSTEP_BPMN_DIR": str(PROJECT_DIR / "bpmn")}
    result = CliRunner(env=env).invoke(main, ["--json", "init", "--demo", "--simulated-clock", START],
                                       catch_exceptions=False)
    assert result.exit_code == 0, result.output
    account = next(a for a in json.loads(result.output)["demo_accounts"] if a["role"] == "designer")
    services = Services.from_settings(settings_for(path))
    try:
        cases = []
        for disposition in (None, "coordinate"):
            with services.unit_of_work() as session:
                engine = services.engine(session)
                case_id = engine.start("reception", {}, "e2e").instance.id
                register = engine.open_tasks(case_id)[0]
                engine.complete_task(register.id, VISIT, "e2e")
                if disposition:
                    engine.complete_task(engine.open_tasks(case_id)[0].id, {"disposition": disposition}, "e2e")
            cases.append(case_id)
    finally:
        services.db.dispose()
    return Prepared(path, account["username"], account["password"], cases[0], cases[1])


@dataclass
class Studio:
    """The app served on a free port over a fresh copy of the prepared database."""

    url: str
    prepared: Prepared
    chromium: Any
    name: str
    contexts: list[Any] = field(default_factory=list)
    shots: int = 0

    def designer(self) -> Any:
        """A browser window logged in as the demo designer through the login form."""
        context = self.chromium.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        page.goto(f"{self.url}/login")
        page.fill("#username", self.prepared.username)
        page.fill("#password", self.prepared.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.url}/tasks")
        return page

    def shot(self, page: Any, step: str) -> None:
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"designer-{self.name}-{self.shots:02d}-{step}.png"), full_page=True)


@pytest.fixture
def studio(prepared: Prepared, chromium: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Studio]:
    with served_copy(prepared.path, tmp_path) as url:
        found = Studio(url, prepared, chromium, request.node.name.removeprefix("test_"))
        try:
            yield found
        finally:
            for context in found.contexts:
                context.close()


def open_reception(studio: Studio) -> Any:
    page = studio.designer()
    page.click("text=流程设计")
    page.wait_for_url(f"{studio.url}/designer")
    page.click("#process-reception >> text=编辑流程图")
    page.wait_for_selector("#designer[data-ready=true]")
    return page


def edit(page: Any, element: str, selector: str, value: str) -> None:
    """Select an element on the canvas, type into a field of the property panel and leave the field."""
    page.click("#canvas", position={"x": 700, "y": 600})  # empty canvas: nothing selected, no context pad
    page.click(f'#canvas [data-element-id="{element}"]')
    page.wait_for_selector(f'#panel[data-element="{element.removesuffix("_label")}"] {selector}')
    page.fill(f"#panel {selector}", value)
    page.press(f"#panel {selector}", "Tab")


def test_a_designer_changes_checks_tests_deploys_and_moves_cases_in_the_browser(studio: Studio) -> None:
    page = open_reception(studio)
    assert page.locator("#designer").get_attribute("data-problems") == "0"
    studio.shot(page, "opened")

    edit(page, "record_answer", "#prop-name", "记录当场答复内容")
    assert page.locator('#canvas [data-element-id="record_answer"]').text_content() == "记录当场答复内容"
    edit(page, "flow_coordinate_label", "#prop-condition", 'disposition in ("answer", "coordinate")')
    badge = page.locator('.ds-problem-badge[data-element="disposition_gateway"]')
    badge.wait_for()
    assert "分支条件可能同时成立" in badge.locator(".ds-problem-text").text_content()
    assert "分支条件可能同时成立" in page.locator("#problem-list").inner_text()
    badge.hover()
    studio.shot(page, "overlap-shown-on-the-gateway")
    page.mouse.move(1, 1)  # the message closes when the pointer leaves the badge

    edit(page, "flow_coordinate_label", "#prop-condition", 'disposition in ("coordinate", "mediate")')
    badge.wait_for(state="detached")
    page.click("#save-draft")
    page.wait_for_selector("#designer[data-row-version='1']")
    assert "检查通过" in page.locator("#status").inner_text()
    studio.shot(page, "fixed-and-saved")

    page.click("#run-scenarios")
    page.wait_for_selector("#designer[data-scenarios=passed]")
    assert page.locator("#scenario-results tr.failed").count() == 0
    assert page.locator("#scenario-results tr.passed").count() >= 4
    studio.shot(page, "scenarios-passed")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#deploy-draft")
    page.wait_for_url("**/designer/processes/reception/diff?old=1&new=2")
    page.wait_for_selector(".diff-diagram[data-side=new][data-drawn='2']")  # the gateway and the relabelled task
    page.wait_for_selector(".diff-diagram[data-side=old][data-drawn='2']")
    for element in ("disposition_gateway", "record_answer"):
        assert page.locator(f'.diff-diagram[data-side=new] [data-element-id="{element}"].ds-diff-changed').count()
        assert page.locator(f'.diff-diagram[data-side=old] [data-element-id="{element}"].ds-diff-changed').count()
        assert element in page.locator("table.changes").inner_text()
    studio.shot(page, "diff-v1-v2")

    page.click("text=← 坐班接访")
    page.click("text=把全部能迁移的案件迁到 v2")
    moved = page.locator("ul.moved").inner_text()
    refused = page.locator("table.refused").inner_text()
    assert f"案件 {studio.prepared.waiting}：已迁到 v2" in moved
    assert f"案件 {studio.prepared.past_gateway} 不能迁移到 v2" in refused and "disposition_gateway" in refused
    studio.shot(page, "cases-moved")

    page.goto(f"{studio.url}/designer")
    row = page.locator("#process-reception").inner_text()
    assert "v2" in row
    studio.shot(page, "library-with-v2")


def test_a_second_designer_is_told_the_draft_changed_and_keeps_their_work(studio: Studio) -> None:
    first, second = open_reception(studio), open_reception(studio)
    edit(first, "hear_claim", "#prop-name", "接谈")
    first.click("#save-draft")
    first.wait_for_selector("#designer[data-row-version='1']")

    edit(second, "record_answer", "#prop-name", "记录答复内容")
    second.click("#save-draft")
    second.wait_for_selector("#conflict:visible")
    assert "没有丢失" in second.locator("#conflict-message").inner_text()
    assert "记录答复内容" in second.locator('#canvas [data-element-id="record_answer"]').text_content()
    studio.shot(second, "conflict-kept-in-the-editor")

    second.click("#conflict-overwrite")
    second.wait_for_selector("#designer[data-row-version='2']")
    assert second.locator("#conflict").is_hidden()
