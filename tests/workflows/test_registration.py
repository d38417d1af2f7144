"""Registration: repeats found by keyed ID-number hash and by claim text, linked; handling units and the bodies
that review a reply are checked against the org."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

import engine
from engine import read_bundle
from workflows.cases.access import task_place
from workflows.cases.org_choice import check_org_fields
from workflows.cases.record import CaseProjector, CaseRecord, id_number_key
from workflows.cases.review_bodies import NoReviewBody, ReviewBodies
from workflows.cases.routing import RoutingError, check_handling_unit
from workflows.cases.script_helpers import packaged_config, script_helpers
from workflows.intake.repeats import claim_similarity, earlier_cases
from workflows.org.importer import import_org_file
from workflows.org.roles import BY_LANE

BPMN = Path(__file__).parents[2] / "bpmn"
SECRET = "registration-test"
ID = "431224196504110529"


@pytest.fixture
def org(session: Session) -> Session:
    import_org_file(session, BPMN / "scenarios" / "org.yaml")
    session.commit()
    return session


@pytest.fixture
def desk(org: Session, clock: engine.FixedClock) -> Any:
    """An engine on the real diagrams with the case projector; `register(...)` registers a letter."""
    specs = engine.SpecStore()
    specs.deploy(org, read_bundle([BPMN]), "test", clock.now(), set(BY_LANE))
    projector = CaseProjector(org, SECRET, packaged_config().deadlines)
    eng = engine.Engine(org, clock, specs, helpers=script_helpers(org, secret=SECRET), task_scope=task_place,
                        observers=(projector,))

    def register(**data: Any) -> int:
        case_id = eng.start("petition", {}, "bureau1").instance.id
        task = next(t for t in eng.open_tasks(case_id) if t.element_id == "register")
        eng.complete_task(task.id, {"channel": "letter", "category": "dispute", "petitioner_name": "张秋菊",
                                    "township": "t01", **data}, "bureau1")
        org.commit()
        return case_id

    register.engine = eng  # type: ignore[attr-defined]
    return register


def test_repeats_are_found_by_keyed_id_number_and_by_similar_claim(org: Session, desk: Any):
    first = desk(id_number=ID, claim="邻居在公共排水沟上搭建猪圈，雨天污水倒灌进屋")
    elsewhere = desk(id_number=ID, township="t02", claim="承包地被占用")
    stranger = desk(id_number="431224198109230048", claim="危房改造补助未发放")
    record = org.get(CaseRecord, first)
    assert record.id_number_key == id_number_key(SECRET, ID) != ID and len(record.id_number_key) == 64
    assert ID not in record.id_number_key and id_number_key("another secret", ID) != record.id_number_key

    again = desk(id_number=ID.lower(), claim="还是排水沟的事")
    found = {c["instance_id"]: c["match"] for c in desk.engine.case_data(again)["repeat_candidates"]}
    assert found == {first: "id_number", elsewhere: "id_number"}
    # no ID number given: the same claim in the same township is still recognised, another township's is not
    anonymous = desk(claim="邻居在排水沟上搭猪圈，下雨污水倒灌")
    found = {c["instance_id"]: c["match"] for c in desk.engine.case_data(anonymous)["repeat_candidates"]}
    assert found == {first: "claim"}  # "还是排水沟的事" shares too little wording to count
    assert stranger not in found and elsewhere not in found
    assert [c.instance_id for c in earlier_cases(org, SECRET, ID, None, exclude=first)] == [elsewhere, again]


def test_the_registrar_links_a_repeat_to_the_first_case(org: Session, desk: Any):
    first = desk(id_number=ID, claim="邻居搭建猪圈堵塞排水沟")
    again = desk(id_number=ID, claim="邻居搭建猪圈堵塞排水沟")
    task = next(t for t in desk.engine.open_tasks(again) if t.element_id == "decide_registration")
    desk.engine.complete_task(task.id, {"decision": "accept", "notice": "已受理", "tier": "village",
                                        "repeat_of": first}, "bureau1")
    org.commit()
    assert org.get(CaseRecord, again).repeat_of == first


def test_claim_similarity_ignores_punctuation_and_blanks():
    assert claim_similarity("樟岩 社区，修路占地！", "樟岩社区修路占地") == 1.0
    assert claim_similarity("低保资格复核", "工地拖欠工资") == 0.0
    assert claim_similarity("", "任何诉求") == 0.0


@pytest.mark.parametrize(("code", "accused", "problem"), [
    ("t01v01", None, "不是机关单位"),
    ("t01v01g01", None, "不是机关单位"),
    ("county-justice", None, "没有可以办理的承办人员"),
    ("nowhere", None, "不在组织机构中"),
    ("t01-justice", "t01-justice", "应当回避"),
    ("t01-justice", "t01", "应当回避"),  # the accused township contains the office
])
def test_handling_units_must_be_offices_with_staff_and_not_the_accused(org: Session, code: str,
                                                                       accused: str | None, problem: str):
    with pytest.raises(RoutingError, match=problem):
        check_handling_unit(org, code, accused_unit=accused)


def test_a_handling_unit_of_an_accused_persons_kin_is_refused(org: Session):
    assert check_handling_unit(org, "t01-env").code == "t01-env"
    with pytest.raises(RoutingError, match="应当回避"):
        check_handling_unit(org, "t01-justice", accused_person="t01-justice.handler")


@pytest.mark.parametrize(("code", "accused"), [
    ("county-justice", {}),  # an office without 承办单位 staff
    ("t01-justice", {"accused_unit": "t01"}),  # inside the accused township
    ("t01-justice", {"accused_person": "t01-justice.handler"}),  # the accused person's own office
    ("t01-env", {"accused_unit": "t01-justice"}),  # allowed: a sibling office
])
def test_forms_and_diagram_scripts_apply_one_handling_unit_rule(org: Session, code: str, accused: dict[str, str]):
    form_errors = check_org_fields(org, {"handling_unit": code}, accused)
    try:
        check_handling_unit(org, code, **accused)
        script_problem = ""
    except RoutingError as refused:
        script_problem = str(refused)
    assert form_errors.get("handling_unit", "") == script_problem
    assert bool(script_problem) == (code != "t01-env")


def test_review_and_reexamination_each_sit_one_level_up(org: Session):
    bodies = ReviewBodies()
    assert bodies.for_handler(org, "t01v01") == ("t01", "county-government")  # a village's reply
    assert bodies.for_handler(org, "t01v01g01") == ("t01", "county-government")
    assert bodies.for_handler(org, "t01") == ("county-government", "city-government")
    assert bodies.for_handler(org, "t01-justice") == ("county-government", "city-government")
    assert bodies.for_handler(org, "county-housing") == ("county-government", "city-government")
    with pytest.raises(NoReviewBody):
        bodies.for_handler(org, "nowhere")
