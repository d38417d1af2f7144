"""Drafts of diagrams being edited, and the design log: what designers saved and deployed, by whom, when.

A draft is one `.bpmn` file (with the forms edited beside it) that is not running yet. It carries a row
version: saving with an older row version than the stored one means someone else saved in between, and the
save is refused with `DraftConflict` (which carries the stored draft) so that nothing either person wrote is lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from SpiffWorkflow.spiff.parser.process import VALIDATOR
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from .db import Base
from .errors import EngineError, Problem
from .sandbox import check_source
from .validation import NS, parse_safely, schema_message

MAX_FORMS = 100
FORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.json$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.bpmn$")
_CODE = (("bpmn:sequenceFlow/bpmn:conditionExpression", "eval"), ("bpmn:scriptTask/bpmn:script", "exec"),
         *((f"bpmn:timerEventDefinition/bpmn:{kind}", "eval") for kind in ("timeDate", "timeDuration", "timeCycle")))


class DesignDraft(Base):
    """A diagram file being edited, with the forms edited beside it; one draft per file."""

    __tablename__ = "design_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255), unique=True)
    process_id: Mapped[str | None] = mapped_column(String(255), index=True)
    bpmn: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, Any]]  # form file name → JSON Schema text
    based_on_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    saved_by: Mapped[str] = mapped_column(String(120))
    saved_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": row_version}


class DesignEvent(Base):
    """One thing a designer did to the process library (deployed a version, uploaded or discarded a draft)."""

    __tablename__ = "design_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    process_id: Mapped[str | None] = mapped_column(String(255), index=True)
    version: Mapped[int | None]
    file_name: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[dict[str, Any]]  # e.g. the diff: counts and changed elements


class DraftConflict(EngineError):
    """Someone else saved the draft since it was loaded; `current` is what they saved (None: it is gone)."""

    def __init__(self, message: str, current: DesignDraft | None):
        self.current = current
        super().__init__(message)


class DraftRefused(EngineError):
    """The text cannot be kept as a draft (unreadable, unsafe, or nothing Doorstep can run); nothing was stored."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class DraftText:
    """What a designer sends to be saved: the diagram and the forms edited beside it."""

    file_name: str
    bpmn: str
    forms: dict[str, str]


def draft_of(session: Session, file_name: str) -> DesignDraft | None:
    """The draft of a file, if anyone has saved one."""
    return session.scalar(select(DesignDraft).where(DesignDraft.file_name == file_name))


def save_draft(session: Session, text: DraftText, loaded_row_version: int | None, based_on_version_id: int | None,
               actor: str, now: datetime) -> DesignDraft:
    """Store a draft; refuse with DraftConflict when it changed since the caller loaded row `loaded_row_version`.

    `loaded_row_version` None means the caller started from a deployed version, not from a stored draft.
    """
    refusals = unreadable(text)
    if refusals:
        raise DraftRefused(refusals)
    draft = draft_of(session, text.file_name)
    if draft is None and loaded_row_version is not None:
        raise DraftConflict("草稿已被他人部署或放弃。您的内容没有丢失：请另存为新草稿，或下载保存后再合并。", None)
    if draft is not None and draft.row_version != loaded_row_version:
        raise DraftConflict(f"草稿在您打开之后已被 {draft.saved_by} 修改并保存（第 {draft.row_version} 稿）。"
                            "您的内容没有丢失，仍在编辑器中：请对照对方的版本合并后再保存。", draft)
    if draft is None:
        draft = DesignDraft(file_name=text.file_name)
        session.add(draft)
    draft.bpmn, draft.forms = text.bpmn, dict(sorted(text.forms.items()))
    draft.process_id = next(iter(executable_processes(text.bpmn.encode())), None)
    draft.based_on_version_id = based_on_version_id if based_on_version_id is not None else draft.based_on_version_id
    draft.saved_by, draft.saved_at = actor, now
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as error:  # saved by someone else at the same moment
        raise DraftConflict("草稿刚被他人同时保存。您的内容没有丢失：请重新加载对方的版本后合并。", None) from error
    return draft


def discard_draft(session: Session, draft: DesignDraft) -> None:
    """Forget a draft (after it was deployed, or when a designer throws it away)."""
    session.delete(draft)
    session.flush()


def record_design_event(session: Session, actor: str, now: datetime, action: str, process_id: str | None,
                        version: int | None, file_name: str | None, summary: dict[str, Any]) -> DesignEvent:
    """Append an entry to the design log."""
    event = DesignEvent(at=now, actor=actor, action=action, process_id=process_id, version=version,
                        file_name=file_name, summary=json.loads(json.dumps(summary, default=str)))
    session.add(event)
    session.flush()
    return event


def unreadable(text: DraftText) -> list[Problem]:
    """Why a draft cannot even be stored: a bad file name, an unsafe or malformed file, bad form names."""
    problems: list[Problem] = []
    if not FILE_NAME.match(text.file_name):
        problems.append(Problem(text.file_name or "-", None, None,
                                "文件名只能由字母、数字、下划线、点和连字符组成，并以 .bpmn 结尾"))
        return problems
    parse_safely(text.file_name, text.bpmn.encode(), problems)
    if len(text.forms) > MAX_FORMS:
        problems.append(Problem(text.file_name, None, None, f"一个草稿最多带 {MAX_FORMS} 个表单"))
    for name, content in text.forms.items():
        if not FORM_NAME.match(name):
            problems.append(Problem(name or "-", None, None, "表单文件名只能由字母、数字、下划线、点和连字符组成，"
                                                             "并以 .json 结尾"))
        elif not isinstance(content, str):
            problems.append(Problem(name, None, None, "表单内容必须是文本"))
    return problems


def upload_refusals(name: str, content: bytes) -> list[Problem]:
    """Why an uploaded file is refused outright (nothing is stored): it cannot be read safely, is not valid
    BPMN 2.0, has no process Doorstep can run, or has code the sandbox refuses. Other problems (forms, lanes,
    gateways) are the designer's to fix in the editor, so such a file is kept as a draft."""
    problems: list[Problem] = []
    tree = parse_safely(name, content, problems)
    if tree is None:
        return problems
    root = tree.getroot()
    VALIDATOR.preprocess(tree)
    if not VALIDATOR.validator.validate(tree):
        return [Problem(name, entry.line, None, f"不符合 BPMN 2.0 规范（XSD）：{schema_message(entry.message)}")
                for entry in VALIDATOR.validator.error_log]
    processes = root.findall("bpmn:process", NS)
    if not any(p.get("isExecutable") == "true" for p in processes):
        problems.append(Problem(name, root.sourceline, None,
                                "没有可执行流程：Doorstep 只运行标记为 isExecutable=\"true\" 的流程"))
        problems += [Problem(name, p.sourceline, p.get("id"),
                             f"流程 '{p.get('name') or p.get('id')}' 未标记为可执行（isExecutable=\"true\"）")
                     for p in processes]
        return problems
    for process in processes:
        if process.get("isExecutable") != "true":
            continue
        for path, mode in _CODE:
            for node in process.iterfind(f".//{path}", NS):
                owner = node.getparent()
                if owner.tag.endswith("timerEventDefinition"):
                    owner = owner.getparent()
                for line, message in check_source((node.text or "").strip() if mode == "eval" else node.text or "",
                                                  mode):
                    if not message.startswith("语法错误"):
                        problems.append(Problem(name, (node.sourceline or 1) + line - 1, owner.get("id"),
                                                f"{'脚本' if mode == 'exec' else '表达式'}：{message}"))
    return problems


def executable_processes(content: bytes) -> list[str]:
    """The ids of the executable processes of a `.bpmn` file (none when it cannot be read safely)."""
    tree = parse_safely("-", content, [])
    if tree is None:
        return []
    return [p.get("id") for p in tree.getroot().findall("bpmn:process", NS) if p.get("isExecutable") == "true"]


def referenced_forms(content: bytes) -> list[str]:
    """The form files the user tasks of a `.bpmn` file name (formJsonSchemaFilename), in order, once each."""
    tree = parse_safely("-", content, [])
    if tree is None:
        return []
    found: list[str] = []
    for prop in tree.getroot().iterfind(".//spiffworkflow:property", NS):
        value = prop.get("value") or ""
        if prop.get("name") == "formJsonSchemaFilename" and value and value not in found:
            found.append(value)
    return found


def with_draft(library: dict[str, bytes], draft: DraftText) -> dict[str, bytes]:
    """The library's files with the draft's diagram and forms in place of (or beside) their deployed ones."""
    files = dict(library)
    files[draft.file_name] = draft.bpmn.encode()
    by_base = {PurePath(name).name: name for name in files if name.endswith(".json")}
    for form, text in draft.forms.items():
        files[by_base.get(form, f"forms/{form}")] = text.encode()
    return files
