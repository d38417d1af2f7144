"""The org importer: units and people from a YAML org file (format: workflows/data/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows import LineDict, LineList, ProblemLog, read_data_file, read_data_text
from workflows.org.models import KINDS, OrgUnit, Person, Position
from workflows.org.roles import LEVELS, UnknownRole, find_role
from workflows.org.tree import chunks, rebuild_paths, units_by_code

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass
class ImportReport:
    """What an import changed."""

    units_created: int = 0
    units_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    positions_added: int = 0
    positions_removed: int = 0


@dataclass
class _UnitSpec:
    code: str
    name: str
    level: str | None
    kind: str
    parent: str | None
    line: int
    where: str


@dataclass
class _PersonSpec:
    username: str
    name: str
    line: int
    where: str
    # each position: role code, unit code, domain, line, field path
    positions: list[tuple[str, str, str, int, str]] = field(default_factory=list)


_TOP_FIELDS = ("version", "demo", "units", "people")
_UNIT_FIELDS = ("code", "name", "level", "kind", "parent", "children")
_PERSON_FIELDS = ("username", "name", "positions")
_POSITION_FIELDS = ("role", "unit", "domain")


def import_org_file(session: Session, path: Path | str) -> ImportReport:
    """Import units and people from a YAML org file; see workflows/data/README.md for the format."""
    return _import(session, read_data_file(path), str(path))


def import_org_text(session: Session, text: str, source: str = "<org yaml>") -> ImportReport:
    """Import units and people from YAML text (the org file format)."""
    return _import(session, read_data_text(text, source), source)


def _import(session: Session, doc: Any, source: str) -> ImportReport:
    log = ProblemLog(source)
    top = log.mapping(doc, 1, "", _TOP_FIELDS) or LineDict()
    if top.get("version", 1) != 1:
        log.add(top.line_of("version"), "version", f"unsupported version {top['version']!r} (expected 1)")
    demo = top.get("demo", False)
    if not isinstance(demo, bool):
        log.add(top.line_of("demo"), "demo", "expected true or false")
    units: list[_UnitSpec] = []
    for index, line, item in _items(log, top, "units"):
        _parse_unit(log, item, line, f"units[{index}]", None, units)
    people = [
        spec
        for index, line, item in _items(log, top, "people")
        if (spec := _parse_person(log, item, line, f"people[{index}]")) is not None
    ]
    position_units = {unit for person in people for _, unit, *_ in person.positions if unit}
    known = _resolve_units(session, log, units, position_units)
    _check_people(log, people, known)
    log.raise_if_any()
    report = ImportReport()
    objects = _apply_units(session, units, bool(demo), report)
    _apply_people(session, people, objects, bool(demo), report)
    session.flush()
    return report


def _items(log: ProblemLog, top: LineDict, key: str) -> list[tuple[int, int, Any]]:
    value = top.get(key)
    if value is None:
        return []
    if not isinstance(value, LineList):
        log.add(top.line_of(key), key, "expected a list")
        return []
    return [(index, value.line_of(index), item) for index, item in enumerate(value)]


def _text(log: ProblemLog, item: LineDict, key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
    value = item.get(key)
    if value is None:
        log.add(item.line, where, f"missing {key!r}")
        return ""
    if not isinstance(value, str) or not value.strip():
        hint = f' (write it quoted: "{value}")' if isinstance(value, int | float) else ""
        log.add(item.line_of(key), f"{where}.{key}", f"expected a non-empty text{hint}")
        return ""
    if pattern is not None and not pattern.match(value):
        log.add(item.line_of(key), f"{where}.{key}", f"{value!r}: use up to 64 letters, digits, _ . -")
    return value.strip()


def _parse_unit(
    log: ProblemLog, raw: Any, line: int, where: str, enclosing_code: str | None, out: list[_UnitSpec]
) -> None:
    item = log.mapping(raw, line, where, _UNIT_FIELDS)
    if item is None:
        return
    code = _text(log, item, "code", where, CODE_PATTERN)
    name = _text(log, item, "name", where)
    kind = item.get("kind", "area")
    if kind not in KINDS:
        log.add(item.line_of("kind"), f"{where}.kind", f"unknown kind {kind!r} (expected area or office)")
    level = item.get("level")
    if level is not None and level not in LEVELS:
        expected = ", ".join(LEVELS)
        log.add(item.line_of("level"), f"{where}.level", f"unknown level {level!r} (expected {expected})")
    elif level is None and kind == "area":
        log.add(item.line, where, "missing 'level' (county, township, village or grid)")
    parent = item.get("parent")
    if enclosing_code is not None:
        if parent is not None and parent != enclosing_code:
            log.add(
                item.line_of("parent"),
                f"{where}.parent",
                f"{parent!r} contradicts the enclosing unit {enclosing_code!r}",
            )
        parent = enclosing_code
    elif parent is not None and not isinstance(parent, str):
        log.add(item.line_of("parent"), f"{where}.parent", "expected a unit code")
        parent = None
    out.append(_UnitSpec(code, name, level, kind, parent, item.line, where))
    children = item.get("children")
    if children is None:
        return
    if not isinstance(children, LineList):
        log.add(item.line_of("children"), f"{where}.children", "expected a list of units")
        return
    for index, child in enumerate(children):
        _parse_unit(log, child, children.line_of(index), f"{where}.children[{index}]", code, out)


def _parse_person(log: ProblemLog, raw: Any, line: int, where: str) -> _PersonSpec | None:
    item = log.mapping(raw, line, where, _PERSON_FIELDS)
    if item is None:
        return None
    spec = _PersonSpec(
        _text(log, item, "username", where, USERNAME_PATTERN),
        _text(log, item, "name", where),
        item.line,
        where,
    )
    positions = item.get("positions", [])
    if not isinstance(positions, list):
        log.add(item.line_of("positions"), f"{where}.positions", "expected a list of positions")
        return spec
    for index, raw_position in enumerate(positions):
        pos_where = f"{where}.positions[{index}]"
        pos_line = positions.line_of(index) if isinstance(positions, LineList) else item.line
        position = log.mapping(raw_position, pos_line, pos_where, _POSITION_FIELDS)
        if position is None:
            continue
        role_code = ""
        role_name = _text(log, position, "role", pos_where)
        if role_name:
            try:
                role = find_role(role_name)
            except UnknownRole as exc:
                log.add(position.line_of("role"), f"{pos_where}.role", str(exc))
            else:
                role_code = role.code
                if not role.is_staff:
                    log.add(position.line_of("role"), f"{pos_where}.role", f"{role.name} is not a staff role")
        domain = position.get("domain", "")
        if not isinstance(domain, str):
            log.add(position.line_of("domain"), f"{pos_where}.domain", "expected a domain code")
            domain = ""
        if role_code == "responsible_leader" and not domain:
            log.add(position.line, pos_where, "a 分管领导 position needs a 'domain'")
        elif domain and role_code and role_code != "responsible_leader":
            log.add(position.line_of("domain"), f"{pos_where}.domain", "only a 分管领导 has a domain")
        unit = _text(log, position, "unit", pos_where)
        spec.positions.append((role_code, unit, domain, position.line, pos_where))
    return spec


def _resolve_units(
    session: Session, log: ProblemLog, specs: list[_UnitSpec], also: set[str]
) -> dict[str, tuple[str, str]]:
    """Check parents and levels; return (level, kind) of every unit the file names or relies on."""
    by_code: dict[str, _UnitSpec] = {}
    specs = [spec for spec in specs if spec.code]  # a unit without a code is reported already
    for spec in specs:
        if spec.code in by_code:
            log.add(
                spec.line,
                f"{spec.where}.code",
                f"duplicate code {spec.code!r} (first at line {by_code[spec.code].line})",
            )
        by_code.setdefault(spec.code, spec)
    outside = {s.parent for s in specs if s.parent} | also
    stored = units_by_code(session, outside | by_code.keys())
    known = {code: (unit.level, unit.kind) for code, unit in stored.items() if code not in by_code}
    known.update((s.code, (s.level or "", s.kind)) for s in specs if s.kind == "area")
    for spec in specs:
        if spec.parent is None:
            if spec.kind != "area" or spec.level != "county":
                log.add(spec.line, spec.where, "missing 'parent' (only a county stands at the top)")
            continue
        if spec.parent not in known and spec.parent not in by_code:
            log.add(spec.line, f"{spec.where}.parent", f"unknown parent code {spec.parent!r}")
            continue
        parent_level, parent_kind = known.get(spec.parent, ("", "office"))
        if parent_kind != "area":
            log.add(spec.line, f"{spec.where}.parent", f"parent {spec.parent!r} is an office, not an area")
        elif spec.kind == "office":
            if spec.level not in (None, parent_level):
                log.add(
                    spec.line,
                    f"{spec.where}.level",
                    f"an office sits at its parent's level ({parent_level}), not {spec.level}",
                )
            spec.level = parent_level
            known[spec.code] = (parent_level, "office")
        elif spec.level in LEVELS and parent_level in LEVELS:
            if LEVELS.index(spec.level) != LEVELS.index(parent_level) + 1:
                log.add(
                    spec.line,
                    f"{spec.where}.level",
                    f"a {spec.level} cannot sit under the {parent_level} {spec.parent!r}",
                )
    for spec in by_code.values():
        before = stored.get(spec.code)
        if before is not None and spec.level and (before.level, before.kind) != (spec.level, spec.kind):
            log.add(
                spec.line,
                spec.where,
                f"{spec.code!r} is stored as a {before.level} {before.kind}: a unit keeps its level and kind "
                "(give the new unit a new code)",
            )
    return known


def _check_people(log: ProblemLog, people: list[_PersonSpec], known: dict[str, tuple[str, str]]) -> None:
    seen: dict[str, int] = {}
    for spec in people:
        if spec.username in seen:
            log.add(
                spec.line,
                f"{spec.where}.username",
                f"duplicate username {spec.username!r} (first at line {seen[spec.username]})",
            )
        seen.setdefault(spec.username, spec.line)
        keys: set[tuple[str, str, str]] = set()
        for role_code, unit_code, domain, line, where in spec.positions:
            if (role_code, unit_code, domain) in keys:
                log.add(line, where, "the same position is listed twice")
            keys.add((role_code, unit_code, domain))
            if unit_code and unit_code not in known:
                log.add(line, f"{where}.unit", f"unknown unit code {unit_code!r}")
            elif unit_code and role_code:
                role, level = find_role(role_code), known[unit_code][0]
                if not role.works_at(level):
                    works = f"{role.name} ({role.code}) works at {role.level} level"
                    log.add(line, f"{where}.role", f"{works}; {unit_code!r} is a {level}")


def _apply_units(session: Session, specs: list[_UnitSpec], demo: bool, report: ImportReport) -> dict[str, OrgUnit]:
    objects = units_by_code(session, [s.code for s in specs] + [s.parent for s in specs if s.parent])
    moved = False
    ordered = sorted(specs, key=lambda s: (LEVELS.index(s.level or "county"), s.kind == "office"))
    for spec in ordered:
        parent = objects[spec.parent] if spec.parent else None
        path = f"{parent.path if parent else '/'}{spec.code}/"
        unit = objects.get(spec.code)
        if unit is None:
            unit = OrgUnit(
                code=spec.code,
                name=spec.name,
                level=spec.level,
                kind=spec.kind,
                parent=parent,
                path=path,
                is_demo=demo,
            )
            session.add(unit)
            objects[spec.code] = unit
            report.units_created += 1
            continue
        values = {"name": spec.name, "level": spec.level, "kind": spec.kind, "path": path, "is_demo": demo}
        changed = unit.parent is not parent or any(getattr(unit, k) != v for k, v in values.items())
        moved = moved or unit.parent is not parent or unit.path != path
        unit.parent = parent
        for key, value in values.items():
            setattr(unit, key, value)
        report.units_updated += int(changed)
    session.flush()
    if moved:
        rebuild_paths(session)
    return objects


def _apply_people(
    session: Session, specs: list[_PersonSpec], units: dict[str, OrgUnit], demo: bool, report: ImportReport
) -> None:
    wanted_units = {unit_code for spec in specs for _, unit_code, *_ in spec.positions}
    units.update(units_by_code(session, wanted_units - units.keys()))
    existing: dict[str, Person] = {}
    for chunk in chunks(sorted({s.username for s in specs})):
        query = (
            select(Person)
            .where(Person.username.in_(chunk))
            .options(selectinload(Person.positions).selectinload(Position.unit))
        )
        existing.update((p.username, p) for p in session.scalars(query))
    for spec in specs:
        person = existing.get(spec.username)
        if person is None:
            person = Person(username=spec.username, display_name=spec.name, is_demo=demo)
            session.add(person)
            report.people_created += 1
        elif person.display_name != spec.name or person.is_demo != demo:
            person.display_name, person.is_demo = spec.name, demo
            report.people_updated += 1
        wanted = {(role, unit, domain) for role, unit, domain, *_ in spec.positions}
        for position in list(person.positions):
            if (position.role, position.unit.code, position.domain) not in wanted:
                person.positions.remove(position)
                report.positions_removed += 1
        held = {(p.role, p.unit.code, p.domain) for p in person.positions}
        for role, unit_code, domain in sorted(wanted - held):
            person.positions.append(Position(role=role, unit=units[unit_code], domain=domain))
            report.positions_added += 1
