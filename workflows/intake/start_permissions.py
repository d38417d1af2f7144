"""Who may start what: the doors of `workflows/data/start_permissions.yaml` (roles × processes), read and checked.

A door starts one process for the holders of some roles, with some form values fixed (the channel of a letter
or a call) and, for doors at the starter's own place, the place taken from the starter's position. The pages,
the JSON API and the OpenAPI document ask this module, so a role refused on a page is refused by the API too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows import DATA_DIR, LineDict, ProblemLog, read_data_file
from workflows.cases.task_work import AccessDenied, SubmissionInvalid
from workflows.org.roles import BY_CODE

DOOR_KEYS = ("title", "process", "roles", "preset", "requires", "place", "page", "from_case", "note")
PLACES = ("", "own")
NO_STARTER = "（无：由其他流程的步骤或管理员命令发起）"


class StartRefused(AccessDenied):
    """The person holds no role that may start this process (or use this door)."""


class PresetMismatch(SubmissionInvalid):
    """A value that the door fixes was given otherwise; `errors` maps the field to a message."""


@dataclass(frozen=True)
class Door:
    """One way in: a process started by some roles, with fixed values and a place rule."""

    code: str
    title: str
    process: str
    roles: tuple[str, ...]
    preset: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # form fields this door makes required (a hand-down: the level it came from)
    place: str = ""
    page: str = ""
    from_case: bool = False
    note: str = ""

    def open_to(self, roles: Iterable[str]) -> bool:
        """Whether a holder of any of `roles` may use this door."""
        return bool(set(self.roles) & set(roles))

    @property
    def fields_note(self) -> str:
        """The fields the door fixes (`message_channel=wechat_group`) and requires, for the API document."""
        fixed = [f"`{key}={value}`" for key, value in self.preset.items()]
        fixed += [f"`{key}`（必填）" for key in self.requires]
        fixed += ["本人所在地（township、village、grid）"] if self.place == "own" else []
        fixed += ["`source_case`（案件 id，必填）"] if self.from_case else []
        return "、".join(fixed) or "—"

    @property
    def role_names(self) -> str:
        """The roles' Chinese names, for pages and the API document."""
        return "、".join(BY_CODE[code].name for code in self.roles)


@dataclass(frozen=True)
class StartPermissions:
    """Every door, in the order of the file."""

    doors: tuple[Door, ...]

    def door(self, code: str) -> Door | None:
        """The door called `code`."""
        return next((d for d in self.doors if d.code == code), None)

    def open_to(self, roles: Iterable[str]) -> list[Door]:
        """The doors a holder of `roles` may use."""
        held = set(roles)
        return [d for d in self.doors if d.open_to(held)]

    def processes(self) -> list[str]:
        """The processes that have a door, in order of first appearance."""
        return list(dict.fromkeys(d.process for d in self.doors))

    def starters(self, process: str) -> list[str]:
        """The role codes that may start `process` through some door."""
        return list(dict.fromkeys(r for d in self.doors if d.process == process for r in d.roles))

    def may_start(self, roles: Iterable[str], process: str) -> bool:
        """Whether a holder of `roles` may start `process` through some door."""
        return any(d.process == process for d in self.open_to(roles))

    def choose(self, roles: Iterable[str], process: str, data: Mapping[str, Any]) -> Door:
        """The door of `process` open to `roles` whose fixed values `data` agrees with (and that has what it requires).

        StartRefused when no door of the process is open to the roles; PresetMismatch (a message on the field)
        when doors are open but the data names a value none of them takes, e.g. a channel the caller may not use.
        """
        doors = [d for d in self.open_to(roles) if d.process == process]
        if not doors:
            starters = "、".join(BY_CODE[r].name for r in self.starters(process)) or NO_STARTER
            raise StartRefused(f"您的角色不能发起流程 {process}（可发起者：{starters}）")
        fitting = [d for d in doors if all(key not in data or data[key] in (None, "", value)
                                           for key, value in d.preset.items())
                   and all(data.get(key) not in (None, "") for key in d.requires)]
        if fitting:
            return fitting[0]
        keys = sorted({k for d in doors for k in d.preset})
        allowed = {k: "、".join(f"{d.title}（{d.preset[k]}）" for d in doors if k in d.preset) for k in keys}
        raise PresetMismatch({k: f"您只能登记：{allowed[k]}" for k in keys if k in data})

    def table(self) -> list[tuple[str, str, str, str]]:
        """(process, door title, roles, fixed and required fields) rows: the table the API document prints."""
        return [(d.process, d.title, d.role_names, d.fields_note) for d in self.doors]


@functools.cache
def start_permissions() -> StartPermissions:
    """The doors of the packaged data file, read once per process."""
    return load_start_permissions(DATA_DIR / "start_permissions.yaml")


def load_start_permissions(path: Path | str) -> StartPermissions:
    """Read and check a start-permissions file; every mistake at once as `file:line: field: message`."""
    log = ProblemLog(str(path))
    doc = log.mapping(read_data_file(path), 1, "", ("version", "doors")) or LineDict()
    if doc.get("version", 1) != 1:
        log.add(doc.line_of("version"), "version", f"unsupported version {doc['version']!r} (expected 1)")
    raw_doors = doc.get("doors")
    if not isinstance(raw_doors, LineDict) or not raw_doors:
        log.add(doc.line_of("doors"), "doors", "expected a mapping of doors")
        raw_doors = LineDict()
    doors = []
    for code, raw in raw_doors.items():
        where = f"doors.{code}"
        entry = log.mapping(raw, raw_doors.line_of(code), where, DOOR_KEYS)
        if entry is None:
            continue
        door = _door(log, str(code), entry, where)
        if door is not None:
            doors.append(door)
    log.raise_if_any()
    return StartPermissions(tuple(doors))


def _door(log: ProblemLog, code: str, entry: LineDict, where: str) -> Door | None:
    ok = True
    for key in ("title", "process"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            log.add(entry.line_of(key), f"{where}.{key}", "expected a non-empty text")
            ok = False
    roles = entry.get("roles")
    if not isinstance(roles, list) or not roles:
        log.add(entry.line_of("roles"), f"{where}.roles", "expected a list of role codes")
        roles, ok = [], False
    for role in roles:
        if role not in BY_CODE or not BY_CODE[role].is_staff:
            log.add(entry.line_of("roles"), f"{where}.roles", f"unknown staff role {role!r} (known: "
                    f"{', '.join(c for c, r in BY_CODE.items() if r.is_staff)})")
            ok = False
    preset = entry.get("preset", {})
    if not isinstance(preset, dict):
        log.add(entry.line_of("preset"), f"{where}.preset", "expected a mapping of form fields to values")
        preset, ok = {}, False
    requires = entry.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        log.add(entry.line_of("requires"), f"{where}.requires", "expected a list of form field names")
        requires, ok = [], False
    place = entry.get("place", "")
    if place not in PLACES:
        log.add(entry.line_of("place"), f"{where}.place", f"expected 'own' or nothing, not {place!r}")
        ok = False
    if not ok:
        return None
    return Door(code, entry["title"].strip(), entry["process"].strip(), tuple(roles), dict(preset),
                tuple(requires), place, str(entry.get("page") or ""), bool(entry.get("from_case")),
                str(entry.get("note") or ""))
