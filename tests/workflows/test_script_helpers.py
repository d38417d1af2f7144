from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from workflows.cases.routing import RoutingError
from workflows.cases.script_helpers import ScriptArgumentError, load_domain_config, packaged_config, script_helpers

NAMES = {"add_days", "add_working_days", "end_of_workday", "statutory_deadline", "responsible_leader", "report_month",
         "first_day_of_next_month", "monthly_figures", "monthly_assessment", "extended_deadline", "earlier_cases",
         "handling_unit_problem", "review_bodies", "time_limit"}


@pytest.fixture
def helpers(small_org: Session) -> dict:
    return script_helpers(small_org, load_domain_config())


def test_the_named_helpers(helpers: dict):
    assert set(helpers) == NAMES


def test_day_arithmetic_in_and_out_as_iso(helpers: dict):
    assert helpers["add_days"]("2025-03-07T10:00:00+08:00", 3) == "2025-03-10T02:00:00+00:00"
    assert helpers["add_days"]("2025-03-07T02:00:00Z", -7) == "2025-02-28T02:00:00+00:00"
    # Friday 10:00 + 1 working day = Monday 10:00 (Shanghai), given in UTC like now()
    assert helpers["add_working_days"]("2025-03-07T02:00:00+00:00", 1) == "2025-03-10T02:00:00+00:00"
    # over the 国庆节 holiday
    assert helpers["add_working_days"]("2025-09-30T09:00:00+08:00", 1) == "2025-10-09T01:00:00+00:00"
    assert helpers["add_days"]("2025-03-07", 1) == "2025-03-07T16:00:00+00:00"  # a bare date is local midnight


def test_end_of_workday(helpers: dict):
    assert helpers["end_of_workday"]("2025-03-05T10:00:00+08:00") == "2025-03-05T09:30:00+00:00"
    assert helpers["end_of_workday"]("2025-03-07T19:00:00+08:00") == "2025-03-10T09:30:00+00:00"  # Friday night
    assert helpers["end_of_workday"]("2025-10-08" + "T00:00:00+08:00") == "2025-10-09T09:30:00+00:00"


def test_statutory_deadline(helpers: dict):
    assert helpers["statutory_deadline"]("acceptance_days", "2025-03-03T09:00:00+08:00") == "2025-03-18T09:30:00+00:00"


def test_report_month_is_the_previous_local_month(helpers: dict):
    assert helpers["report_month"]("2025-03-01T09:00:00+08:00") == "2025-02"
    assert helpers["report_month"]("2025-01-15T00:00:00+08:00") == "2024-12"
    # 2025-02-28 16:30 UTC is already 1 March in Shanghai
    assert helpers["report_month"]("2025-02-28T16:30:00+00:00") == "2025-02"
    assert helpers["report_month"]("2025-02-28T15:30:00+00:00") == "2025-01"


def test_first_day_of_next_month_at_nine(helpers: dict):
    assert helpers["first_day_of_next_month"]("2025-03-17T15:00:00+08:00") == "2025-04-01T01:00:00+00:00"
    assert helpers["first_day_of_next_month"]("2025-12-31T23:59:00+08:00") == "2026-01-01T01:00:00+00:00"
    assert helpers["first_day_of_next_month"]("2025-03-31T16:30:00Z") == "2025-05-01T01:00:00+00:00"


def test_results_are_aware_iso_strings(helpers: dict):
    for name in ("add_days", "add_working_days"):
        assert datetime.fromisoformat(helpers[name]("2025-03-03T09:00:00+08:00", 2)).utcoffset() is not None
    assert datetime.fromisoformat(helpers["end_of_workday"]("2025-03-03T09:00:00+08:00")).tzinfo is not None


def test_responsible_leader_gives_the_username(helpers: dict):
    assert helpers["responsible_leader"]("t01", "land") == "t01.leader1"
    assert helpers["responsible_leader"]("青溪镇", "劳动就业") == "t01.leader2"
    with pytest.raises(RoutingError, match="has no 分管领导"):
        helpers["responsible_leader"]("t02", "land")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda h: h["add_days"]("2025-03-07T10:00:00", 1), "add_days: '2025-03-07T10:00:00' has no time zone"),
        (lambda h: h["end_of_workday"]("next friday"), "end_of_workday: 'next friday' is not an ISO 8601"),
        (lambda h: h["add_working_days"]("2025-03-07T10:00:00Z", True), "must be a whole number, not True"),
        (lambda h: h["add_days"]("2025-03-07T10:00:00Z", 1.5), "must be a whole number, not 1.5"),
        (lambda h: h["report_month"](20250307), "report_month: expected an ISO 8601 text, not int"),
    ],
)
def test_bad_arguments_are_explained(helpers: dict, call, message: str):
    with pytest.raises(ScriptArgumentError, match=message):
        call(helpers)


def test_default_config_is_the_packaged_data(small_org: Session):
    assert packaged_config() is packaged_config()
    assert script_helpers(small_org)["add_working_days"]("2025-09-30T09:00:00+08:00", 1) == (
        "2025-10-09T01:00:00+00:00"
    )
