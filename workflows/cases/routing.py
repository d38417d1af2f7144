"""Routing rules: which leader supervises a claim, and which unit handles it (never the accused one).

The rules live in two data files designers edit without Python: `data/responsible_leaders.yaml`
(domains, categories, per-township leader exceptions) and `data/handling_units.yaml` (units per category).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflows import DATA_DIR, DomainError, LineDict, ProblemLog, read_data_file
from workflows.cases.org_choice import handling_unit_refusal, refusal_of, units_with_handlers
from workflows.org.models import OrgUnit, Person
from workflows.org.tree import (
    UnknownPerson,
    UnknownUnit,
    find_unit,
    get_person,
    get_unit,
    holders,
    positions_of,
    units_at,
)

LEADER_ROLE = "responsible_leader"


class RoutingError(DomainError):
    """A claim cannot be routed: unknown category, no leader for its domain, or no allowed handling unit."""


class NoLeader(RoutingError):
    """No 分管领导 of the township holds the domain of the claims."""

    def __init__(self, town: OrgUnit, domain: str, domain_name: str, claims: list[Category]) -> None:
        self.town, self.domain = town, domain
        names = "、".join(f"{claim.name}（{claim.code}）" for claim in claims)
        super().__init__(
            f"{town.name}（{town.code}）没有分管{domain_name}（{domain}）的分管领导，{names}事项无人督办："
            f"请增加该职务或在路由表中设乡镇例外 ({town.code} has no 分管领导 for {domain}: add the position or a "
            "township exception)")


class NoHandlingUnit(RoutingError):
    """No candidate of the routing tables may handle the claim: each is missing, not an office, has nobody
    holding 承办单位, or is tied to the accused (it is, contains or lies inside an accused unit).

    `reason` is the Chinese part of the message, for a page to show a user."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason} ({detail})")


@dataclass(frozen=True)
class Category:
    """A claim category: English code, Chinese name, and the leader domain in charge of it."""

    code: str
    name: str
    domain: str


@dataclass(frozen=True)
class LeaderChoice:
    """A township's exception for one category: another domain's leader, or a named leader."""

    domain: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class RoutingRules:
    """The routing tables, as read from the two data files."""

    domains: Mapping[str, str]
    categories: Mapping[str, Category]
    leader_choices: Mapping[str, Mapping[str, LeaderChoice]]
    handlers: Mapping[str, tuple[str, ...]]
    township_handlers: Mapping[str, Mapping[str, tuple[str, ...]]]
    fallback_handlers: tuple[str, ...] = ()

    def category(self, code_or_name: str) -> Category:
        """Return the category with this code or Chinese name."""
        found = self.categories.get(code_or_name)
        if found is None:
            found = next((c for c in self.categories.values() if c.name == code_or_name.strip()), None)
        if found is None:
            known = ", ".join(f"{c.code} ({c.name})" for c in self.categories.values())
            raise RoutingError(f"unknown claim category {code_or_name!r} (known: {known})")
        return found

    def handler_candidates(self, township_code: str, category_code: str) -> tuple[str, ...]:
        """Return the unit codes to try for a category in a township, best first, without repeats."""
        ordered = (
            *self.township_handlers.get(township_code, {}).get(category_code, ()),
            *self.handlers.get(category_code, ()),
            *self.fallback_handlers,
        )
        return tuple(dict.fromkeys(ordered))


def responsible_leader(session: Session, rules: RoutingRules, township: str, category: str) -> Person:
    """Return the leader (分管领导) who supervises claims of `category` in `township` (a code or name)."""
    town = _township(session, township)
    claim = rules.category(category)
    choice = rules.leader_choices.get(town.code, {}).get(claim.code, LeaderChoice())
    if choice.username is not None:
        try:
            person = get_person(session, choice.username)
        except UnknownPerson as exc:
            raise RoutingError(f"{_where(town, claim)}事项指定由 {choice.username} 督办，但人员中没有这个用户名 "
                               f"({town.code}: {claim.code} is routed to {exc})") from exc
        if person not in holders(session, LEADER_ROLE, town):
            raise RoutingError(
                f"{_where(town, claim)}事项指定由 {choice.username} 督办，但此人在{town.name}没有分管领导职务 "
                f"({choice.username} is named for {claim.code} in {town.code} but holds no 分管领导 position there)"
            )
        return person
    domain = choice.domain or claim.domain
    leaders = holders(session, LEADER_ROLE, town, domain)
    if not leaders:
        raise NoLeader(town, domain, rules.domains.get(domain, domain), [claim])
    return leaders[0]  # several in one domain: the first by username, so the choice is stable


def choose_handling_unit(
    session: Session,
    rules: RoutingRules,
    category: str,
    township: str,
    *,
    accused_unit: str | None = None,
    accused_person: str | None = None,
) -> OrgUnit:
    """Return the first candidate of the routing tables that the handling-unit rule accepts.

    The rule is the one the forms apply (`workflows.cases.org_choice.refusal_of`): an office where somebody holds
    the 承办单位 role, never the accused unit (or the accused person's units) nor a unit above or below them
    (信访工作条例 Art. 30). So the form never refuses what this suggests. Accusations are no exception: the
    county discipline body (纪委监委) accepts them in its own lane, and when it names itself as handling unit its
    承办单位 staff do the statutory work, like any other unit's.
    """
    claim = rules.category(category)
    town = _township(session, township)
    accused: list[OrgUnit] = []
    if accused_unit is not None:
        try:
            accused.append(get_unit(session, accused_unit))
        except UnknownUnit as exc:
            raise RoutingError(f"accused unit: {exc}") from exc
    if accused_person is not None:
        accused.extend(position.unit for position in positions_of(session, accused_person))
    codes = rules.handler_candidates(town.code, claim.code)
    found = units_with_handlers(session, codes)
    refused: list[str] = []
    for code in codes:
        if code not in found:
            refused.append(f"{code}：不在组织机构中")
            continue
        unit, staffed = found[code]
        refusal = refusal_of(unit, staffed=staffed, accused=accused)
        if not refusal:
            return unit
        refused.append(f"{code}：{refusal}")
    raise NoHandlingUnit(
        f"{town.name}（{town.code}）的{claim.name}（{claim.code}）事项在路由表中没有可以承办的单位，"
        f"请报上一级机关交办。候选单位：{'；'.join(refused) or '无'}",
        f"no handling unit for {claim.code} in {town.code}: route it to the level above")


def check_handling_unit(session: Session, code: str, *, accused_unit: str | None = None,
                        accused_person: str | None = None) -> OrgUnit:
    """Return the handling unit named by `code`, or raise RoutingError saying why it cannot handle the case.

    The rule is `workflows.cases.org_choice.handling_unit_refusal`, the same the forms apply.
    """
    try:
        unit = get_unit(session, code.strip())
    except UnknownUnit:
        raise RoutingError(f"承办单位 {code!r} 不在组织机构中，请从组织机构中选择") from None
    refusal = handling_unit_refusal(session, unit, {"accused_unit": accused_unit, "accused_person": accused_person})
    if refusal:
        raise RoutingError(refusal)
    return unit


def suggested_units(session: Session, rules: RoutingRules) -> dict[tuple[str, str], OrgUnit | None]:
    """The handling unit the tables suggest for each (township code, category code) when nobody is accused; None
    where no candidate may handle it."""
    suggested: dict[tuple[str, str], OrgUnit | None] = {}
    for town in units_at(session, "township"):
        for claim in rules.categories.values():
            try:
                suggested[town.code, claim.code] = choose_handling_unit(session, rules, claim.code, town.code)
            except NoHandlingUnit:
                suggested[town.code, claim.code] = None
    return suggested


def check_routing(session: Session, rules: RoutingRules) -> list[str]:
    """What the stored org lacks for the routing tables, in plain Chinese naming the unit, township and category:
    exceptions for townships not in the org, listed units the suggestion never picks, claims of a township that no
    unit may handle or no leader supervises. Empty when all is well."""
    problems: list[str] = []
    townships = {unit.code: unit for unit in units_at(session, "township")}
    for code in sorted({*rules.leader_choices, *rules.township_handlers} - townships.keys()):
        problems.append(f"路由表的乡镇例外写了乡镇 {code}，但组织机构中没有这个乡镇")
    uses = _unit_uses(rules)
    found = units_with_handlers(session, uses)
    for code, used_for in sorted(uses.items()):
        if code not in found:
            problems.append(f"承办单位 {code} 不在组织机构中（路由表中用于{used_for}）")
        elif refusal := refusal_of(found[code][0], staffed=found[code][1], accused=()):
            problems.append(f"承办单位 {code} 永远不会被推荐：{refusal}（路由表中用于{used_for}）")
    unhandled: dict[tuple[str, tuple[str, ...]], list[OrgUnit]] = {}
    for (town_code, category), unit in suggested_units(session, rules).items():
        if unit is None:
            candidates = rules.handler_candidates(town_code, category)
            unhandled.setdefault((category, candidates), []).append(townships[town_code])
    for (category, candidates), towns in unhandled.items():
        problems.append(f"{_places(towns, len(townships))}的{_claim(rules, category)}事项在路由表中没有可以承办的单位："
                        f"候选单位{'、'.join(candidates) or '（无）'}都不能承办")
    for town in townships.values():
        unled: dict[str, list[Category]] = {}  # domain → its claims that nobody supervises here
        for claim in rules.categories.values():
            try:
                responsible_leader(session, rules, town.code, claim.code)
            except NoLeader as exc:
                unled.setdefault(exc.domain, []).append(claim)
            except RoutingError as exc:
                problems.append(str(exc))
        problems += [str(NoLeader(town, domain, rules.domains.get(domain, domain), claims))
                     for domain, claims in unled.items()]
    return problems


def _unit_uses(rules: RoutingRules) -> dict[str, str]:
    """Each unit code the tables name, with what it is listed for (categories, township exceptions, fallback)."""
    uses: dict[str, list[str]] = {}
    for category, codes in rules.handlers.items():
        for code in codes:
            uses.setdefault(code, []).append(_claim(rules, category))
    for town, table in rules.township_handlers.items():
        for category, codes in table.items():
            for code in codes:
                uses.setdefault(code, []).append(f"乡镇 {town} 的{_claim(rules, category)}")
    for code in rules.fallback_handlers:
        uses.setdefault(code, []).append("兜底单位")
    return {code: "、".join(dict.fromkeys(listed)) for code, listed in uses.items()}


def _claim(rules: RoutingRules, category: str) -> str:
    claim = rules.categories.get(category)
    return f"{claim.name}（{claim.code}）" if claim is not None else category


def _where(town: OrgUnit, claim: Category) -> str:
    return f"{town.name}（{town.code}）的{claim.name}（{claim.code}）"


def _places(towns: list[OrgUnit], of: int) -> str:
    """Townships as an operator reads them: every one, or each by name and code."""
    if len(towns) == of > 1:
        return f"所有 {of} 个乡镇"
    return "、".join(f"{town.name}（{town.code}）" for town in towns)


def _township(session: Session, township: str) -> OrgUnit:
    try:
        return find_unit(session, township, level="township")
    except UnknownUnit as exc:
        raise RoutingError(str(exc)) from exc


def load_routing_rules(leaders: Path | str | None = None, handling_units: Path | str | None = None) -> RoutingRules:
    """Read the routing rules (defaults: workflows/data/responsible_leaders.yaml and handling_units.yaml)."""
    leaders_file = Path(leaders) if leaders is not None else DATA_DIR / "responsible_leaders.yaml"
    units_file = Path(handling_units) if handling_units is not None else DATA_DIR / "handling_units.yaml"
    domains, categories, choices = _read_leaders(leaders_file)
    handlers, township_handlers, fallback = _read_handling_units(units_file, categories)
    return RoutingRules(domains, categories, choices, handlers, township_handlers, fallback)


def _read_leaders(
    source: Path,
) -> tuple[dict[str, str], dict[str, Category], dict[str, dict[str, LeaderChoice]]]:
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", "domains", "categories", "townships")) or LineDict()
    _check_version(log, doc)
    domains = {str(k): str(v) for k, v in _table(log, doc, "domains").items()}
    categories: dict[str, Category] = {}
    table = _table(log, doc, "categories")
    for code, raw in table.items():
        where = f"categories.{code}"
        entry = log.mapping(raw, table.line_of(code), where, ("name", "domain"))
        if entry is None:
            continue
        if entry.get("domain") not in domains:
            log.add(entry.line_of("domain"), f"{where}.domain", f"unknown domain {entry.get('domain')!r}")
        if not isinstance(entry.get("name"), str):
            log.add(entry.line, f"{where}.name", "missing the Chinese name")
        categories[str(code)] = Category(str(code), str(entry.get("name")), str(entry.get("domain")))
    choices: dict[str, dict[str, LeaderChoice]] = {}
    towns = _table(log, doc, "townships")
    for town, raw in towns.items():
        choices[str(town)] = {}
        for code, rule in _table(log, raw, None, towns.line_of(town), f"townships.{town}").items():
            where = f"townships.{town}.{code}"
            line = raw.line_of(code) if isinstance(raw, LineDict) else towns.line_of(town)
            entry = log.mapping(rule, line, where, ("domain", "leader"))
            if code not in categories:
                log.add(line, where, f"unknown category {code!r}")
            if entry is None:
                continue
            if len(entry) != 1:
                log.add(entry.line, where, "give either 'domain' or 'leader'")
            elif "domain" in entry and entry["domain"] not in domains:
                log.add(entry.line_of("domain"), f"{where}.domain", f"unknown domain {entry['domain']!r}")
            choices[str(town)][str(code)] = LeaderChoice(entry.get("domain"), entry.get("leader"))
    log.raise_if_any()
    return domains, categories, choices


def _read_handling_units(
    source: Path, categories: Mapping[str, Category]
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, tuple[str, ...]]], tuple[str, ...]]:
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", "categories", "fallback", "townships")) or LineDict()
    _check_version(log, doc)
    handlers = _unit_lists(log, _table(log, doc, "categories"), "categories", categories)
    fallback = _unit_list(log, doc.get("fallback", []), doc.line_of("fallback"), "fallback")
    per_town: dict[str, dict[str, tuple[str, ...]]] = {}
    towns = _table(log, doc, "townships")
    for town, raw in towns.items():
        table = _table(log, raw, None, towns.line_of(town), f"townships.{town}")
        per_town[str(town)] = _unit_lists(log, table, f"townships.{town}", categories)
    log.raise_if_any()
    return handlers, per_town, fallback


def _check_version(log: ProblemLog, doc: LineDict) -> None:
    if doc.get("version", 1) != 1:
        log.add(doc.line_of("version"), "version", f"unsupported version {doc['version']!r} (expected 1)")


def _table(log: ProblemLog, parent: Any, key: str | None, line: int = 0, where: str = "") -> LineDict:
    """Return parent[key] (or parent itself when key is None) if it is a mapping; else record a problem."""
    value = parent.get(key, {}) if key is not None else parent
    if isinstance(value, LineDict):
        return value
    if value == {} or value is None:
        return LineDict()
    log.add(parent.line_of(key) if key is not None else line, key or where, "expected a mapping")
    return LineDict()


def _unit_lists(
    log: ProblemLog, table: LineDict, where: str, categories: Mapping[str, Category]
) -> dict[str, tuple[str, ...]]:
    lists: dict[str, tuple[str, ...]] = {}
    for code, raw in table.items():
        if code not in categories:
            log.add(table.line_of(code), f"{where}.{code}", f"unknown category {code!r}")
        lists[str(code)] = _unit_list(log, raw, table.line_of(code), f"{where}.{code}")
    return lists


def _unit_list(log: ProblemLog, raw: Any, line: int, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        log.add(line, where, "expected a list of org unit codes")
        return ()
    return tuple(raw)
