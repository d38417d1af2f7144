"""A Xupu-sized synthetic org for demos, training and tests: fictional names, the same every time.

1 county, 25 townships, 412 villages and communities, 18,560 grids, and the staff of every route. Township
and village names are drawn from character lists chosen apart from Xupu's real place names; every unit and
person is marked `is_demo`. Loading writes with bulk statements and updates in place when run again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from workflows.cases.calendar import load_work_calendar
from workflows.org.importer import ImportReport
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.rota import generate_rota
from workflows.org.tree import chunks

COUNTY = ("xupu", "溆浦县")
TOWNSHIPS = 25
VILLAGES = 412
GRIDS = 18_560
SEED = 20220720

OFFICES: tuple[tuple[str, str], ...] = (
    ("county-petition-bureau", "县信访局"),
    ("county-natural-resources", "县自然资源局"),
    ("county-housing", "县住房和城乡建设局"),
    ("county-hrss", "县人力资源和社会保障局"),
    ("county-agriculture", "县农业农村局"),
    ("county-water", "县水利局"),
    ("county-civil-affairs", "县民政局"),
    ("county-health", "县卫生健康局"),
    ("county-education", "县教育局"),
    ("county-ecology", "县生态环境局"),
    ("county-transport", "县交通运输局"),
    ("county-public-security", "县公安局"),
    ("county-justice", "县司法局"),
    ("county-discipline", "县纪委监委"),
)
# The bodies above the handlers (workflows/data/review_bodies.yaml): review by the county government, and
# re-examination by the city government, which the county's system records as an office of its own.
REVIEW_OFFICES: tuple[tuple[str, str, str], ...] = (
    ("county-government", "县人民政府", "review_body"),
    ("city-government", "怀化市人民政府（复核）", "reexam_body"),
)
# The village's own bodies beside its committee: the four teams, the gold mediation room, the legal adviser.
VILLAGE_SEATS: tuple[tuple[str, str], ...] = (
    ("backer", "backer_unit_head"), ("liaison", "village_liaison"), ("workteam", "work_team"),
    ("mediator", "mediation_panel"), ("lawyer", "legal_adviser"),
)

# Domains of the township leaders (see data/responsible_leaders.yaml): four leaders, or three with doubled duty.
LEADER_PLANS: dict[int, tuple[tuple[str, ...], ...]] = {
    4: (("rural",), ("land",), ("social",), ("law", "discipline")),
    3: (("rural", "land"), ("social",), ("law", "discipline")),
}

# None of these first characters begins a real Xupu township name (卢峰, 龙潭, 低庄, 桥江, 大江口 ...).
_TOWN_FIRST = "青云松竹梅兰杏桂枫柳石泉霞雁鹤峰岚翠碧瑶锦秀荷菱芷"
_TOWN_SECOND = "溪岭坪湾冲塘源峪坳垭"
_VILLAGE_FIRST = "桃杉枣栗茶橘柚李梨桑杨槐柏樟楠榆茅芦蒲藤莲萍菊蕉芝苗禾麦粟豆"
_VILLAGE_SECOND = "园坡岗垄湾岩田坝洲桥井庄屋院铺林冲塘"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭罗郑梁谢宋唐许韩邓冯曹彭曾肖田董袁潘蒋蔡余杜叶程魏吕丁任沈姚向舒"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红玉兰志文斌波辉春梅海燕琴云飞"


@dataclass
class DemoOrg:
    """The demo org as plain rows: units parent-first, people, and positions by username and unit code."""

    units: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    positions: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, role, unit, domain

    def add_unit(
        self, code: str, name: str, level: str, parent: dict[str, Any] | None, kind: str = "area"
    ) -> dict[str, Any]:
        """Add a unit under `parent` and return its row."""
        path = f"{parent['path'] if parent else '/'}{code}/"
        row = {
            "code": code,
            "name": name,
            "level": level,
            "kind": kind,
            "parent": parent["code"] if parent else None,
            "path": path,
        }
        self.units.append(row)
        return row

    def add_person(self, username: str, name: str, *positions: tuple[str, str, str]) -> None:
        """Add a person holding (role, unit code, domain) positions."""
        self.people.append({"username": username, "display_name": name})
        self.positions.extend((username, role, unit, domain) for role, unit, domain in positions)


def build_demo_org(*, grid_workers: bool = True) -> DemoOrg:
    """Build the demo org in memory; the same rows on every call."""
    rng = random.Random(SEED)
    names = _person_names(rng)
    org = DemoOrg()
    county = org.add_unit(COUNTY[0], COUNTY[1], "county", None)
    for code, name in OFFICES:
        org.add_unit(code, name, "county", county, kind="office")
        org.add_person(f"{code}.handler", next(names), ("handling_unit", code, ""))
        org.add_person(f"{code}.head", next(names), ("agency_head", code, ""))
    org.add_person("county-discipline.staff", next(names), ("discipline", "county-discipline", ""))
    for code, name, role in REVIEW_OFFICES:
        org.add_unit(code, name, "county", county, kind="office")
        org.add_person(f"{code}.staff", next(names), (role, code, ""))
    org.add_person("county-government.reexam", next(names), ("reexam_body", "county-government", ""))
    for index in range(1, 5):
        org.add_person(f"bureau{index}", next(names), ("county_bureau", "county-petition-bureau", ""))
    for index in range(1, 7):
        org.add_person(f"county.leader{index}", next(names), ("case_leader", county["code"], ""))
    org.add_person("auditor1", next(names), ("auditor", county["code"], ""))
    org.add_person("designer1", next(names), ("designer", county["code"], ""))

    town_names = _place_names(rng, _TOWN_FIRST, _TOWN_SECOND, TOWNSHIPS)
    village_names = _place_names(rng, _VILLAGE_FIRST, _VILLAGE_SECOND, VILLAGES)
    village_counts = _spread(rng, VILLAGES, TOWNSHIPS, 11, 23)
    grid_counts = iter(_spread(rng, GRIDS, VILLAGES, 30, 60))
    village_index = 0
    for t, villages in enumerate(village_counts, start=1):
        town_code = f"t{t:02d}"
        suffix = "镇" if t % 3 else "乡"
        town = org.add_unit(town_code, f"{town_names[t - 1]}{suffix}", "township", county)
        org.add_person(f"{town_code}.cadre", next(names), ("township_cadre", town_code, ""))
        org.add_person(f"{town_code}.mediator", next(names), ("mediation_panel", town_code, ""))
        org.add_person(f"{town_code}.reviewer", next(names), ("review_body", town_code, ""))
        for number, domains in enumerate(LEADER_PLANS[4 if t % 2 else 3], start=1):
            held = [("responsible_leader", town_code, domain) for domain in domains]
            org.add_person(f"{town_code}.leader{number}", next(names), *held)
        communities = 2 if t % 4 == 1 else 1
        for v in range(1, villages + 1):
            village_code = f"{town_code}v{v:02d}"
            kind_name = "社区" if v <= communities else "村"
            village = org.add_unit(village_code, f"{village_names[village_index]}{kind_name}", "village", town)
            village_index += 1
            org.add_person(
                f"{village_code}.secretary",
                next(names),
                ("village_cadre", village_code, ""),
                ("duty_secretary", village_code, ""),
            )
            org.add_person(f"{village_code}.cadre", next(names), ("village_cadre", village_code, ""))
            for seat, role in VILLAGE_SEATS:
                org.add_person(f"{village_code}.{seat}", next(names), (role, village_code, ""))
            for g in range(1, next(grid_counts) + 1):
                grid_code = f"{village_code}g{g:02d}"
                org.add_unit(grid_code, f"第{g}网格", "grid", village)
                if grid_workers:
                    org.add_person(f"{grid_code}.worker", next(names), ("grid_worker", grid_code, ""))
    return org


def load_demo_org(session: Session, *, grid_workers: bool = True) -> ImportReport:
    """Write the demo org with bulk statements; a second run updates in place and adds nothing."""
    session.flush()
    org = build_demo_org(grid_workers=grid_workers)
    report = ImportReport()
    unit_ids = _load_units(session, org.units, report)
    person_ids = _load_people(session, org.people, report)
    _load_positions(session, org.positions, unit_ids, person_ids, report)
    return report


def load_demo_county(session: Session, first_day: date, days: int = 92) -> str:
    """Load the demo org and, where none exists yet, a reception rota for the coming `days`; say what was done."""
    report = load_demo_org(session)
    last_day = first_day + timedelta(days=days)
    rota = 0
    if session.scalar(select(func.count(RotaEntry.id)).where(RotaEntry.day.between(first_day, last_day))) == 0:
        rota = len(generate_rota(session, load_work_calendar(), first_day, last_day))
    return (f"{report.units_created} units and {report.people_created} people created "
            f"({report.units_updated} units, {report.people_updated} people updated); "
            f"{rota} rota days written from {first_day.isoformat()}")


def _load_units(session: Session, rows: list[dict[str, Any]], report: ImportReport) -> dict[str, int]:
    columns = (
        OrgUnit.id,
        OrgUnit.code,
        OrgUnit.name,
        OrgUnit.level,
        OrgUnit.kind,
        OrgUnit.parent_id,
        OrgUnit.path,
        OrgUnit.is_demo,
    )
    stored = {row.code: row for row in session.execute(select(*columns))}
    ids = {code: row.id for code, row in stored.items()}
    for depth in sorted({row["path"].count("/") for row in rows}):
        new, changed = [], []
        for row in rows:
            if row["path"].count("/") != depth:
                continue
            values = {key: row[key] for key in ("code", "name", "level", "kind", "path")}
            values.update(parent_id=ids[row["parent"]] if row["parent"] else None, is_demo=True)
            old = stored.get(row["code"])
            if old is None:
                new.append(values)
            elif any(getattr(old, key) != value for key, value in values.items()):
                changed.append({"id": old.id, **values})
        if new:
            result = session.execute(insert(OrgUnit).returning(OrgUnit.id, OrgUnit.code), new)
            ids.update((code, unit_id) for unit_id, code in result)
        if changed:
            session.execute(update(OrgUnit), changed)
        report.units_created += len(new)
        report.units_updated += len(changed)
    return ids


def _load_people(session: Session, rows: list[dict[str, Any]], report: ImportReport) -> dict[str, int]:
    stored = {
        row.username: row
        for row in session.execute(select(Person.id, Person.username, Person.display_name, Person.is_demo))
    }
    new = [{**row, "is_demo": True} for row in rows if row["username"] not in stored]
    changed = [
        {"id": old.id, "display_name": row["display_name"], "is_demo": True}
        for row in rows
        if (old := stored.get(row["username"])) is not None
        and (old.display_name != row["display_name"] or not old.is_demo)
    ]
    ids = {username: row.id for username, row in stored.items()}
    if new:
        result = session.execute(insert(Person).returning(Person.id, Person.username), new)
        ids.update((username, person_id) for person_id, username in result)
    if changed:
        session.execute(update(Person), changed)
    report.people_created += len(new)
    report.people_updated += len(changed)
    return ids


def _load_positions(
    session: Session,
    rows: list[tuple[str, str, str, str]],
    unit_ids: dict[str, int],
    person_ids: dict[str, int],
    report: ImportReport,
) -> None:
    wanted = {(person_ids[user], role, unit_ids[unit], domain) for user, role, unit, domain in rows}
    demo_people = {person_ids[user] for user, *_ in rows}
    columns = (Position.id, Position.person_id, Position.role, Position.org_unit_id, Position.domain)
    held: dict[tuple[int, str, int, str], int] = {
        (row.person_id, row.role, row.org_unit_id, row.domain): row.id
        for row in session.execute(select(*columns))
        if row.person_id in demo_people
    }
    new = [
        {"person_id": person, "role": role, "org_unit_id": unit, "domain": domain}
        for person, role, unit, domain in sorted(wanted - held.keys())
    ]
    if new:
        session.execute(insert(Position), new)
    stale = [position_id for key, position_id in held.items() if key not in wanted]
    for chunk in chunks(stale):
        session.execute(delete(Position).where(Position.id.in_(chunk)))
    report.positions_added += len(new)
    report.positions_removed += len(stale)


def _person_names(rng: random.Random) -> Iterator[str]:
    while True:
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
        yield rng.choice(_SURNAMES) + given


def _place_names(rng: random.Random, first: str, second: str, count: int) -> list[str]:
    pairs = [a + b for a in first for b in second]
    return rng.sample(pairs, count)


def _spread(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """Split `total` into `parts` counts within [low, high], uneven but summing exactly to `total`."""
    base, extra = divmod(total, parts)
    counts = [base + (1 if index < extra else 0) for index in range(parts)]
    for _ in range(parts * 4):
        giver, taker = rng.randrange(parts), rng.randrange(parts)
        amount = rng.randint(1, 4)
        if giver != taker and counts[giver] - amount >= low and counts[taker] + amount <= high:
            counts[giver] -= amount
            counts[taker] += amount
    return counts
