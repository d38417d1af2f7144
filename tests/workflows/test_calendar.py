from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows import DataFileError
from workflows.cases.calendar import CalendarError, Deadlines, WorkCalendar, load_deadlines, load_work_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_weekends_holidays_and_makeup_days(calendar: WorkCalendar):
    assert calendar.is_workday(date(2025, 3, 7))  # Friday
    assert not calendar.is_workday(date(2025, 3, 8))  # Saturday
    assert not calendar.is_workday(date(2025, 10, 3))  # 国庆节, a Friday
    assert calendar.is_workday(date(2025, 9, 28))  # Sunday worked for 国庆节 (调休)
    assert calendar.is_workday(date(2025, 10, 11))  # Saturday worked
    assert len(calendar.workdays(date(2025, 10, 1), date(2025, 10, 31))) == 18


def test_working_days_skip_the_weekend(calendar: WorkCalendar):
    friday = local(2025, 3, 7, 10, 0)
    assert calendar.add_working_days(friday, 1) == local(2025, 3, 10, 10, 0)
    assert calendar.add_working_days(friday, 5) == local(2025, 3, 14, 10, 0)
    assert calendar.add_working_days(local(2025, 3, 8, 9, 0), 1) == local(2025, 3, 10, 9, 0)  # from Saturday
    assert calendar.add_working_days(local(2025, 3, 10, 9, 0), -1) == local(2025, 3, 7, 9, 0)
    assert calendar.add_working_days(friday, 0) == friday


def test_working_days_skip_a_holiday_and_count_makeup_days(calendar: WorkCalendar):
    assert calendar.add_working_days(local(2025, 9, 30, 9, 0), 1) == local(2025, 10, 9, 9, 0)
    assert calendar.add_working_days(local(2025, 9, 26, 9, 0), 1) == local(2025, 9, 28, 9, 0)
    # 9-30, 10-09, 10-10, 10-11 (a Saturday worked), 10-13: five working days
    assert calendar.add_working_days(local(2025, 9, 29, 11, 0), 5) == local(2025, 10, 13, 11, 0)
    objection = Deadlines().due("objection_working_days", local(2025, 9, 29, 11, 0), calendar)
    assert objection == local(2025, 10, 13, 17, 30)


def test_calendar_days_and_their_deadline(calendar: WorkCalendar):
    accepted = local(2025, 8, 2, 15, 0)
    assert calendar.add_days(accepted, 60) == local(2025, 10, 1, 15, 0)
    # day 60 falls in the 国庆节 holiday: the period runs to the end of the next workday
    assert Deadlines().due("handling_days", accepted, calendar) == local(2025, 10, 9, 17, 30)
    assert Deadlines().due("acceptance_days", local(2025, 3, 3, 9, 0), calendar) == local(2025, 3, 18, 17, 30)
    with pytest.raises(CalendarError, match="unknown time limit 'group_visit_threshold'"):
        Deadlines().due("group_visit_threshold", accepted, calendar)


def test_end_of_workday(calendar: WorkCalendar):
    assert calendar.end_of_workday(local(2025, 3, 5, 10, 0)) == local(2025, 3, 5, 17, 30)
    assert calendar.end_of_workday(local(2025, 3, 5, 17, 29)) == local(2025, 3, 5, 17, 30)
    assert calendar.end_of_workday(local(2025, 3, 5, 17, 30)) == local(2025, 3, 6, 17, 30)
    assert calendar.end_of_workday(local(2025, 3, 5, 18, 0)) == local(2025, 3, 6, 17, 30)
    assert calendar.end_of_workday(local(2025, 3, 7, 19, 0)) == local(2025, 3, 10, 17, 30)  # Friday evening
    assert calendar.end_of_workday(local(2025, 3, 8, 10, 0)) == local(2025, 3, 10, 17, 30)  # Saturday
    assert calendar.end_of_workday(local(2025, 9, 30, 18, 0)) == local(2025, 10, 9, 17, 30)  # before 国庆节


def test_utc_moments_are_read_in_local_time(calendar: WorkCalendar):
    # 09:45 UTC is 17:45 in Shanghai: past the end of that workday
    result = calendar.end_of_workday(datetime(2025, 3, 5, 9, 45, tzinfo=UTC))
    assert result == local(2025, 3, 6, 17, 30)
    assert result.tzinfo == SHANGHAI
    assert calendar.end_of_workday(datetime(2025, 3, 5, 9, 0, tzinfo=UTC)) == local(2025, 3, 5, 17, 30)


def test_naive_datetimes_are_refused(calendar: WorkCalendar):
    with pytest.raises(CalendarError, match="naive datetime"):
        calendar.end_of_workday(datetime(2025, 3, 5, 10, 0))


def test_configurable_end_of_workday_and_holidays():
    custom = WorkCalendar(workday_end=time(18, 0), holidays=frozenset({date(2025, 3, 6)}))
    assert custom.end_of_workday(local(2025, 3, 5, 17, 45)) == local(2025, 3, 5, 18, 0)
    assert custom.end_of_workday(local(2025, 3, 5, 18, 30)) == local(2025, 3, 7, 18, 0)


def test_packaged_deadlines_are_the_statutory_defaults():
    assert load_deadlines() == Deadlines()
    limits = Deadlines().day_limits()
    assert limits["registration_days"] == limits["acceptance_days"] == 15
    assert limits["objection_working_days"] == 5
    assert (limits["handling_days"], limits["extension_max_days"]) == (60, 30)
    assert Deadlines().group_visit_threshold == 5 and Deadlines().is_group_visit(5)
    assert not Deadlines().is_group_visit(4)


def test_deadlines_file_overrides_and_errors(tmp_path: Path):
    good = tmp_path / "deadlines.yaml"
    good.write_text("version: 1\nhandling_days: 45\ngroup_visit_threshold: 3\n", encoding="utf-8")
    loaded = load_deadlines(good)
    assert (loaded.handling_days, loaded.group_visit_threshold, loaded.acceptance_days) == (45, 3, 15)
    bad = tmp_path / "bad.yaml"
    bad.write_text("handling_days: -1\nhandling_dayz: 60\nreview_request_days: true\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_deadlines(bad)
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "handling_days: expected a whole number of at least 1, not -1",
        "handling_dayz: unknown field (expected one of version, registration_days, acceptance_days, "
        "objection_working_days, handling_days, extension_max_days, review_request_days, "
        "review_decision_days, reexam_request_days, reexam_decision_days, group_visit_threshold, village_days, "
        "township_days, rating_days, online_respond_days, online_claim_days, online_answer_days, "
        "online_feedback_days)",
        "review_request_days: expected a whole number of at least 1, not True",
    ]
    assert [p.line for p in caught.value.problems] == [1, 2, 3]


def test_calendar_file(tmp_path: Path):
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "end_of_workday: 17:00\n"  # unquoted: YAML reads base 60, still understood
        "holidays:\n  - {name: 节, from: 2030-05-01, to: 2030-05-03}\n  - 2030-06-03\n"
        "makeup_workdays: [2030-05-04]\n",
        encoding="utf-8",
    )
    loaded = load_work_calendar(path)
    assert loaded.workday_end == time(17, 0)
    assert loaded.holidays == {date(2030, 5, 1), date(2030, 5, 2), date(2030, 5, 3), date(2030, 6, 3)}
    assert loaded.is_workday(date(2030, 5, 4)) and not loaded.is_workday(date(2030, 6, 3))


def test_calendar_file_errors(tmp_path: Path):
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "timezone: Mars/Olympus\n"
        "end_of_workday: late\n"
        "holidays:\n  - {name: 节, from: 2030-05-03, to: 2030-05-01}\n  - 2030-13-01\n  - {name: 无}\n"
        "makeup_workdays: [2030-06-03]\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        load_work_calendar(path)
    text = str(caught.value)
    assert "calendar.yaml:1: timezone: unknown time zone 'Mars/Olympus'" in text
    assert "calendar.yaml:2: end_of_workday: expected a time like \"17:30\", not 'late'" in text
    assert "calendar.yaml:4: holidays[0].to: 2030-05-01 must fall within 31 days after 2030-05-03" in text
    assert "calendar.yaml:5: holidays[1]: expected a date like 2025-10-01, not '2030-13-01'" in text
    assert "calendar.yaml:6: holidays[2]: missing 'from' (the first day off)" in text


def test_packaged_calendar_covers_2024_to_2026(calendar: WorkCalendar):
    assert calendar.timezone == SHANGHAI and calendar.workday_end == time(17, 30)
    for year in (2024, 2025, 2026):
        assert date(year, 10, 1) in calendar.holidays
        assert date(year, 5, 1) in calendar.holidays
    assert date(2026, 2, 14) in calendar.makeup_workdays
