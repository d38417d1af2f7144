"""The org as the simulator reads it: the places, who holds which role where, and the reception rota.

The simulated staff ask it who acts on a task: the holder of a lane's role at the case's village, township or
handling unit, the responsible leader and handling unit the routing table gives, the duty pair of a reception day.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflows.cases.routing import RoutingRules, choose_handling_unit, responsible_leader
from workflows.cases.stand_in import BUREAU
from workflows.org.models import OrgUnit, Person, Position, RotaEntry


class County:
    """The org as the simulator needs it, read once: places, who holds which role where, the rota."""

    def __init__(self, session: Session, rules: RoutingRules, rng: random.Random):
        self.session, self.rules = session, rules
        self.villages: dict[str, list[str]] = {}
        self.township_of: dict[str, str] = {}
        self.grids: dict[str, list[str]] = {}
        rows = session.execute(select(OrgUnit.code, OrgUnit.level, OrgUnit.path)
                               .where(OrgUnit.kind == "area", OrgUnit.level.in_(("township", "village", "grid")))
                               .order_by(OrgUnit.path))
        for code, level, path in rows:
            parts = path.strip("/").split("/")
            if level == "township":
                self.villages.setdefault(code, [])
            elif level == "village":
                self.villages.setdefault(parts[-2], []).append(code)
                self.township_of[code] = parts[-2]
            else:
                self.grids.setdefault(parts[-2], []).append(code)
        self.all_villages = [v for town in sorted(self.villages) for v in self.villages[town]]
        # Some villages bring far more petitions than others; most bring few.
        self.weights = [rng.lognormvariate(0.0, 0.9) for _ in self.all_villages]
        self.holders: dict[tuple[str, str], list[str]] = {}
        for username, role, code in session.execute(
                select(Person.username, Position.role, OrgUnit.code)
                .join(Position, Position.person_id == Person.id).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                .order_by(Person.username)):
            self.holders.setdefault((role, code), []).append(username)
        self.bureau = self.holders_of(BUREAU)  # 县信访局: whoever holds its role, wherever the org puts it
        county = next((code for (role, code) in self.holders if role == "case_leader"), "")
        self.county_leaders = self.holders.get(("case_leader", county), ["case_leader"])
        self._leaders: dict[tuple[str, str], str] = {}
        self._units: dict[tuple[str, str, str | None], str] = {}
        self._rota: dict[date, dict[str, tuple[str, str]]] = {}

    def person(self, role: str, unit: str, fallback: str) -> str:
        """The first holder of `role` at `unit`, or `fallback` when nobody holds it."""
        found = self.holders.get((role, unit))
        return found[0] if found else fallback

    def holders_of(self, role: str) -> list[str]:
        """Everyone holding `role` at any unit, by username (as the stand-in rules find a body's staff)."""
        return sorted({name for (held, _unit), names in self.holders.items() if held == role for name in names})

    def anyone(self, role: str, fallback: str) -> str:
        """The first holder of `role` at any unit (by unit, then username), or `fallback` when nobody holds it."""
        return next((found[0] for (held, _unit), found in sorted(self.holders.items()) if held == role), fallback)

    def leader(self, township: str, category: str) -> str:
        """The responsible leader for a claim, as the routing table says (cached)."""
        key = (township, category)
        if key not in self._leaders:
            self._leaders[key] = responsible_leader(self.session, self.rules, township, category).username
        return self._leaders[key]

    def unit(self, category: str, township: str, accused: str | None = None) -> str:
        """The handling unit for a claim, never the accused one (cached)."""
        key = (category, township, accused)
        if key not in self._units:
            self._units[key] = choose_handling_unit(self.session, self.rules, category, township,
                                                    accused_unit=accused).code
        return self._units[key]

    def handler(self, unit: str) -> str:
        """The user who works a handling unit's tasks."""
        return self.person("handling_unit", unit, f"{unit}.handler")

    def on_duty(self, township: str, day: date) -> tuple[str, str]:
        """The duty secretary and township cadre at `township`'s reception room on `day`."""
        if day not in self._rota:
            secretary, cadre = aliased(Person), aliased(Person)
            rows = self.session.execute(
                select(OrgUnit.code, secretary.username, cadre.username).select_from(RotaEntry)
                .join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
                .join(secretary, secretary.id == RotaEntry.secretary_id)
                .join(cadre, cadre.id == RotaEntry.cadre_id).where(RotaEntry.day == day))
            self._rota = {day: {code: (s, c) for code, s, c in rows}}  # actions come in time order: keep one day
        duty = self._rota[day].get(township)
        if duty is not None:
            return duty
        village = (self.villages.get(township) or [township])[0]
        return (self.person("duty_secretary", village, f"{village}.secretary"),
                self.person("township_cadre", township, f"{township}.cadre"))
