"""The role catalogue: every role of the petition routes, its BPMN lane name and the org level it works at."""

from __future__ import annotations

from dataclasses import dataclass

from workflows import DomainError

LEVELS: tuple[str, ...] = ("county", "township", "village", "grid")
"""Org levels from the top down; a child area sits exactly one level below its parent."""

LEVEL_NAMES: dict[str, str] = {"county": "县", "township": "乡镇", "village": "村（社区）", "grid": "网格"}


class UnknownRole(DomainError):
    """A role code or lane name that is not in the catalogue."""


@dataclass(frozen=True)
class Role:
    """A role: English code, Chinese name (the BPMN lane name) and the level where its positions sit."""

    code: str
    name: str
    level: str | None
    description: str
    aliases: tuple[str, ...] = ()
    also_at: tuple[str, ...] = ()

    @property
    def is_staff(self) -> bool:
        """Tell whether people hold this role through positions (petitioners do not)."""
        return self.level is not None

    def works_at(self, level: str) -> bool:
        """Tell whether a position of this role may sit on an org unit of `level`."""
        return level == self.level or level in self.also_at


ROLES: tuple[Role, ...] = (
    Role("petitioner", "信访人", None, "brings the claim, queries it by query code, rates the outcome"),
    Role("grid_worker", "网格员", "grid", "visits households, records issues, mediates small ones"),
    Role("village_cadre", "村干部", "village", "resolves general issues in the village; one of the four teams",
         ("村支两委", "村支两委干部")),
    Role("duty_secretary", "坐班村支书", "village", "village secretary on duty in the reception room"),
    Role("township_cadre", "乡镇信访干部", "township", "co-handles every visit at the reception room"),
    Role("responsible_leader", "分管领导", "township", "supervises the claims of the domains held"),
    Role("handling_unit", "承办单位", "county", "handles an assigned case, reports back", also_at=("township",)),
    Role("agency_head", "承办单位负责人", "county", "head of a handling agency: approves extensions of its cases",
         also_at=("township",)),
    Role("review_body", "复查机关", "county", "decides reviews (复查) of cases handled one level below",
         also_at=("township",)),
    Role("reexam_body", "复核机关", "county", "decides re-examinations (复核), one level above the review"),
    Role("discipline", "纪委监委", "county", "receives and handles accusations (检举控告)"),
    Role("backer_unit_head", "后盾帮扶县直联村单位负责人", "village",
         "head of the county unit that backs the village; one of the four teams"),
    Role("village_liaison", "包村乡镇干部", "village",
         "township cadre in charge of the village; one of the four teams, convenes the consultation"),
    Role("work_team", "驻村乡村振兴工作队", "village",
         "rural revitalisation team stationed in the village; one of the four teams"),
    Role("legal_adviser", "法律顾问", "village", "the village's legal adviser: handles unlawful conduct by law"),
    Role(
        "mediation_panel",
        "金牌调解室",
        "village",
        "the village's gold mediation room: judges whether a claim is reasonable",
        also_at=("township",),
    ),
    Role("case_leader", "包案领导", "county", "county leader personally taking a backlog case"),
    Role("county_bureau", "县信访局", "county", "registers, routes, supervises; the monthly report"),
    Role("auditor", "审计督查", "county", "reads and replays case histories; changes nothing", ("审计/督查",)),
    Role("designer", "流程设计", "county", "edits the BPMN diagrams and forms"),
)

FOUR_TEAMS: tuple[str, ...] = ("backer_unit_head", "village_liaison", "work_team", "village_cadre")
"""The four teams (四支队伍) meeting at the village office, each a role of its own."""

BY_CODE: dict[str, Role] = {role.code: role for role in ROLES}
BY_LANE: dict[str, Role] = {name: role for role in ROLES for name in (role.name, *role.aliases)}


def role_by_code(code: str) -> Role:
    """Return the role with English `code`."""
    try:
        return BY_CODE[code]
    except KeyError:
        raise UnknownRole(f"unknown role code {code!r} (known: {', '.join(BY_CODE)})") from None


def role_by_lane(lane: str) -> Role:
    """Return the role whose Chinese name (a BPMN lane name) is `lane`."""
    try:
        return BY_LANE[lane.strip()]
    except KeyError:
        raise UnknownRole(f"no role for lane {lane!r} (known lanes: {', '.join(BY_LANE)})") from None


def find_role(code_or_name: str) -> Role:
    """Return the role named by its English code or its Chinese name."""
    role = BY_CODE.get(code_or_name) or BY_LANE.get(code_or_name.strip())
    if role is None:
        hint = "use a code like grid_worker or a lane name like 网格员"
        raise UnknownRole(f"unknown role {code_or_name!r} ({hint})")
    return role
