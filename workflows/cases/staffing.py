"""Where nobody may act: what the stored org lacks for the diagrams' lanes and the routing tables, told before any
case runs into it.

A task waits in a lane (a role) at a place; `workflows.cases.access` says who may act on it. From the org alone
one can tell, per lane the deployed diagrams use and per township, whether anybody could:
* an ordinary lane: somebody holds the role at each area of the role's level, or above it (a township without a
  乡镇信访干部, villages without a 村干部, the county without a 包案领导);
* 坐班村支书: the township's reception rota has somebody on duty from today on (the rota is made of the village
  secretaries holding 坐班村支书);
* the unit lanes: the handling unit the routing tables suggest has a 承办单位负责人; the review and re-examination
  bodies (`data/review_bodies.yaml`, and each township for its villages' replies) have their reviewers;
* 承办单位 and 分管领导: the routing tables' own check (`workflows.cases.routing.check_routing`).
Every problem is one line of plain Chinese naming the unit code, township or category concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.access import area_path
from workflows.cases.review_bodies import ReviewBodies, load_review_bodies
from workflows.cases.routing import RoutingRules, check_routing, load_routing_rules, suggested_units
from workflows.org.models import OrgUnit, Position, RotaEntry
from workflows.org.roles import BY_LANE, LEVEL_NAMES, ROLES, Role
from workflows.org.rota import township_secretaries
from workflows.org.tree import holders, units_at, units_by_code

EXAMPLES = 3  # uncovered villages or grids named per township


@dataclass(frozen=True)
class _Org:
    """What the checks of one run share."""

    session: Session
    rules: RoutingRules
    review_bodies: ReviewBodies
    day: date
    townships: list[OrgUnit]


def org_problems(session: Session, lanes: Iterable[str], day: date, rules: RoutingRules | None = None,
                 review_bodies: ReviewBodies | None = None) -> list[str]:
    """Every reason a task of the diagrams (using `lanes`) or a routed claim would find nobody to act, as of local
    `day`; empty when the org serves every lane everywhere. Rules default to the packaged data files."""
    org = _Org(session, rules or load_routing_rules(), review_bodies or load_review_bodies(), day,
               units_at(session, "township"))
    used = {BY_LANE[lane].code for lane in lanes if lane in BY_LANE}
    problems = check_routing(session, org.rules)
    for role in ROLES:
        if role.code in used and role.is_staff:
            problems += LANE_CHECKS.get(role.code, _place_gaps)(org, role)
    return problems


def _place_gaps(org: _Org, role: Role) -> list[str]:
    """Areas of the role's level that no holder of the role covers (holds it there or above), by township."""
    assert role.level is not None
    covering = _covering_paths(org.session, role.code)
    uncovered: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    areas = org.session.execute(select(OrgUnit.code, OrgUnit.path)
                                .where(OrgUnit.kind == "area", OrgUnit.level == role.level).order_by(OrgUnit.path))
    for code, path in areas:
        parts = path.strip("/").split("/")
        town = parts[1] if len(parts) > 1 else ""
        totals[town] = totals.get(town, 0) + 1
        if not any("/" + "/".join(parts[:depth]) + "/" in covering for depth in range(1, len(parts) + 1)):
            uncovered.setdefault(town, []).append(code)
    names = {town.code: town for town in org.townships}
    problems = []
    for town, codes in uncovered.items():
        if town not in names:
            problems.append(f"全县没有人担任{role.name}：{role.name}的任务无人可办")
        elif len(codes) == totals[town]:
            problems.append(f"{_town(names[town])}没有人担任{role.name}：{role.name}的任务无人可办")
        else:
            problems.append(f"{_town(names[town])}有 {len(codes)} 个{LEVEL_NAMES[role.level]}没有人担任{role.name}"
                            f"（如 {'、'.join(codes[:EXAMPLES])}）：那里{role.name}的任务无人可办")
    return problems


def _covering_paths(session: Session, role: str) -> set[str]:
    """The territories the role's positions cover (as `workflows.cases.access` reads a position)."""
    seats = session.scalars(select(OrgUnit).join(Position, Position.org_unit_id == OrgUnit.id)
                            .where(Position.role == role))
    return {area_path(unit) for unit in seats}


def _rota_gaps(org: _Org, role: Role) -> list[str]:
    """Townships whose reception room has nobody on duty from `day` on, or no village secretary to put there."""
    on_rota = set(org.session.scalars(select(RotaEntry.township_id).where(RotaEntry.day >= org.day).distinct()))
    problems = []
    for town in org.townships:
        if not township_secretaries(org.session, town):
            problems.append(f"{_town(town)}没有村（社区）干部担任{role.name}，排不出接访班：坐班接访无人接待")
        elif town.id not in on_rota:
            problems.append(f"{_town(town)}的接访排班表 {org.day.isoformat()} 起没有人值班：{role.name}的任务无人可办，"
                            "请生成接访排班")
    return problems


def _unit_heads(org: _Org, role: Role) -> list[str]:
    """Units the routing tables suggest where nobody holds 承办单位负责人 (who approves the unit's extensions)."""
    claims: dict[str, list[str]] = {}
    units: dict[str, OrgUnit] = {}
    for (_town, category), unit in suggested_units(org.session, org.rules).items():
        if unit is not None:
            units[unit.code] = unit
            claims.setdefault(unit.code, []).append(org.rules.categories[category].name)
    return [f"承办单位 {code}（{unit.name}）没有人担任{role.name}：路由表推荐它承办"
            f"{'、'.join(dict.fromkeys(claims[code]))}事项，其中{role.name}的任务（如审批延期）无人可办"
            for code, unit in sorted(units.items()) if not holders(org.session, role.code, unit)]


def _reviewers(org: _Org, role: Role) -> list[str]:
    """The county government reviews what county and township bodies answer; each township what its villages do."""
    problems = _body_gaps(org, role, org.review_bodies.county_government, "county_government", "县、乡两级")
    problems += [f"{_town(town)}没有人担任{role.name}：本乡镇村级答复的事项申请复查时无人办理"
                 for town in org.townships if not holders(org.session, role.code, town)]
    return problems


def _reexaminers(org: _Org, role: Role) -> list[str]:
    """The city government re-examines what the county government reviewed; the county government what a
    township reviewed."""
    return (_body_gaps(org, role, org.review_bodies.city_government, "city_government", "县、乡两级")
            + _body_gaps(org, role, org.review_bodies.county_government, "county_government", "村级"))


def _body_gaps(org: _Org, role: Role, code: str, key: str, answered_by: str) -> list[str]:
    unit = units_by_code(org.session, [code]).get(code)
    if unit is None:
        return [f"{role.name} {code}（review_bodies.yaml 的 {key}）不在组织机构中：{answered_by}答复的事项"
                f"申请{_ASKED[role.code]}时无人办理"]
    if not holders(org.session, role.code, unit):
        return [f"{unit.name}（{code}）没有人担任{role.name}：{answered_by}答复的事项申请{_ASKED[role.code]}时无人办理"]
    return []


def _covered_by_routing(org: _Org, role: Role) -> list[str]:
    return []  # 承办单位 and 分管领导: check_routing names the units and townships that lack them


def _town(town: OrgUnit) -> str:
    return f"{town.name}（{town.code}）"


_ASKED = {"review_body": "复查", "reexam_body": "复核"}

LANE_CHECKS: dict[str, Callable[[_Org, Role], list[str]]] = {
    "duty_secretary": _rota_gaps,
    "handling_unit": _covered_by_routing,
    "responsible_leader": _covered_by_routing,
    "agency_head": _unit_heads,
    "review_body": _reviewers,
    "reexam_body": _reexaminers,
}
"""Lanes whose tasks go by another rule than place (workflows.cases.access); every other lane: `_place_gaps`."""
