"""The JSON shapes the designer's editor sends and receives (drafts, problems, conflicts, scenario runs)."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from engine import Problem
from engine.drafts import DesignDraft, DraftText
from engine.versions import VersionDiff
from workflows.design.drafts import EditorState, ScenarioReport


def wants_json() -> bool:
    """Whether the caller is the editor's script (it asks for JSON) rather than a plain form."""
    return request.accept_mimetypes.best == "application/json" or request.is_json


def problem_json(problem: Problem, text: DraftText) -> dict[str, Any]:
    """A problem as the editor draws it: on its element when it belongs to this diagram or its forms."""
    here = problem.file == text.file_name or problem.file in text.forms or \
        any(problem.file.endswith(f"/{name}") for name in text.forms)
    return {"file": problem.file, "line": problem.line, "element": problem.element, "message": problem.message,
            "text": str(problem), "here": here}


def state_json(state: EditorState, problems: list[Problem]) -> dict[str, Any]:
    """The editor's content: the diagram, its forms, the row version it was loaded at, and its problems."""
    text = DraftText(state.file_name, state.bpmn, state.forms)
    return {"file_name": state.file_name, "bpmn": state.bpmn, "forms": state.forms,
            "row_version": state.row_version, "based_on_version": state.based_on_version,
            "saved_by": state.saved_by, "saved_at": state.saved_at.isoformat() if state.saved_at else None,
            "known_forms": state.known_forms, "problems": [problem_json(p, text) for p in problems]}


def draft_text_from_json(file_name: str, body: Any) -> tuple[DraftText | None, int | None, str]:
    """Read `{"bpmn": ..., "forms": {...}, "row_version": n|null}`; on a bad shape, (None, None, why)."""
    if not isinstance(body, dict):
        return None, None, "请求必须是 JSON 对象"
    bpmn, forms, row_version = body.get("bpmn"), body.get("forms") or {}, body.get("row_version")
    if not isinstance(bpmn, str) or not bpmn.strip():
        return None, None, "缺少流程图（bpmn）"
    if not isinstance(forms, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in forms.items()):
        return None, None, "表单（forms）必须是“文件名 → JSON 文本”的对象"
    if row_version is not None and (not isinstance(row_version, int) or isinstance(row_version, bool)):
        return None, None, "row_version 必须是整数或 null"
    return DraftText(file_name, bpmn, dict(forms)), row_version, ""


def conflict_body(message: str, yours: DraftText, theirs: DesignDraft | None) -> dict[str, Any]:
    """A 409 answer: what the other designer saved, and the caller's own text back, so neither is lost."""
    return {"error": {"status": 409, "message": message},
            "yours": {"bpmn": yours.bpmn, "forms": yours.forms},
            "theirs": None if theirs is None else {
                "bpmn": theirs.bpmn, "forms": theirs.forms, "row_version": theirs.row_version,
                "saved_by": theirs.saved_by, "saved_at": theirs.saved_at.isoformat()}}


def scenario_json(report: ScenarioReport, text: DraftText) -> dict[str, Any]:
    """The scenario results: pass or fail with the step and message, and the flows no scenario takes."""
    return {"ok": report.ok, "processes": report.processes,
            "problems": [problem_json(p, text) for p in report.problems],
            "scenarios": [{"file": r.scenario.file, "name": r.scenario.name, "passed": r.passed, "step": r.step,
                           "message": r.message} for r in report.results],
            "untaken": [{"id": f.id, "name": f.name, "process": f.process, "source": f.source, "target": f.target}
                        for f in report.untaken]}


def change_marks(diff: VersionDiff) -> str:
    """Marks for the two diagrams of a diff: added and changed on the new one, removed and changed on the old."""
    new = {c.element: c.kind for c in diff.changes if c.kind != "removed" and "/" not in c.element}
    old = {c.element: c.kind for c in diff.changes if c.kind != "added" and "/" not in c.element}
    return json.dumps({"new": new, "old": old}, ensure_ascii=False)
