"""The process designer's pages: the library, drafts with optimistic locking, checks, hostile uploads, scenario
runs, deployment, diffs and moving running cases — and that only the designer role may use them."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from doorstep.config import PROJECT_DIR
from engine.drafts import DesignDraft, DesignEvent
from engine.lint import lint_bundle
from engine.models import Event, Instance, ProcessVersion, StoredFile
from engine.validation import MAX_FILE_BYTES

from .pages import text_of as page_text


def text_of(response: Any) -> str:
    """The visible text of a page, entities decoded."""
    return html.unescape(page_text(response))

RECEPTION = (PROJECT_DIR / "bpmn" / "reception.bpmn").read_text(encoding="utf-8")
MIWG = PROJECT_DIR.parent / "shared" / "external" / "bpmn-miwg"
ANSWER = 'disposition == "answer"'
COORDINATE = 'disposition == "coordinate"'
OVERLAPPING = RECEPTION.replace(COORDINATE, 'disposition in ("answer", "coordinate")')
WIDER = RECEPTION.replace(COORDINATE, 'disposition in ("coordinate", "mediate")')
BROKEN = RECEPTION.replace(ANSWER, 'disposition == "answered"')
EDITOR = "/designer/files/reception.bpmn"


class Designer:
    """A designer's browser that speaks the editor's JSON."""

    def __init__(self, browser: Any, username: str = "designer1"):
        self.browser = browser(username)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.browser.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.browser.post(url, data, **kwargs)

    def json(self, url: str, body: Any) -> Any:
        return self.browser.client.post(url, json=body, headers={"X-CSRF-Token": self.browser.token,
                                                                 "Accept": "application/json"})

    def save(self, bpmn: str, row_version: int | None = None, forms: dict[str, str] | None = None) -> Any:
        return self.json(f"{EDITOR}/draft", {"bpmn": bpmn, "forms": forms or {}, "row_version": row_version})

    def upload(self, name: str, content: bytes) -> Any:
        # Encoded here, in memory: the test client would spool a large body to a file it never closes.
        boundary, body = encode_multipart({"csrf_token": self.browser.token,
                                           "file": FileStorage(io.BytesIO(content), name)})
        return self.browser.client.post("/designer/upload", data=body,
                                        content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def designer(browser: Any) -> Designer:
    return Designer(browser)


def count(services: Any, model: Any) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def versions(services: Any, process_id: str = "reception") -> list[int]:
    with services.unit_of_work() as session:
        return list(session.scalars(select(ProcessVersion.version).where(ProcessVersion.process_id == process_id)
                                    .order_by(ProcessVersion.version)))


# -- the library ------------------------------------------------------------------------------------------
def test_the_designer_page_lists_every_process_with_versions_hashes_and_case_counts(designer, desk, services):
    desk.visit()
    page = designer.get("/designer")
    assert page.status_code == 200
    with services.unit_of_work() as session:
        reception = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == "reception"))
        processes = set(session.scalars(select(ProcessVersion.process_id)))
    text = text_of(page)
    for process_id in processes:
        assert process_id in text
    assert reception.spec_hash[:12] in page.text and "v1" in text
    row = page.text.split('id="process-reception"')[1].split("</tr>")[0]
    assert "<td>1</td><td>0</td>" in row  # one running case on v1, none finished
    assert "流程设计" in text and "上传流程图" in text


@pytest.mark.parametrize("username", ["t01.cadre", "auditor1", "bureau1"])
def test_everyone_but_designers_is_refused(browser, services, username):
    other = Designer(browser, username)
    assert other.get("/designer").status_code == 403
    assert other.get(f"{EDITOR}/edit").status_code == 403
    assert other.save(WIDER).status_code == 403
    assert other.upload("reception.bpmn", WIDER.encode()).status_code == 403
    assert other.post(f"{EDITOR}/deploy").status_code == 403
    assert other.post("/designer/processes/reception/migrate", {"to": 1, "all": 1}).status_code == 403
    assert count(services, DesignDraft) == 0 and versions(services) == [1]


def test_people_who_are_not_logged_in_are_sent_to_the_login_page(client):
    answer = client.get("/designer")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_nav_shows_the_designer_page_to_designers_only(designer, browser):
    assert "/designer" in designer.get("/tasks").text
    assert 'href="/designer"' not in browser("t01.cadre").get("/tasks").text


# -- the editor and drafts ------------------------------------------------------------------------------------
def test_the_editor_loads_the_modeler_from_npm_and_the_deployed_diagram(designer):
    page = designer.get(f"{EDITOR}/edit")
    assert page.status_code == 200
    assert "/vendor/bpmn-js/bpmn-modeler.production.min.js" in page.text and "designer.js" in page.text
    roles = json.loads(html.unescape(re.search(r'data-roles="([^"]*)"', page.text)[1]))
    assert "坐班村支书" in roles and "乡镇信访干部" in roles  # the lane names offered in the panel
    with designer.get("/vendor/bpmn-js/bpmn-modeler.production.min.js") as script:
        assert script.status_code == 200
    state = designer.get(f"{EDITOR}/draft").get_json()
    assert state["bpmn"] == RECEPTION and state["row_version"] is None and state["based_on_version"] == 1
    assert set(state["forms"]) == {"reception-register.json", "reception-hear.json", "reception-answer.json",
                                   "reception-coordinate.json"}
    assert state["problems"] == []
    assert designer.get("/designer/files/nothing.bpmn/edit").status_code == 404


def test_saving_a_draft_returns_validation_and_lint_problems_by_element_in_the_cli_words(designer, services):
    answer = designer.save(OVERLAPPING)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["row_version"] == 1
    expected = [str(p) for p in lint_bundle({"reception.bpmn": OVERLAPPING.encode()})]
    assert [p["text"] for p in body["problems"]] == expected  # the same text as `doorstep bpmn lint`
    [overlap] = body["problems"]
    assert overlap["element"] == "disposition_gateway" and overlap["here"]
    assert "分支条件可能同时成立" in overlap["message"]
    with services.unit_of_work() as session:
        draft = session.scalar(select(DesignDraft))
        assert draft.bpmn == OVERLAPPING and draft.saved_by == "designer1" and draft.process_id == "reception"


def test_validation_problems_name_the_element_and_forms_are_saved_with_the_draft(designer):
    missing = RECEPTION.replace('value="reception-hear.json"', 'value="reception-hear2.json"')
    problems = designer.save(missing).get_json()["problems"]
    assert [(p["element"], p["message"]) for p in problems] == [("hear_claim",
                                                                 "表单文件 'reception-hear2.json' 不存在")]
    schema = '{"type": "object", "title": "接谈研判", "properties": {}}'
    fixed = designer.save(missing, 1, {"reception-hear2.json": schema}).get_json()
    assert fixed["problems"] == [] and fixed["row_version"] == 2
    state = designer.get(f"{EDITOR}/draft").get_json()
    assert state["forms"]["reception-hear2.json"] == schema and state["row_version"] == 2
    broken = designer.save(missing, 2, {"reception-hear2.json": "{not json"}).get_json()["problems"]
    assert broken[0]["element"] == "hear_claim" and broken[0]["message"].startswith("表单不是有效的 JSON")


def test_checking_without_saving_stores_nothing(designer, services):
    answer = designer.json(f"{EDITOR}/check", {"bpmn": OVERLAPPING, "forms": {}})
    assert answer.status_code == 200 and answer.get_json()["problems"][0]["element"] == "disposition_gateway"
    assert count(services, DesignDraft) == 0


def test_a_second_designer_saving_the_same_draft_is_told_and_loses_nothing(browser, services):
    first, second = Designer(browser), Designer(browser)  # both opened the deployed v1 (row version none)
    assert first.save(WIDER).status_code == 200
    mine = RECEPTION.replace("接谈研判", "接谈并研判")
    conflict = second.save(mine)
    assert conflict.status_code == 409
    body = conflict.get_json()
    assert "已被 designer1 修改" in body["error"]["message"] and "没有丢失" in body["error"]["message"]
    assert body["yours"]["bpmn"] == mine  # their own text comes back to merge
    assert body["theirs"]["bpmn"] == WIDER and body["theirs"]["row_version"] == 1
    with services.unit_of_work() as session:
        assert session.scalar(select(DesignDraft)).bpmn == WIDER  # the first save is intact
    stale = second.save(mine, 0)
    assert stale.status_code == 409
    merged = second.save(mine.replace(COORDINATE, 'disposition in ("coordinate", "mediate")'), 1)
    assert merged.status_code == 200 and merged.get_json()["row_version"] == 2


def test_saving_after_the_draft_was_deployed_is_a_conflict_too(designer):
    assert designer.save(WIDER).status_code == 200
    assert designer.post(f"{EDITOR}/deploy").status_code == 302
    late = designer.save(WIDER, 1)
    assert late.status_code == 409 and late.get_json()["theirs"] is None
    assert late.get_json()["yours"]["bpmn"] == WIDER


@pytest.mark.parametrize("body", [None, {"bpmn": 3}, {"bpmn": RECEPTION, "forms": {"a.json": 1}},
                                  {"bpmn": RECEPTION, "row_version": "1"}])
def test_a_malformed_save_request_is_refused(designer, services, body):
    assert designer.json(f"{EDITOR}/draft", body).status_code == 400
    assert count(services, DesignDraft) == 0


def test_saving_without_the_csrf_token_is_refused(designer, services):
    answer = designer.browser.client.post(f"{EDITOR}/draft", json={"bpmn": WIDER, "forms": {}})
    assert answer.status_code == 400 and count(services, DesignDraft) == 0


def test_a_bad_form_name_is_refused(designer, services):
    answer = designer.save(WIDER, None, {"../../etc/passwd.json": "{}"})
    assert answer.status_code == 422 and count(services, DesignDraft) == 0


# -- hostile and broken files ---------------------------------------------------------------------------------
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>"""
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""
SCRIPT = "registered_at = now()"
HOSTILE = {
    "xxe": (XXE, "DOCTYPE"),
    "bomb": (BOMB, "DOCTYPE"),
    "malformed": (RECEPTION[:2000].encode(), "不是格式正确的 XML"),
    "not bpmn": (b"<html><body>hello</body></html>", "不是 BPMN 2.0 文件"),
    "oversize": (RECEPTION.encode() + b"<!--" + b" " * MAX_FILE_BYTES + b"-->", "超过上限"),
    "import": (RECEPTION.replace(SCRIPT, "import os\nregistered_at = os.getcwd()").encode(), "不允许 import"),
    "open": (RECEPTION.replace(SCRIPT, "registered_at = open('/etc/passwd').read()").encode(), "不能打开文件"),
    "dunder": (RECEPTION.replace(SCRIPT, "registered_at = ().__class__.__bases__").encode(), "以 \"_\" 开头"),
    "dunder condition": (RECEPTION.replace(ANSWER, "disposition.__class__ == 1").encode(), "以 \"_\" 开头"),
    "timer": (RECEPTION.replace("end_of_workday(registered_at)", "__import__('os')").encode(), "不能导入模块"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_or_broken_uploads_are_refused_with_the_reason_and_nothing_is_stored(designer, services, kind):
    content, reason = HOSTILE[kind]
    files_before = count(services, StoredFile)
    answer = designer.upload("reception.bpmn", content)
    assert answer.status_code in (413, 422)
    assert reason in text_of(answer) and "未保存任何内容" in text_of(answer)
    assert count(services, DesignDraft) == 0 and count(services, StoredFile) == files_before
    assert count(services, DesignEvent) == 0


@pytest.mark.parametrize("kind", ["xxe", "bomb", "malformed", "not bpmn", "oversize"])
def test_hostile_text_cannot_be_saved_as_a_draft_either(designer, services, kind):
    content, reason = HOSTILE[kind]
    answer = designer.save(content.decode("utf-8"))
    assert answer.status_code in (413, 422)
    if answer.status_code == 422:
        assert reason in answer.get_json()["error"]["problems"][0]["message"]
    assert count(services, DesignDraft) == 0


def test_uploads_that_are_not_bpmn_files_are_refused(designer, services):
    assert "只能上传 .bpmn 文件" in text_of(designer.upload("notes.txt", b"hello"))
    assert "请选择" in designer.browser.post("/designer/upload").text
    assert count(services, DesignDraft) == 0


def test_a_body_over_the_request_limit_is_refused_with_a_clear_message(designer, services):
    answer = designer.upload("big.bpmn", b" " * (4 * MAX_FILE_BYTES + 10))
    assert answer.status_code == 413 and "超过上限" in text_of(answer)
    assert count(services, DesignDraft) == 0


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"the BPMN MIWG reference files are not at {MIWG}")
@pytest.mark.parametrize("name", sorted(p.name for p in MIWG.glob("*.bpmn")) if MIWG.is_dir() else [])
def test_miwg_reference_files_are_answered_with_what_doorstep_cannot_run(designer, services, name):
    answer = designer.upload(name, (MIWG / name).read_bytes())
    assert answer.status_code in (302, 422), answer.text[:500]
    if answer.status_code == 422:
        text = text_of(answer)
        assert "Doorstep 不能运行此文件" in text and "Traceback" not in text
        assert count(services, DesignDraft) == 0
    else:  # an executable process: kept as a draft, its problems shown in the editor
        follow = designer.get(answer.headers["Location"])
        assert follow.status_code == 200
        with services.unit_of_work() as session:
            draft = session.scalar(select(DesignDraft))
        state = designer.get(f"/designer/files/{draft.file_name}/draft").get_json()
        assert state["problems"], "an MIWG diagram runs as it is? then it should deploy"


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"the BPMN MIWG reference files are not at {MIWG}")
def test_a_non_executable_reference_file_lists_its_processes(designer):
    text = text_of(designer.upload("A.1.0.bpmn", (MIWG / "A.1.0.bpmn").read_bytes()))
    assert "没有可执行流程" in text and "未标记为可执行" in text


def test_a_diagram_from_another_modeler_becomes_the_draft_of_its_process(designer, services):
    answer = designer.upload("reception (camunda).bpmn", WIDER.encode())
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"{EDITOR}/edit")
    with services.unit_of_work() as session:
        draft = session.scalar(select(DesignDraft))
        event = session.scalar(select(DesignEvent))
    assert draft.file_name == "reception.bpmn" and draft.bpmn == WIDER
    assert event.action == "uploaded" and event.actor == "designer1" and event.process_id == "reception"
    again = designer.upload("reception.bpmn", RECEPTION.encode())
    assert again.status_code == 409 and "已有草稿" in text_of(again)


def test_a_new_process_can_be_uploaded_and_is_listed_as_a_new_draft(designer, services):
    new = RECEPTION.replace('id="reception"', 'id="reception_trial"').replace('processRef="reception"',
                                                                             'processRef="reception_trial"')
    answer = designer.upload("reception_trial.bpmn", new.encode())
    assert answer.status_code == 302
    assert "reception_trial.bpmn" in designer.get("/designer").text
    assert designer.get("/designer/files/reception_trial.bpmn/draft").get_json()["problems"] == []


# -- downloads ---------------------------------------------------------------------------------------------
def test_any_version_and_the_draft_can_be_downloaded(designer):
    version = designer.get("/designer/processes/reception/versions/1.bpmn?download=1")
    assert version.status_code == 200 and version.data == RECEPTION.encode()
    assert "attachment" in version.headers["Content-Disposition"] and "reception-v1.bpmn" in \
        version.headers["Content-Disposition"]
    assert designer.get("/designer/processes/reception/versions/9.bpmn").status_code == 404
    assert designer.get(f"{EDITOR}/draft.bpmn").status_code == 404
    designer.save(WIDER)
    draft = designer.get(f"{EDITOR}/draft.bpmn")
    assert draft.status_code == 200 and draft.data == WIDER.encode() and "attachment" in \
        draft.headers["Content-Disposition"]


# -- scenarios ---------------------------------------------------------------------------------------------
def test_the_scenarios_pass_on_a_good_draft(designer):
    designer.save(WIDER)
    report = designer.json(f"{EDITOR}/scenarios", {}).get_json()
    assert report["processes"] == ["reception"] and report["problems"] == []
    assert len(report["scenarios"]) >= 4 and all(s["passed"] for s in report["scenarios"])
    assert report["untaken"] == [] and report["ok"]


def test_a_broken_draft_makes_a_scenario_fail_with_the_step_and_the_flows_it_leaves_untaken(designer):
    designer.save(BROKEN)
    report = designer.json(f"{EDITOR}/scenarios", {}).get_json()
    failed = [s for s in report["scenarios"] if not s["passed"]]
    assert [s["name"] for s in failed] == ["当场答复"]
    assert failed[0]["step"] == 3 and "record_answer" in failed[0]["message"]
    assert [f["id"] for f in report["untaken"]] == ["flow_answer", "flow_answer_recorded"]
    assert not report["ok"]
    page = designer.post(f"{EDITOR}/scenarios")  # the same as a page, without JavaScript
    assert page.status_code == 200 and "失败" in text_of(page) and "flow_answer" in page.text


def test_a_draft_that_cannot_deploy_reports_its_problems_instead_of_running(designer):
    designer.save(RECEPTION.replace('name="坐班村支书"', 'name="门卫"'))
    report = designer.json(f"{EDITOR}/scenarios", {}).get_json()
    assert report["scenarios"] == [] and "门卫" in report["problems"][0]["message"]


# -- deploying, diffs, moving cases -----------------------------------------------------------------------------
def test_deploying_a_draft_makes_version_two_records_the_event_and_leaves_running_cases(designer, desk, services):
    case_id = desk.visit()
    designer.save(WIDER)
    answer = designer.post(f"{EDITOR}/deploy")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/designer/processes/reception/diff?old=1&new=2")
    assert versions(services) == [1, 2]
    with services.unit_of_work() as session:
        event = session.scalar(select(DesignEvent).where(DesignEvent.action == "deployed"))
        instance = session.get(Instance, case_id)
        on = session.get(ProcessVersion, instance.process_version_id).version
    assert (event.actor, event.process_id, event.version, event.file_name) == ("designer1", "reception", 2,
                                                                               "reception.bpmn")
    assert event.summary["from_version"] == 1 and event.summary["counts"] == {"added": 0, "removed": 0, "changed": 1}
    assert event.summary["changes"] == ["changed disposition_gateway 如何处理？ (cond_task_specs)"]
    assert on == 1  # the running case stays on its version
    assert count(services, DesignDraft) == 0
    assert "部署新版本" in text_of(designer.get("/designer"))
    new_case = desk.visit()
    with services.unit_of_work() as session:
        assert session.get(ProcessVersion, session.get(Instance, new_case).process_version_id).version == 2


def test_deploying_is_for_designers_only(browser, designer, services):
    designer.save(WIDER)
    for username in ("t01.cadre", "bureau1", "auditor1"):
        assert Designer(browser, username).post(f"{EDITOR}/deploy").status_code == 403
    assert versions(services) == [1] and count(services, DesignEvent) == 0


def test_a_draft_with_problems_is_not_deployed(designer, services):
    designer.save(RECEPTION.replace('value="reception-hear.json"', 'value="nowhere.json"'))
    answer = designer.post(f"{EDITOR}/deploy")
    assert answer.status_code == 422 and "nowhere.json" in text_of(answer)
    assert versions(services) == [1] and count(services, DesignDraft) == 1
    json_answer = designer.json(f"{EDITOR}/deploy", {})
    assert json_answer.status_code == 422 and json_answer.get_json()["error"]["problems"][0]["element"] == "hear_claim"


def test_an_unchanged_draft_deploys_nothing(designer, services):
    designer.save(RECEPTION)
    answer = designer.json(f"{EDITOR}/deploy", {})
    assert answer.status_code == 200 and answer.get_json()["versions"] == []
    assert versions(services) == [1] and count(services, DesignDraft) == 0


def test_the_diff_lists_and_marks_what_changed(designer):
    designer.save(WIDER)
    designer.post(f"{EDITOR}/deploy")
    page = designer.get("/designer/processes/reception/diff?old=1&new=2")
    assert page.status_code == 200
    text = text_of(page)
    assert "disposition_gateway" in text and "改动" in text and "改动 1 个环节" in text
    assert "designer_diff.js" in page.text and "bpmn-navigated-viewer" in page.text
    assert "&#34;new&#34;: {&#34;disposition_gateway&#34;: &#34;changed&#34;}" in page.text
    assert "/designer/processes/reception/versions/1.bpmn" in page.text
    assert designer.get("/designer/processes/reception/diff?old=1&new=7").status_code == 404


def test_added_and_removed_elements_are_listed_for_both_diagrams(designer):
    task = '<bpmn:userTask id="hear_claim" name="接谈研判">'
    flow = '<bpmn:sequenceFlow id="flow_stamped" sourceRef="stamp_registration" targetRef="{}" />'
    extra = RECEPTION.replace(flow.format("hear_claim"), flow.format("note_visit") +
                              '<bpmn:sequenceFlow id="flow_noted" sourceRef="note_visit" targetRef="hear_claim" />')
    extra = extra.replace(task, '<bpmn:scriptTask id="note_visit" name="记录来访" scriptFormat="python">'
                                '<bpmn:incoming>flow_stamped</bpmn:incoming><bpmn:outgoing>flow_noted</bpmn:outgoing>'
                                '<bpmn:script>noted = True</bpmn:script></bpmn:scriptTask>' + task)
    assert designer.save(extra).get_json()["problems"] == []
    designer.post(f"{EDITOR}/deploy")
    page = designer.get("/designer/processes/reception/diff?old=1&new=2")
    assert "note_visit" in page.text and "新增" in text_of(page)
    back = designer.get("/designer/processes/reception/diff?old=2&new=1")
    assert "&#34;old&#34;: {" in back.text and "&#34;note_visit&#34;: &#34;removed&#34;" in back.text


def test_running_cases_move_one_or_all_where_safe_and_the_unsafe_are_refused_with_the_reason(designer, desk,
                                                                                              services):
    waiting = desk.visit()  # at 接谈研判: the gateway that changes has not run yet
    later = desk.visit()
    past = desk.visit()
    desk.complete(past, "hear_claim", {"disposition": "coordinate", "note": "当场协调"}, "t01.cadre")
    designer.save(WIDER)
    designer.post(f"{EDITOR}/deploy")
    process_page = designer.get("/designer/processes/reception")
    assert "迁到 v2" in process_page.text and "把全部能迁移的案件迁到 v2" in process_page.text

    one = designer.post("/designer/processes/reception/migrate", {"to": 2, "case": waiting})
    assert one.status_code == 200 and f"案件 {waiting}：已迁到 v2" in text_of(one)
    every = designer.post("/designer/processes/reception/migrate", {"to": 2, "all": 1})
    text = text_of(every)
    assert f"案件 {later}：已迁到 v2" in text
    assert f"案件 {past} 不能迁移到 v2" in text and "disposition_gateway 改动" in text
    with services.unit_of_work() as session:
        on = {i.id: session.get(ProcessVersion, i.process_version_id).version
              for i in session.scalars(select(Instance))}
        moves = session.execute(select(Event.instance_id, Event.actor, Event.data)
                                .where(Event.type == "migrated")).all()
    assert on == {waiting: 2, later: 2, past: 1}
    assert sorted((m.instance_id, m.actor) for m in moves) == [(waiting, "designer1"), (later, "designer1")]
    assert all(m.data["from_version"] == 1 and m.data["to_version"] == 2 for m in moves)
    # the moved case goes on on the new version
    desk.complete(waiting, "hear_claim", {"disposition": "mediate", "note": "调解"}, "t01.cadre")
    assert desk.open_elements(waiting) == ["coordinate_on_spot"]


def test_a_case_of_another_process_or_unknown_is_refused(designer, desk):
    designer.save(WIDER)
    designer.post(f"{EDITOR}/deploy")
    petition = desk.petition()
    answer = designer.post("/designer/processes/reception/migrate", {"to": 2, "case": petition})
    assert "不是流程 reception 的案件" in text_of(answer)
    assert designer.post("/designer/processes/reception/migrate", {"to": 2, "case": 999}).status_code == 200
    assert designer.post("/designer/processes/reception/migrate", {"to": 9, "all": 1}).status_code == 404
    assert designer.post("/designer/processes/reception/migrate", {}).status_code == 400


def test_a_draft_can_be_discarded(designer, services):
    designer.save(WIDER)
    answer = designer.post(f"{EDITOR}/discard")
    assert answer.status_code == 302 and count(services, DesignDraft) == 0
    with services.unit_of_work() as session:
        assert session.scalar(select(DesignEvent.action)) == "discarded"


def test_the_process_page_shows_versions_cases_and_the_design_log(designer, desk):
    desk.visit()
    designer.save(WIDER)
    page = designer.get("/designer/processes/reception")
    assert page.status_code == 200
    text = text_of(page)
    assert "v1" in text and "办理中的案件" in text and "designer1" in text and "运行场景测试" in text
    assert designer.get("/designer/processes/nothing").status_code == 404


def test_the_migrations_keep_the_design_tables(services):
    assert Path(PROJECT_DIR / "doorstep" / "migrations" / "versions" / "0005_design_drafts_and_events.py").is_file()
    assert count(services, DesignDraft) == 0 and count(services, DesignEvent) == 0
