"""The process designer's work on the library: open a diagram as a draft, check it (validation, lint, the
scenarios), deploy it as a new version, compare versions, and move running cases onto a new version.

Everything here goes through the engine (`engine.drafts`, `engine.catalog`, `SpecStore.deploy`,
`Engine.migrate`); what this module adds is the petition domain's lanes and scenarios, and the Chinese words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import (
    Engine,
    MigrationRefused,
    Problem,
    SpecStore,
    UnknownProcess,
    ValidationFailed,
    validate_bundle,
)
from engine.catalog import library_files, version_row, version_table
from engine.drafts import (
    DesignDraft,
    DesignEvent,
    DraftText,
    discard_draft,
    executable_processes,
    record_design_event,
    referenced_forms,
    with_draft,
)
from engine.lint import lint_bundle
from engine.models import Instance, ProcessVersion
from engine.scenarios import Flow, ScenarioResult
from engine.versions import VersionDiff, diff_specs
from workflows.cases.access import Viewer
from workflows.cases.record import CaseRecord
from workflows.design.library_check import check_library
from workflows.org.roles import BY_LANE, ROLES

DESIGNER_ROLE = "designer"
KIND_NAMES = {"added": "新增", "removed": "删除", "changed": "改动"}
# What the stored spec's keys mean to a designer (engine/versions.py names the changed keys).
FIELD_NAMES = {"bpmn_name": "名称", "cond_task_specs": "分支条件", "default_task_spec": "默认流", "outputs": "流出",
               "script": "脚本", "event_definition": "事件定义（定时器、消息）", "extensions": "扩展属性（表单等）",
               "lane": "泳道", "spec": "调用的流程", "prescript": "前置脚本", "postscript": "后置脚本",
               "typename": "环节类型", "manual": "手工任务", "choice": "分支", "trigger_specs": "触发",
               "io_specification": "输入输出", "data_input_associations": "数据输入",
               "data_output_associations": "数据输出", "variable": "变量"}


def may_design(viewer: Viewer | None) -> bool:
    """Whether the person may change the process library (the 流程设计 role)."""
    return viewer is not None and viewer.has_role(DESIGNER_ROLE)


def lane_names() -> list[str]:
    """The lane names a diagram may use: the roles' Chinese names."""
    return [role.name for role in ROLES]


# -- the library as designers see it --------------------------------------------------------------------------
@dataclass
class ProcessEntry:
    """A deployed process: its versions with case counts, the file it lives in, and a draft if one is open."""

    process_id: str
    name: str
    file_name: str
    versions: list[dict[str, Any]]
    draft: DesignDraft | None = None

    @property
    def latest(self) -> dict[str, Any]:
        return self.versions[-1]


def library_overview(session: Session) -> tuple[list[ProcessEntry], list[DesignDraft]]:
    """Every deployed process with its versions and draft, and the drafts of files not deployed yet."""
    rows = version_table(session)
    latest = {v.process_id: v for v in session.scalars(select(ProcessVersion).order_by(ProcessVersion.version))}
    drafts = {d.file_name: d for d in session.scalars(select(DesignDraft).order_by(DesignDraft.file_name))}
    entries = []
    for process_id, version in sorted(latest.items()):
        entries.append(ProcessEntry(process_id, version.name or process_id, version.file_name,
                                    [r for r in rows if r["process"] == process_id], drafts.get(version.file_name)))
    deployed_files = {e.file_name for e in entries}
    return entries, [d for name, d in drafts.items() if name not in deployed_files]


def process_entry(session: Session, process_id: str) -> ProcessEntry:
    """One deployed process with its versions and draft (UnknownProcess when it was never deployed)."""
    rows = version_table(session, process_id)
    if not rows:
        raise UnknownProcess(f"no process '{process_id}' is deployed")
    newest = version_row(session, process_id, rows[-1]["version"])
    draft = session.scalar(select(DesignDraft).where(DesignDraft.file_name == newest.file_name))
    return ProcessEntry(process_id, newest.name or process_id, newest.file_name, rows, draft)


def design_log(session: Session, process_id: str | None = None, limit: int = 50) -> list[DesignEvent]:
    """The newest entries of the design log, of one process or all."""
    query = select(DesignEvent).order_by(DesignEvent.at.desc(), DesignEvent.id.desc()).limit(limit)
    if process_id:
        query = query.where(DesignEvent.process_id == process_id)
    return list(session.scalars(query))


def file_version(session: Session, file_name: str) -> ProcessVersion | None:
    """The newest deployed version of a process that lives in `file_name` (None for a file never deployed)."""
    return session.scalar(select(ProcessVersion).where(ProcessVersion.file_name == file_name)
                          .order_by(ProcessVersion.deployed_at.desc(), ProcessVersion.id.desc()).limit(1))


# -- drafts -----------------------------------------------------------------------------------------------
@dataclass
class EditorState:
    """What the editor opens: the draft (or the deployed file when there is none) and its forms."""

    file_name: str
    bpmn: str
    forms: dict[str, str]
    row_version: int | None
    based_on_version: int | None
    saved_by: str | None = None
    saved_at: datetime | None = None
    known_forms: list[str] = field(default_factory=list)


def editor_state(session: Session, file_name: str) -> EditorState | None:
    """The draft of a file, or its deployed content when no one has saved a draft (None: no such file)."""
    library = library_files(session)
    draft = session.scalar(select(DesignDraft).where(DesignDraft.file_name == file_name))
    known = sorted(name.rsplit("/", 1)[-1] for name in library if name.endswith(".json"))
    if draft is not None:
        based = session.get(ProcessVersion, draft.based_on_version_id) if draft.based_on_version_id else None
        forms = _forms_for(draft.bpmn.encode(), library, draft.forms)
        return EditorState(file_name, draft.bpmn, forms, draft.row_version, based.version if based else None,
                           draft.saved_by, draft.saved_at, sorted(set(known) | set(draft.forms)))
    if file_name not in library:
        return None
    version = file_version(session, file_name)
    content = library[file_name]
    return EditorState(file_name, content.decode("utf-8"), _forms_for(content, library, {}), None,
                       version.version if version else None, known_forms=known)


def _forms_for(content: bytes, library: dict[str, bytes], edited: dict[str, str]) -> dict[str, str]:
    by_base = {name.rsplit("/", 1)[-1]: data for name, data in library.items() if name.endswith(".json")}
    forms = {name: by_base[name].decode("utf-8") for name in referenced_forms(content) if name in by_base}
    return {**forms, **edited}


def based_on(session: Session, file_name: str) -> int | None:
    """The id of the deployed version a new draft of `file_name` starts from."""
    version = file_version(session, file_name)
    return version.id if version else None


def check_draft(session: Session, text: DraftText) -> list[Problem]:
    """Validation (as `doorstep bpmn validate`) of the library with the draft in place, plus lint of the draft."""
    files = with_draft(library_files(session), text)
    problems = list(validate_bundle(files, set(BY_LANE)).problems)
    return problems + lint_bundle({text.file_name: files[text.file_name]})


def upload_target(session: Session, upload_name: str, content: bytes) -> str:
    """The library file an uploaded diagram replaces: the file of a process it defines, else its own name."""
    for process_id in executable_processes(content):
        version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id).limit(1))
        if version is not None:
            return version.file_name
    return upload_name


# -- scenarios --------------------------------------------------------------------------------------------
@dataclass
class ScenarioReport:
    """How the scenarios of a draft's processes went, and which flows none of them takes."""

    processes: list[str]
    results: list[ScenarioResult] = field(default_factory=list)
    untaken: list[Flow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the draft could not be deployed to run them

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.results) and all(r.passed for r in self.results) \
            and not self.untaken


def run_draft_scenarios(session: Session, text: DraftText, bpmn_dir: Path) -> ScenarioReport:
    """Run the YAML scenarios of the draft's processes against the draft (with the rest of the library as
    deployed), in a scratch database."""
    processes = executable_processes(text.bpmn.encode())
    report = ScenarioReport(processes)
    files = with_draft(library_files(session), text)
    for process_id in processes:
        try:
            found = check_library(bpmn_dir, only=process_id, overrides=files)
        except ValidationFailed as error:
            report.problems = error.problems
            return report
        report.results += found.results
        report.untaken += found.untaken
    return report


# -- deploying --------------------------------------------------------------------------------------------
@dataclass
class DeployedChange:
    """One process that got a new version from a deployment, and what changed from the version before."""

    process_id: str
    version: int
    previous: int | None
    diff: VersionDiff | None


def deploy_draft(session: Session, specs: SpecStore, draft: DesignDraft, actor: str, now: datetime,
                 ) -> list[DeployedChange]:
    """Deploy the library with the draft in place; each changed process gets a new version (recorded in the
    design log with its diff), running cases stay on theirs, and the draft is closed. Raises ValidationFailed."""
    text = DraftText(draft.file_name, draft.bpmn, dict(draft.forms))
    files = with_draft(library_files(session), text)
    before = {v.process_id: v for v in session.scalars(select(ProcessVersion).order_by(ProcessVersion.version))}
    deployed = specs.deploy(session, files, actor, now, set(BY_LANE))
    changes = []
    for item in deployed:
        if not item.created:
            continue
        new = version_row(session, item.process_id, item.version)
        old = before.get(item.process_id)
        diff = diff_specs(old.spec, new.spec) if old is not None else None
        changes.append(DeployedChange(item.process_id, item.version, old.version if old else None, diff))
        record_design_event(session, actor, now, "deployed", item.process_id, item.version, new.file_name, {
            "from_version": old.version if old else None,
            "counts": diff.summary() if diff else {"added": 0, "removed": 0, "changed": 0},
            "changes": [str(c) for c in diff.changes] if diff else [],
        })
    discard_draft(session, draft)
    return changes


def diff_versions(session: Session, process_id: str, old: int, new: int) -> VersionDiff:
    """What changed from version `old` to version `new` of a process."""
    return diff_specs(version_row(session, process_id, old).spec, version_row(session, process_id, new).spec)


def field_names(fields: tuple[str, ...]) -> str:
    """The changed keys of an element, in the designer's words."""
    return "、".join(FIELD_NAMES.get(name, name) for name in fields)


def describe(diff: VersionDiff) -> str:
    """A one-line Chinese summary of a diff."""
    counts = diff.summary()
    return "、".join(f"{KIND_NAMES[k]} {n} 个环节" for k, n in counts.items() if n) or "没有环节变化"


# -- moving running cases ---------------------------------------------------------------------------------
@dataclass
class RunningCase:
    """A case that is not finished, on the version it runs."""

    instance_id: int
    case_number: str | None
    version: int
    status: str
    started_at: datetime


def running_cases(session: Session, process_id: str) -> list[RunningCase]:
    """The unfinished cases of a process, oldest first, with their version numbers."""
    rows = session.execute(select(Instance, ProcessVersion.version, CaseRecord.case_number)
                           .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
                           .outerjoin(CaseRecord, CaseRecord.instance_id == Instance.id)
                           .where(Instance.process_id == process_id, Instance.status != "completed")
                           .order_by(Instance.id)).all()
    return [RunningCase(i.id, number, version, i.status, i.started_at) for i, version, number in rows]


@dataclass
class MigrationReport:
    """Which cases moved to the new version, and which were refused and why."""

    target: int
    moved: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def migrate_cases(engine: Engine, process_id: str, number: int, case_ids: list[int] | None, actor: str,
                  ) -> MigrationReport:
    """Move the given cases (None: every unfinished case of the process) to version `number` where that is safe.

    `Engine.migrate` checks each case before it changes anything, so a refusal leaves that case as it was and
    the others move; each move is a `migrated` event on its case.
    """
    target = version_row(engine.session, process_id, number)
    ids = case_ids if case_ids is not None else [c.instance_id for c in running_cases(engine.session, process_id)
                                                 if c.version != number]
    report = MigrationReport(number)
    for case_id in ids:
        instance = engine.session.get(Instance, case_id)
        if instance is None or instance.process_id != process_id:
            report.refused.append((case_id, f"案件 {case_id} 不是流程 {process_id} 的案件"))
            continue
        try:
            engine.migrate(case_id, target.id, actor)
        except MigrationRefused as error:
            report.refused.append((case_id, refusal_in_chinese(str(error))))
            continue
        report.moved.append(case_id)
    return report


_REFUSALS = (
    (re.compile(r"case (\d+) cannot move to v(\d+): it ran or is running elements that changed: (.*)"),
     lambda m: f"案件 {m[1]} 不能迁移到 v{m[2]}：它已执行或正在执行的环节在新版本中有变化（{_elements(m[3])}）"),
    (re.compile(r"case (\d+) is completed; only running cases move"),
     lambda m: f"案件 {m[1]} 已办结；只有办理中的案件可以迁移"),
    (re.compile(r"case (\d+) already runs version (\d+)"), lambda m: f"案件 {m[1]} 已在 v{m[2]} 上运行"),
)


def refusal_in_chinese(reason: str) -> str:
    """The engine's reason for refusing a move, in the designer's words (unknown reasons as they are)."""
    for pattern, words in _REFUSALS:
        match = pattern.fullmatch(reason)
        if match:
            return words(match)
    return reason


def _elements(listing: str) -> str:
    parts = [item.rsplit(": ", 1) for item in listing.split("; ")]
    return "、".join(f"{p[0]} {KIND_NAMES.get(p[1], p[1])}" if len(p) == 2 else p[0] for p in parts)
