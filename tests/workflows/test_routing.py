import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import DataFileError
from workflows.cases.org_choice import KIN_REFUSED, check_org_fields, handling_unit_refusal
from workflows.cases.routing import (
    LeaderChoice,
    NoHandlingUnit,
    RoutingError,
    RoutingRules,
    check_routing,
    choose_handling_unit,
    load_routing_rules,
    responsible_leader,
)
from workflows.org.demo import OFFICES, load_demo_org
from workflows.org.models import OrgUnit, Person, Position
from workflows.org.tree import are_related, get_unit, holders, units_at

FORMS = Path(__file__).parents[2] / "bpmn" / "forms"


def staff(session: Session, username: str, role: str, unit: str) -> None:
    """Give `unit` a person holding `role` there."""
    session.add(Person(username=username, display_name=username,
                       positions=[Position(role=role, unit=get_unit(session, unit))]))
    session.commit()


@pytest.fixture
def routed_org(small_org: Session) -> Session:
    """The small org, where the two bodies of the packaged fallback list also have someone holding 承办单位."""
    staff(small_org, "jw.handler", "handling_unit", "county-discipline")
    staff(small_org, "xf.handler", "handling_unit", "county-petition-bureau")
    return small_org


def test_leader_by_category_domain(small_org: Session, rules: RoutingRules):
    assert responsible_leader(small_org, rules, "t01", "land").username == "t01.leader1"
    assert responsible_leader(small_org, rules, "t01", "infrastructure").username == "t01.leader1"  # rural
    assert responsible_leader(small_org, rules, "t01", "labor").username == "t01.leader2"
    assert responsible_leader(small_org, rules, "青溪镇", "检举控告").username == "t01.leader2"  # names work too


def test_township_exceptions(small_org: Session, rules: RoutingRules):
    choices = {"t01": {"land": LeaderChoice(domain="social"), "dispute": LeaderChoice(username="t01.leader1")}}
    custom = RoutingRules(rules.domains, rules.categories, choices, rules.handlers, {}, rules.fallback_handlers)
    assert responsible_leader(small_org, custom, "t01", "land").username == "t01.leader2"
    assert responsible_leader(small_org, custom, "t01", "dispute").username == "t01.leader1"
    assert responsible_leader(small_org, custom, "t01", "housing").username == "t01.leader1"  # unchanged
    wrong = RoutingRules(rules.domains, rules.categories, {"t01": {"land": LeaderChoice(username="t02.leader1")}},
                         rules.handlers, {}, ())
    with pytest.raises(RoutingError, match="指定由 t02.leader1 督办，但此人在青溪镇没有分管领导职务"):
        responsible_leader(small_org, wrong, "t01", "land")


def test_missing_leader_or_category_is_a_clear_error(small_org: Session, rules: RoutingRules):
    with pytest.raises(RoutingError, match="云岭乡（t02）没有分管国土城建（land）的分管领导，土地征收（land）"):
        responsible_leader(small_org, rules, "t02", "land")
    with pytest.raises(RoutingError, match="unknown claim category 'weather'"):
        responsible_leader(small_org, rules, "t01", "weather")
    with pytest.raises(RoutingError, match="no township unit with code or name 't01v01'"):
        responsible_leader(small_org, rules, "t01v01", "land")


def test_check_routing_lists_what_the_org_lacks(small_org: Session, rules: RoutingRules):
    problems = check_routing(small_org, rules)
    assert not any("乡镇例外写了" in p for p in problems)  # the shipped table names no township
    elsewhere = {"t03": {"infrastructure": LeaderChoice(domain="land")}}
    custom = RoutingRules(rules.domains, rules.categories, elsewhere, rules.handlers, {}, rules.fallback_handlers)
    assert "路由表的乡镇例外写了乡镇 t03，但组织机构中没有这个乡镇" in check_routing(small_org, custom)
    assert "承办单位 county-housing 不在组织机构中（路由表中用于住房建设（housing））" in problems
    assert ("承办单位 county-petition-bureau 永远不会被推荐：县信访局没有可以办理的承办人员，请另选承办单位"
            "（路由表中用于其他（other）、兜底单位）") in problems
    # one line per domain a township lacks, naming the claims nobody supervises there
    assert ("云岭乡（t02）没有分管国土城建（land）的分管领导，"
            "土地征收（land）、住房建设（housing）、生态环境（environment）事项无人督办："
            "请增加该职务或在路由表中设乡镇例外 "
            "(t02 has no 分管领导 for land: add the position or a township exception)") in problems
    assert sum(p.startswith("云岭乡（t02）没有分管") for p in problems) == 4  # land, social, law, discipline
    assert not any("青溪镇" in p for p in problems)
    assert ("所有 2 个乡镇的其他（other）事项在路由表中没有可以承办的单位："
            "候选单位county-petition-bureau、county-discipline都不能承办") in problems


def test_check_routing_names_the_townships_whose_claims_no_unit_may_handle(small_org: Session, rules: RoutingRules):
    only = RoutingRules(rules.domains, rules.categories, {}, {**rules.handlers, "land": ("county-housing",)},
                        {"t02": {"land": ("t01-justice",)}}, ())
    problems = check_routing(small_org, only)
    assert ("青溪镇（t01）的土地征收（land）事项在路由表中没有可以承办的单位："
            "候选单位county-housing都不能承办") in problems
    assert not any(p.startswith("云岭乡（t02）的土地征收") for p in problems)  # its exception has a handler


def test_default_handling_unit(routed_org: Session, rules: RoutingRules):
    assert choose_handling_unit(routed_org, rules, "land", "t01").code == "county-natural-resources"
    assert choose_handling_unit(routed_org, rules, "检举控告", "t01").code == "county-discipline"
    # county-housing is not in the small org: the fallback list answers
    assert choose_handling_unit(routed_org, rules, "housing", "t01").code == "county-discipline"


def test_accusation_never_reaches_the_accused_unit(routed_org: Session, rules: RoutingRules):
    unit = choose_handling_unit(routed_org, rules, "land", "t01", accused_unit="county-natural-resources")
    assert unit.code == "county-discipline"
    unit = choose_handling_unit(routed_org, rules, "accusation", "t01", accused_unit="county-discipline")
    assert unit.code == "county-petition-bureau"
    # a village is accused: county offices are neither inside nor above it
    assert choose_handling_unit(routed_org, rules, "land", "t01", accused_unit="t01v01").code == (
        "county-natural-resources"
    )


def test_accused_person_excludes_every_unit_they_work_in(routed_org: Session, rules: RoutingRules):
    unit = choose_handling_unit(routed_org, rules, "land", "t01", accused_person="nr.handler")
    assert unit.code == "county-discipline"


def test_township_handlers_exclude_kin_of_the_accused(routed_org: Session, rules: RoutingRules):
    local = RoutingRules(rules.domains, rules.categories, {}, rules.handlers,
                         {"t01": {"dispute": ("t01-justice",)}}, rules.fallback_handlers)
    assert choose_handling_unit(routed_org, local, "dispute", "t01").code == "t01-justice"
    # the township itself is accused: its own office lies inside it; then county-justice has nobody holding
    # 承办单位 and county-public-security is not in the org, so the fallback answers
    assert choose_handling_unit(routed_org, local, "dispute", "t01", accused_unit="t01").code == "county-discipline"


def test_no_unit_left_is_a_domain_error(routed_org: Session, rules: RoutingRules):
    with pytest.raises(NoHandlingUnit) as caught:
        choose_handling_unit(routed_org, rules, "land", "t01", accused_unit="xupu")
    # names the township, the category and why each candidate was passed over
    assert str(caught.value).startswith(
        "青溪镇（t01）的土地征收（land）事项在路由表中没有可以承办的单位，请报上一级机关交办。")
    assert f"county-natural-resources：{KIN_REFUSED}；county-discipline：{KIN_REFUSED}" in str(caught.value)
    only = RoutingRules(rules.domains, rules.categories, {}, {"land": ("county-natural-resources",)}, {}, ())
    with pytest.raises(NoHandlingUnit, match="route it to the level above"):
        choose_handling_unit(routed_org, only, "land", "t01", accused_unit="county-natural-resources")
    with pytest.raises(RoutingError, match="accused unit: no org unit with code 'ghost'"):
        choose_handling_unit(routed_org, rules, "land", "t01", accused_unit="ghost")


def test_no_accused_unit_is_ever_chosen(routed_org: Session, rules: RoutingRules):
    units = routed_org.scalars(select(OrgUnit)).all()
    for accused in units:
        for category in rules.categories:
            try:
                chosen = choose_handling_unit(routed_org, rules, category, "t01", accused_unit=accused.code)
            except NoHandlingUnit:
                continue
            assert not are_related(chosen, accused), (category, accused.code, chosen.code)
            assert handling_unit_refusal(routed_org, chosen, {"accused_unit": accused.code}) == ""
    assert get_unit(routed_org, "xupu") in units


def test_an_office_nobody_handles_at_and_an_area_are_skipped_for_the_next_staffed_office(
        routed_org: Session, rules: RoutingRules):
    table = {"t01": {"land": ("t01v01", "county-justice", "t01-justice")}}
    local = RoutingRules(rules.domains, rules.categories, {}, rules.handlers, table, rules.fallback_handlers)
    chosen = choose_handling_unit(routed_org, local, "land", "t01")
    assert chosen.code == "t01-justice"
    for code in ("t01v01", "county-justice"):  # what was skipped, the form refuses too
        assert check_org_fields(routed_org, {"handling_unit": code}, {}), code
    assert check_org_fields(routed_org, {"handling_unit": chosen.code}, {}) == {}
    # the other township has no exception: the category's own unit
    assert choose_handling_unit(routed_org, local, "land", "t02").code == "county-natural-resources"


def test_a_discipline_body_nobody_handles_at_is_not_suggested_for_accusations(small_org: Session,
                                                                              rules: RoutingRules):
    """The discipline body accepts accusations in its own lane (纪委监委); as the handling unit it needs someone
    holding 承办单位 like any other unit, or the form, the diagram's check and the 承办单位 tasks would find nobody."""
    staff(small_org, "jw.staff", "discipline", "county-discipline")
    staff(small_org, "xf.handler", "handling_unit", "county-petition-bureau")
    discipline = get_unit(small_org, "county-discipline")
    assert handling_unit_refusal(small_org, discipline, {}) == "县纪委监委没有可以办理的承办人员，请另选承办单位"
    assert choose_handling_unit(small_org, rules, "accusation", "t01").code == "county-petition-bureau"
    staff(small_org, "jw.handler", "handling_unit", "county-discipline")
    assert choose_handling_unit(small_org, rules, "accusation", "t01").code == "county-discipline"


def test_the_form_accepts_every_unit_the_demo_county_is_suggested(session: Session, rules: RoutingRules):
    """Every category in every township, and every accusation against a county office or its staff: the suggested
    unit passes the forms' rule; accusations go to the discipline body, whose staff accept them."""
    load_demo_org(session, grid_workers=False)
    townships = [town.code for town in units_at(session, "township")]
    for town in townships:
        for category in rules.categories:
            chosen = choose_handling_unit(session, rules, category, town)
            assert check_org_fields(session, {"handling_unit": chosen.code}, {}) == {}, (town, category)
            if category == "accusation":
                assert chosen.code == "county-discipline"
                assert holders(session, "discipline", chosen)
    for office, _name in OFFICES:
        for accused in ({"accused_unit": office}, {"accused_person": f"{office}.handler"}):
            chosen = choose_handling_unit(session, rules, "accusation", townships[0], **accused)
            assert check_org_fields(session, {"handling_unit": chosen.code}, accused) == {}, (accused, chosen.code)
            assert chosen.code == ("county-petition-bureau" if office == "county-discipline" else "county-discipline")


def test_packaged_rules_cover_every_category_the_forms_offer(rules: RoutingRules):
    offered: set[str] = set()
    for form in FORMS.glob("*.json"):
        schema = json.loads(form.read_text(encoding="utf-8"))
        offered.update(schema.get("properties", {}).get("category", {}).get("enum", []))
    assert offered, "no form offers a category any more"
    assert offered <= set(rules.categories)
    assert all(rules.handlers.get(code) for code in rules.categories)


def test_rules_file_errors_name_line_and_field(tmp_path: Path):
    leaders = tmp_path / "leaders.yaml"
    leaders.write_text(
        "domains: {land: 国土城建}\n"
        "categories:\n"
        "  land: {name: 土地征收, domain: land}\n"
        "  water: {name: 水利, domain: rivers}\n"
        "townships:\n"
        "  t01:\n"
        "    land: {domain: land, leader: someone}\n"
        "    snow: {domain: land}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        load_routing_rules(leaders, tmp_path / "absent.yaml")
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "categories.water.domain: unknown domain 'rivers'",
        "townships.t01.land: give either 'domain' or 'leader'",
        "townships.t01.snow: unknown category 'snow'",
    ]
    assert [p.line for p in caught.value.problems] == [4, 7, 8]
    units = tmp_path / "units.yaml"
    leaders.write_text("domains: {land: 国土城建}\ncategories:\n  land: {name: 土地征收, domain: land}\n",
                       encoding="utf-8")
    units.write_text("categories:\n  land: county-natural-resources\n  snow: [x]\nfallback: [y]\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_routing_rules(leaders, units)
    assert [str(p) for p in caught.value.problems] == [
        f"{units}:2: categories.land: expected a list of org unit codes",
        f"{units}:3: categories.snow: unknown category 'snow'",
    ]
