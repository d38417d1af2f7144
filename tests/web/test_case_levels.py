"""The case record's columns for the county counts, filled by the projector from case data (issue #11)."""

from __future__ import annotations

from workflows.cases.record import CaseRecord


def record(services, case_id: int) -> CaseRecord:
    with services.unit_of_work() as session:
        row = session.get(CaseRecord, case_id)
        session.expunge(row)
        return row


def test_a_visit_the_bureau_registers_was_made_at_the_county(desk, services):
    case = record(services, desk.petition(channel="visit", tier="township"))
    assert (case.visit_level, case.handed_down_from, case.competent_level) == ("county", None, "township")


def test_a_visit_handed_down_from_the_province_was_made_at_the_province(desk, services):
    case = record(services, desk.petition(channel="visit", handed_down_from="province", tier="county"))
    assert (case.visit_level, case.handed_down_from, case.competent_level) == ("province", "province", "county")


def test_a_letter_handed_down_from_the_city_is_no_visit(desk, services):
    case = record(services, desk.petition(handed_down_from="city", competent_level="city"))
    assert (case.visit_level, case.handed_down_from, case.competent_level) == (None, "city", "city")


def test_a_reception_room_visit_was_made_at_the_township_and_unknown_levels_are_ignored(desk, services):
    case = record(services, desk.visit(handed_down_from="mars", visit_level="moon"))
    assert (case.visit_level, case.handed_down_from) == ("township", None)


def test_an_explicit_visit_level_wins(desk, services):
    case = record(services, desk.petition(channel="visit", visit_level="national"))
    assert case.visit_level == "national"


def test_the_petitioners_rating_on_the_query_page_is_marked_as_theirs(desk, services):
    case_id = desk.petition()
    desk.complete(case_id, "village_resolve", {"resolved": True, "resolution_note": "已协调", "outcome": "support",
                                               "reply": "已拆除猪圈"}, "t01v01.cadre")
    desk.complete(case_id, "rate", {"satisfaction": "satisfied"}, "petitioner")
    case = record(services, case_id)
    assert (case.satisfaction, case.rating_source) == ("satisfied", "petitioner") and case.rated_at is not None


def test_a_rating_typed_in_by_staff_is_marked_as_staff(desk, services):
    case_id = desk.petition()
    desk.complete(case_id, "village_resolve", {"resolved": True, "resolution_note": "已协调", "outcome": "support",
                                               "reply": "已拆除猪圈"}, "t01v01.cadre")
    desk.complete(case_id, "rate", {"satisfaction": "basic"}, "t01v01.cadre")
    assert record(services, case_id).rating_source == "staff"


def test_the_bureau_records_a_visit_handed_down_from_the_city_on_the_registration_form(browser, desk, services):
    bureau = browser("bureau1")
    case_id = desk.start("petition", {}, "bureau1")
    task_id = desk.task(case_id, "register").id
    assert "市级交办" in bureau.get(f"/tasks/{task_id}").text
    data = {"channel": "visit", "handed_down_from": "city", "category": "dispute", "petitioner_name": "李某",
            "headcount": "1", "township": "t01", "village": "t01v01", "claim": "宅基地界址纠纷",
            "confidentiality_requested": "false"}
    assert bureau.post(f"/tasks/{task_id}", data).status_code == 302
    desk.complete(case_id, "decide_registration", {"decision": "accept", "notice": "已受理", "tier": "township"},
                  "bureau1")  # the registrar's decision names the first tier
    case = record(services, case_id)
    assert (case.handed_down_from, case.visit_level, case.competent_level) == ("city", "city", "township")
