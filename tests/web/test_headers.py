"""Security headers on every response of every blueprint; diagram files only as downloads; no inline script."""

from __future__ import annotations

import re

from web.headers import SECURITY_HEADERS
from web.security import UNSAFE_METHODS

from .conftest import PROJECT_DIR

TEMPLATES = PROJECT_DIR / "web" / "templates"
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _url(rule: str, case_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.groups()
        if name == "case_id":
            return str(case_id)
        return "1" if converter == "int" else {"package": "bpmn-js", "filename": "package.json",
                                                "process_id": "reception"}.get(name, "x")
    return PARAMETER.sub(value, rule)


def _assert_secured(response, where: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy":
            policy = dict(part.strip().partition(" ")[::2] for part in response.headers[name].split(";"))
            scripts = policy.get("script-src", policy["default-src"])
            assert scripts in ("'self'", "'none'") and policy["frame-ancestors"] == "'none'", (where, policy)
        else:
            assert response.headers.get(name) == value, (where, name)


def test_every_route_of_every_blueprint_answers_with_the_security_headers(app, browser, desk):
    case_id = desk.visit()
    visitors = {"anonymous": browser(), "cadre": browser("t01.cadre"), "auditor": browser("auditor1"),
                "designer": browser("designer1"), "bureau": browser("bureau1")}
    covered: set[str] = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = _url(rule.rule, case_id)
        for who, visitor in visitors.items():
            _assert_secured(visitor.get(url), f"GET {url} as {who}")
        covered.add(rule.endpoint.split(".")[0])
    for rule in app.url_map.iter_rules():
        if UNSAFE_METHODS & set(rule.methods or ()):
            url = _url(rule.rule, case_id)
            _assert_secured(visitors["cadre"].post(url, {}), f"POST {url}")
    assert set(app.blueprints) <= covered | {"api"}, set(app.blueprints) - covered
    assert "api" in covered and "static" in covered
    _assert_secured(visitors["anonymous"].get("/no/such/page"), "a 404")


def test_diagram_files_are_downloads_that_never_run_in_the_site(browser, desk, services):
    case_id = desk.visit()
    cadre, auditor, designer = browser("t01.cadre"), browser("auditor1"), browser("designer1")
    case_page = cadre.get(f"/cases/{case_id}").text
    audit_page = auditor.get(f"/audit/cases/{case_id}/steps/1").text
    urls = [(cadre, re.search(r'data-xml-url="([^"]+)"', case_page).group(1)),
            (auditor, re.search(r'data-xml-url="([^"]+)"', audit_page).group(1)),
            (designer, "/designer/processes/reception/versions/1.bpmn"),
            (designer, "/designer/processes/reception/versions/1.bpmn?download=1")]
    for visitor, url in urls:
        response = visitor.get(url)
        assert response.status_code == 200 and response.data.startswith(b"<?xml"), url
        assert response.headers["Content-Disposition"].startswith("attachment;"), url
        assert ".bpmn" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy, url


def test_no_template_carries_inline_script_event_handlers_or_script_urls():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name}: an on…= event handler"
        assert "javascript:" not in text.lower(), f"{path.name}: a javascript: URL"
