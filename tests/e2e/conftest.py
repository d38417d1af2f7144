"""End-to-end fixtures: the demo deployment of the README on a simulated clock, served by the Doorstep web app on a
free localhost port, and Debian's Chromium driven by Playwright (no browser download: its executable path).

The database is made once per run by the real commands (`doorstep --json init --demo --simulated-clock ...`:
migrations, diagrams, the demo county with its rota, the demo accounts) and copied for each test. Time moves only
through `doorstep clock advance`, which fires the timers through the engine; nothing sleeps.

Screenshots of each step go to `test-output/screenshots/`. With DOORSTEP_DOCS_SCREENSHOTS=docs/screenshots the
steps named for the README are also saved there at 1280×800 (the README's pictures come from this run).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from doorstep.cli import main
from doorstep.config import PROJECT_DIR, Settings
from doorstep.services import Services
from web import create_app

CHROMIUM = "chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
START = "2026-03-02T09:00:00+08:00"  # a Monday morning in Xupu
PASSWORD = "xupu-demo-2022"
SCREENSHOTS = PROJECT_DIR / "test-output" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def settings_for(path: Path) -> Settings:
    """Settings of an end-to-end deployment on the SQLite file `path`."""
    return Settings(database_url=f"sqlite:///{path}", bpmn_dir=PROJECT_DIR / "bpmn", secret_key="e2e-test-secret",
                    host="127.0.0.1", port=0)


def doorstep(path: Path, *args: str) -> str:
    """Run a `doorstep` command against the database at `path`; return what it printed."""
    env = {"DOORSTEP_DATABASE_URL": settings_for(path).database_url, "DOORSTEP_BPMN_DIR": str(PROJECT_DIR / "bpmn"),
           "DOORSTEP_SECRET_KEY": "e2e-test-secret"}
    result = CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


@dataclass(frozen=True)
class Demo:
    """The demo database made once, and its accounts by role code."""

    path: Path
    accounts: dict[str, str]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`doorstep init --demo` on a simulated clock, as the README's browser walk-through does."""
    path = tmp_path_factory.mktemp("e2e-template") / "doorstep.db"
    printed = json.loads(doorstep(path, "--json", "init", "--demo", "--simulated-clock", START))
    return Demo(path, {a["role"]: a["username"] for a in printed["demo_accounts"]})


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or skip the browser tests saying why."""
    found = shutil.which(CHROMIUM)
    if found is None:
        pytest.skip("end-to-end tests need Debian's `chromium` on PATH (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def chromium(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Site:
    """A Doorstep web server on a copy of the demo database, and a way to open a browser on it."""

    url: str
    path: Path
    accounts: dict[str, str]
    chromium: Any
    name: str = "e2e"
    contexts: list[Any] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    shots: int = 0

    def person(self, role: str, javascript: bool = True, phone: bool = False) -> Any:
        """A fresh browser window (own cookies) logged in, through the login form, as the demo account of `role`.

        With `phone`, Chromium emulates a phone 375 px wide (touch, mobile viewport).
        """
        page = self.log_in(self.accounts[role], PASSWORD, javascript=javascript, phone=phone)
        page.wait_for_url(f"{self.url}/tasks")
        return page

    def log_in(self, username: str, password: str, javascript: bool = True, phone: bool = False) -> Any:
        """A fresh browser window that has sent the login form with `username` and `password` (whatever came of it)."""
        page = self.anonymous(javascript=javascript, phone=phone)
        page.goto(f"{self.url}/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        return page

    def anonymous(self, javascript: bool = True, phone: bool = False) -> Any:
        """A browser window without a login (the petitioner's); with `phone`, as `person` emulates one. What its
        pages write to the console, and the script errors they raise, go to `console`."""
        screen = PHONE if phone else {"viewport": VIEWPORT}
        context = self.chromium.new_context(**screen, locale="zh-CN", timezone_id="Asia/Shanghai",
                                            java_script_enabled=javascript)
        context.set_default_timeout(15_000)
        context.on("console", lambda message: self.console.append(message.text))
        context.on("weberror", lambda error: self.console.append(f"pageerror {error.error}"))
        self.contexts.append(context)
        return context.new_page()

    def policy_violations(self) -> list[str]:
        """The console lines of the Content-Security-Policy refusing something (an inline script, a handler) and
        the script errors, of every window opened so far."""
        return [text for text in self.console if "Content Security Policy" in text or text.startswith("pageerror")]

    def command(self, *args: str) -> str:
        """Run a `doorstep` command on the site's database, as its operator would; return what it printed."""
        return doorstep(self.path, *args)

    def advance(self, duration: str) -> str:
        """Move the simulated clock as `doorstep clock advance DURATION` does, firing what falls due."""
        return self.command("clock", "advance", duration)

    @contextlib.contextmanager
    def engine(self) -> Iterator[Any]:
        """The workflow engine on the site's database, in one unit of work committed at the end (to set up a case as
        the people of the demo would have)."""
        services = Services.from_settings(settings_for(self.path))
        try:
            with services.unit_of_work() as session:
                yield services.engine(session)
        finally:
            services.db.dispose()

    def open_task(self, case_id: int, element: str) -> str:
        """The id of the case's open task at `element` (read from the task table, as `doorstep task list` does)."""
        with self.engine() as engine:
            return next(t.id for t in engine.open_tasks(case_id) if t.element_id == element)

    def shot(self, page: Any, name: str, docs: str | None = None) -> Path:
        """Save a screenshot of the page for this step (and for the README when asked)."""
        self.shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{name}.png"
        page.screenshot(path=str(target), full_page=True)
        folder = os.environ.get("DOORSTEP_DOCS_SCREENSHOTS")
        if docs and folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{docs}.png"))
        return target


@contextlib.contextmanager
def served_copy(template: Path, folder: Path) -> Iterator[str]:
    """Serve the web app (as `doorstep serve` builds it) over a fresh copy of `template` on a free port."""
    path = folder / "doorstep.db"
    shutil.copyfile(template, path)
    app = create_app(settings_for(path))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="doorstep-e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        app.extensions["doorstep"].db.dispose()


@pytest.fixture
def site(demo: Demo, chromium: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    """The web app serving a fresh copy of the demo database on a free port."""
    with served_copy(demo.path, tmp_path) as url:
        found = Site(url, tmp_path / "doorstep.db", demo.accounts, chromium,
                     name=request.node.name.removeprefix("test_"))
        try:
            yield found
        finally:
            for context in found.contexts:
                context.close()
