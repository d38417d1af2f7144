"""The process designer's pages: the library with versions and case counts, the bpmn-js editor with drafts,
checks and scenario runs, uploads and downloads, deploying, version diffs, and moving running cases.

Only the designer role (流程设计) may use them; everyone else gets 403. The editor talks JSON to the draft
endpoints; every other action is a plain form, so the pages work without JavaScript except for the diagrams.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine import Problem, ValidationFailed
from engine.catalog import version_row
from engine.drafts import (
    FILE_NAME,
    DraftConflict,
    DraftRefused,
    DraftText,
    discard_draft,
    draft_of,
    executable_processes,
    record_design_event,
    save_draft,
    unreadable,
    upload_refusals,
)
from engine.validation import MAX_FILE_BYTES
from workflows.cases.task_work import AccessDenied
from workflows.design.drafts import (
    based_on,
    check_draft,
    deploy_draft,
    describe,
    design_log,
    diff_versions,
    editor_state,
    field_names,
    lane_names,
    library_overview,
    may_design,
    migrate_cases,
    process_entry,
    run_draft_scenarios,
    running_cases,
    upload_target,
)

from .designer_wire import (
    change_marks,
    conflict_body,
    draft_text_from_json,
    problem_json,
    scenario_json,
    state_json,
    wants_json,
)
from .extensions import db, request_session, services, workflow_engine
from .headers import xml_download
from .security import current_viewer

bp = Blueprint("designer", __name__, url_prefix="/designer")
BODY_LIMIT = 4 * MAX_FILE_BYTES  # the editor sends the diagram and its forms; each is checked on its own


@bp.url_value_preprocessor
def limit_body(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Bound the request body before anything reads it (the CSRF check reads forms before our views run)."""
    request.max_content_length = BODY_LIMIT


@bp.before_request
def designers_only() -> Response | None:
    """Log in first; then only the designer role may go on."""
    viewer = current_viewer()
    if viewer is None:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if not may_design(viewer):
        raise AccessDenied("只有流程设计人员（流程设计岗位）可以查看和修改流程图")
    return None


@bp.errorhandler(413)
def too_large(_error: Exception) -> tuple[str, int]:
    """A body over the limit: say so, in the words validation uses for an oversized file."""
    return _refused("-", [Problem("-", None, None, f"上传的内容超过上限 {MAX_FILE_BYTES} 字节；未保存任何内容")], 413)


def _actor() -> str:
    viewer = current_viewer()
    assert viewer is not None
    return viewer.username


def _now() -> Any:
    return services().now(request_session())


# -- the library ------------------------------------------------------------------------------------------
@bp.get("")
def index() -> str:
    """Every process with its versions, case counts and drafts; the upload form; the design log."""
    session = request_session()
    entries, new_drafts = library_overview(session)
    return render_template("designer/index.html", entries=entries, new_drafts=new_drafts,
                           log=design_log(session, limit=20), max_bytes=MAX_FILE_BYTES)


@bp.get("/processes/<process_id>")
def process(process_id: str) -> str:
    """A process: versions, its draft, running cases per version (to move them), its design log."""
    session = request_session()
    entry = process_entry(session, process_id)
    return render_template("designer/process.html", entry=entry, cases=running_cases(session, process_id),
                           log=design_log(session, process_id))


@bp.get("/processes/<process_id>/versions/<int:number>.bpmn")
def version_file(process_id: str, number: int) -> Response:
    """The stored `.bpmn` file of a version, always as a download (bpmn-js fetches it; a browser never renders it)."""
    session = request_session()
    version = version_row(session, process_id, number)
    content = services().specs.file(session, version, version.file_name)
    if content is None:
        abort(404)
    name = f"{version.file_name.removesuffix('.bpmn')}-v{number}.bpmn"
    return xml_download(content, name)


@bp.get("/processes/<process_id>/diff")
def diff(process_id: str) -> str:
    """What changed between two versions, listed and drawn on both diagrams."""
    session = request_session()
    entry = process_entry(session, process_id)
    newest = entry.latest["version"]
    new = request.args.get("new", newest, type=int)
    old = request.args.get("old", max(new - 1, 1), type=int)
    changes = diff_versions(session, process_id, old, new)
    return render_template("designer/diff.html", entry=entry, old=old, new=new, diff=changes,
                           summary=describe(changes), marks=change_marks(changes), field_names=field_names)


@bp.post("/processes/<process_id>/migrate")
def migrate(process_id: str) -> str:
    """Move one running case (`case`) or all of them (`all`) to version `to`; list the refused with the reason."""
    number = request.form.get("to", type=int)
    if number is None:
        abort(400, description="请选择要迁移到的版本。")
    case_id = request.form.get("case", type=int)
    ids = None if request.form.get("all") else ([case_id] if case_id is not None else [])
    report = migrate_cases(workflow_engine(), process_id, number, ids, _actor())
    db.session.commit()
    entry = process_entry(request_session(), process_id)
    return render_template("designer/migrated.html", entry=entry, report=report)


# -- uploading ----------------------------------------------------------------------------------------------
@bp.post("/upload")
def upload() -> Response | tuple[str, int]:
    """Keep an uploaded `.bpmn` as a draft of its file; hostile or unrunnable files are refused, nothing kept."""
    given = request.files.get("file")
    if given is None or not given.filename:
        return _refused("-", [Problem("-", None, None, "请选择要上传的 .bpmn 文件")])
    name = given.filename.replace("\\", "/").rsplit("/", 1)[-1]
    content = given.stream.read(MAX_FILE_BYTES + 1)
    if not name.lower().endswith(".bpmn"):
        return _refused(name, [Problem(name, None, None, "只能上传 .bpmn 文件")])
    problems = upload_refusals(name, content)
    if problems:
        return _refused(name, problems)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _refused(name, [Problem(name, None, None, "文件必须是 UTF-8 编码")])
    session = request_session()
    target = upload_target(session, name, content)
    if not FILE_NAME.match(target):
        target = f"{executable_processes(content)[0]}.bpmn"
    existing = draft_of(session, target)
    if existing is not None:
        return _refused(name, [Problem(target, None, None,
                                       f"{target} 已有草稿（{existing.saved_by} 保存，第 {existing.row_version} 稿）："
                                       "请先在编辑器中处理或放弃该草稿，再上传")], status=409)
    try:
        draft = save_draft(session, DraftText(target, text, {}), None, based_on(session, target), _actor(),
                           _now())
    except DraftRefused as error:
        return _refused(name, error.problems)
    record_design_event(session, _actor(), _now(), "uploaded", draft.process_id, None, target,
                        {"uploaded_as": name, "bytes": len(content)})
    session.commit()
    found = check_draft(session, DraftText(target, text, {}))
    verdict = f"；发现 {len(found)} 个问题，已在图上标出" if found else "；检查通过"
    flash(f"已上传 {name}，保存为 {target} 的草稿{verdict}", "error" if found else "success")
    return redirect(url_for("designer.editor", file_name=target))


def _refused(name: str, problems: list[Problem], status: int = 422) -> tuple[str, int]:
    return render_template("designer/refused.html", name=name, problems=problems), status


# -- the editor and its drafts ------------------------------------------------------------------------------
@bp.get("/files/<file_name>/edit")
def editor(file_name: str) -> str:
    """The bpmn-js modeler on a draft (or on the deployed file), with Doorstep's property panel."""
    state = editor_state(request_session(), file_name)
    if state is None:
        abort(404)
    return render_template("designer/editor.html", file_name=file_name, state=state, lanes=lane_names(),
                           processes=executable_processes(state.bpmn.encode()))


@bp.get("/files/<file_name>/draft")
def draft(file_name: str) -> Response:
    """The editor's content as JSON, with the problems the checks find in it."""
    session = request_session()
    state = editor_state(session, file_name)
    if state is None:
        abort(404)
    problems = check_draft(session, DraftText(file_name, state.bpmn, state.forms))
    return jsonify(state_json(state, problems))


@bp.post("/files/<file_name>/draft")
def save(file_name: str) -> tuple[Response, int] | Response:
    """Save the editor's content as the draft and check it; 409 (with both texts) when someone saved in between."""
    body = request.get_json(silent=True)
    text, row_version, error = draft_text_from_json(file_name, body)
    if text is None:
        return jsonify({"error": {"status": 400, "message": error}}), 400
    session = request_session()
    try:
        saved = save_draft(session, text, row_version, based_on(session, file_name), _actor(), _now())
    except DraftRefused as refused:
        session.rollback()
        return jsonify({"error": {"status": 422, "message": "无法保存：文件无法安全读取",
                                  "problems": [problem_json(p, text) for p in refused.problems]}}), 422
    except DraftConflict as conflict:
        session.rollback()
        current = conflict.current or draft_of(session, file_name)
        return jsonify(conflict_body(str(conflict), text, current)), 409
    session.commit()
    problems = check_draft(session, text)
    return jsonify({"row_version": saved.row_version, "saved_by": saved.saved_by,
                    "saved_at": saved.saved_at.isoformat(), "problems": [problem_json(p, text) for p in problems]})


@bp.post("/files/<file_name>/check")
def check(file_name: str) -> tuple[Response, int] | Response:
    """Check the editor's content without saving it (the editor asks while the designer draws)."""
    text, _row_version, error = draft_text_from_json(file_name, request.get_json(silent=True))
    if text is None:
        return jsonify({"error": {"status": 400, "message": error}}), 400
    refusals = unreadable(text)
    problems = refusals or check_draft(request_session(), text)
    return jsonify({"problems": [problem_json(p, text) for p in problems]})


@bp.get("/files/<file_name>/draft.bpmn")
def draft_file(file_name: str) -> Response:
    """The draft's `.bpmn` file, to download."""
    found = draft_of(request_session(), file_name)
    if found is None:
        abort(404)
    return xml_download(found.bpmn.encode(), f"{file_name.removesuffix('.bpmn')}-draft.bpmn")


@bp.post("/files/<file_name>/discard")
def discard(file_name: str) -> Response:
    """Throw a draft away (recorded in the design log)."""
    session = request_session()
    found = draft_of(session, file_name)
    if found is None:
        abort(404)
    record_design_event(session, _actor(), _now(), "discarded", found.process_id, None, file_name,
                        {"row_version": found.row_version, "saved_by": found.saved_by})
    discard_draft(session, found)
    session.commit()
    flash(f"已放弃 {file_name} 的草稿", "info")
    return redirect(url_for("designer.index"))


@bp.post("/files/<file_name>/scenarios")
def scenarios(file_name: str) -> Response | str:
    """Run the scenarios of the draft's processes against the stored draft (or the deployed file)."""
    session = request_session()
    state = editor_state(session, file_name)
    if state is None:
        abort(404)
    text = DraftText(file_name, state.bpmn, state.forms)
    report = run_draft_scenarios(session, text, services().settings.bpmn_dir)
    if wants_json():
        return jsonify(scenario_json(report, text))
    return render_template("designer/scenarios.html", file_name=file_name, report=report)


@bp.post("/files/<file_name>/deploy")
def deploy(file_name: str) -> Response | tuple[Response, int] | tuple[str, int]:
    """Deploy the stored draft as a new version of each process it changes; running cases stay on theirs."""
    session = request_session()
    found = draft_of(session, file_name)
    if found is None:
        abort(404)
    text = DraftText(file_name, found.bpmn, dict(found.forms))
    try:
        changes = deploy_draft(session, services().specs, found, _actor(), _now())
    except ValidationFailed as failed:
        session.rollback()
        if wants_json():
            return jsonify({"error": {"status": 422, "message": "草稿未通过检查，不能部署",
                                      "problems": [problem_json(p, text) for p in failed.problems]}}), 422
        return _refused(file_name, failed.problems)
    session.commit()
    if not changes:
        message, target = f"{file_name} 与正在运行的版本相同，没有部署新版本；草稿已关闭", url_for("designer.index")
    else:
        message = "；".join(f"{c.process_id} 已部署为 v{c.version}" + (f"（{describe(c.diff)}）" if c.diff else "")
                           for c in changes)
        first = changes[0]
        target = (url_for("designer.diff", process_id=first.process_id, old=first.previous, new=first.version)
                  if first.previous else url_for("designer.process", process_id=first.process_id))
    if wants_json():
        return jsonify({"message": message, "next": target,
                        "versions": [{"process": c.process_id, "version": c.version} for c in changes]})
    flash(message, "success")
    return redirect(target)

