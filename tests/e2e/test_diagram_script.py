"""A diagram carrying XHTML script executes nothing in Chromium: refused at upload; and one already stored (put
into the database behind the validator's back) is drawn by bpmn-js without running, and served only as a
download. The pages keep their Content-Security-Policy without a single violation (bpmn-js, Chart.js included)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from doorstep.services import Services
from engine.models import DeploymentFile, StoredFile
from tests.e2e.conftest import settings_for

pytestmark = pytest.mark.browser

XHTML = "http://www.w3.org/1999/xhtml"
PAYLOAD = (f'<bpmn:documentation><html:div xmlns:html="{XHTML}">'
           """<html:img src="x" onerror="console.log('PWNED img')"/>"""
           f'<html:script>console.log("PWNED script")</html:script></html:div></bpmn:documentation>')
TASK = '<bpmn:userTask id="register_visit" name="登记来访">'
VISIT = {"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234", "headcount": 1,
         "township": "t01", "village": "t01v01", "category": "social_security", "claim": "低保资格复核进度"}


def _plant_script_and_start_a_case(site: Any, secretary: str) -> tuple[int, bytes]:
    """Put the payload into the stored reception.bpmn (as if it had slipped past validation); start a case on it."""
    services = Services.from_settings(settings_for(site.path))
    try:
        with services.unit_of_work() as session:
            stored = session.scalar(select(StoredFile).join(DeploymentFile, DeploymentFile.content_hash ==
                                                            StoredFile.content_hash)
                                    .where(DeploymentFile.name == "reception.bpmn"))
            hostile = bytes(stored.content).decode("utf-8").replace(TASK, TASK + PAYLOAD, 1)
            assert PAYLOAD in hostile
            stored.content = hostile.encode("utf-8")
        with services.unit_of_work() as session:
            engine = services.engine(session)
            case_id = engine.start("reception", {"township": "t01", "village": "t01v01"}, secretary).instance.id
            task = next(t for t in engine.open_tasks(case_id) if t.element_id == "register_visit")
            engine.complete_task(task.id, dict(VISIT), secretary)
        return case_id, hostile.encode("utf-8")
    finally:
        services.db.dispose()


def _open_as_file(page: Any, url: str) -> None:
    """Navigate straight to a diagram file: it must be a download, never a document of the site."""
    with page.expect_download() as download:
        with pytest.raises(PlaywrightError):
            page.goto(url)
    assert download.value.suggested_filename.endswith(".bpmn")


def test_script_in_a_diagram_executes_nothing_anywhere(site: Any, tmp_path: Any) -> None:
    secretary = site.person("duty_secretary")
    case_id, hostile = _plant_script_and_start_a_case(site, site.accounts["duty_secretary"])

    # The case page draws the stored diagram with bpmn-js; the documentation is data, nothing runs.
    secretary.goto(f"{site.url}/cases/{case_id}")
    secretary.locator("#diagram-1[data-drawn=true]").wait_for()
    assert secretary.locator('#diagram-1 g.djs-element[data-element-id="register_visit"]').count() == 1
    xml_url = secretary.locator("#diagram-1").get_attribute("data-xml-url")
    _open_as_file(secretary, f"{site.url}{xml_url}")

    # The auditor's step view draws the version the case ran on; its file is a download too.
    auditor = site.person("auditor")
    auditor.goto(f"{site.url}/audit/cases/{case_id}/steps/1")
    auditor.locator(".diagram[data-drawn=true]").first.wait_for()
    _open_as_file(auditor, site.url + auditor.locator(".diagram").first.get_attribute("data-xml-url"))

    # The designer: the version file is a download; the modeler opens the planted diagram without running it;
    # uploading the same file is refused, naming the element and line.
    designer = site.person("designer")
    _open_as_file(designer, f"{site.url}/designer/processes/reception/versions/1.bpmn")
    designer.goto(f"{site.url}/designer/files/reception.bpmn/edit")
    designer.wait_for_selector("#designer[data-ready=true]")
    designer.goto(f"{site.url}/designer")
    upload = tmp_path / "reception.bpmn"
    upload.write_bytes(hostile)
    designer.set_input_files("input[type=file][name=file]", str(upload))
    designer.get_by_role("button", name="上传").click()
    refusal = designer.locator("body").inner_text()
    assert "html:img" in refusal and "onerror" in refusal and "html:script" in refusal and "行" in refusal

    # The monthly report draws its charts under the same policy.
    bureau = site.person("county_bureau")
    bureau.goto(f"{site.url}/reports/monthly")
    bureau.locator("canvas").first.wait_for()

    assert not [text for text in site.console if "PWNED" in text], site.console
    assert not site.policy_violations()
