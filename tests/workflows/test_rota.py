from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.calendar import WorkCalendar
from workflows.org.demo import load_demo_org
from workflows.org.importer import import_org_text
from workflows.org.models import Position, RotaChange
from workflows.org.rota import (
    CADRE_ROLE,
    RotaEditor,
    RotaError,
    duty_counts,
    duty_township,
    entries_between,
    generate_rota,
    on_duty,
    reassign_duty,
    swap_duties,
)
from workflows.org.tree import units_at

SECRETARIES = ["t01v01.secretary", "t01v02.secretary", "t01v03.secretary"]


def test_round_robin_over_the_village_secretaries(small_org: Session, calendar: WorkCalendar):
    entries = generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t01")
    assert [e.secretary.username for e in entries] == SECRETARIES + SECRETARIES[:2]
    assert {e.cadre.username for e in entries} == {"t01.cadre"}


def test_a_month_is_fair_and_skips_weekends_and_holidays(small_org: Session, calendar: WorkCalendar):
    start, end = date(2025, 9, 22), date(2025, 10, 31)
    generate_rota(small_org, calendar, start, end)
    small_org.commit()
    days = {e.day for e in entries_between(small_org, start, end, ["t01"])}
    assert days == set(calendar.workdays(start, end))
    assert date(2025, 9, 27) not in days and date(2025, 10, 3) not in days  # a Saturday, 国庆节
    assert date(2025, 9, 28) in days and date(2025, 10, 11) in days  # weekend days worked (调休)
    for town in ("t01", "t02"):
        counts = duty_counts(small_org, town, start, end)
        assert max(counts.values()) - min(counts.values()) <= 1, counts
        assert sum(counts.values()) == len(days)


def test_the_next_range_continues_the_turn(small_org: Session, calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 4), "t01")
    later = generate_rota(small_org, calendar, date(2025, 3, 5), date(2025, 3, 6), "t01")
    assert [e.secretary.username for e in later] == ["t01v03.secretary", "t01v01.secretary"]


def test_every_demo_township_is_fair_over_a_month(session: Session, calendar: WorkCalendar):
    load_demo_org(session, grid_workers=False)
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    entries = generate_rota(session, calendar, start, end)
    towns = units_at(session, "township")
    assert len(entries) == len(towns) * len(calendar.workdays(start, end))
    for town in towns:
        counts = duty_counts(session, town.code, start, end)
        assert len(counts) >= 11 and max(counts.values()) - min(counts.values()) <= 1


def test_lookups_by_township_and_by_person(small_org: Session, calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7))
    entry = on_duty(small_org, "青溪镇", date(2025, 3, 4))
    assert entry is not None and entry.secretary.username == "t01v02.secretary"
    assert on_duty(small_org, "t01", date(2025, 3, 8)) is None  # Saturday
    assert duty_township(small_org, "t01v02.secretary", date(2025, 3, 4)).code == "t01"
    assert duty_township(small_org, "t02.cadre", date(2025, 3, 4)).code == "t02"
    assert duty_township(small_org, "t01v02.secretary", date(2025, 3, 3)) is None


def test_generating_over_an_existing_rota_needs_replace(small_org: Session, calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t01")
    reassign_duty(small_org, "t01", date(2025, 3, 3), secretary="t01v03.secretary")
    with pytest.raises(RotaError, match="已有 2025-03-05 至 2025-03-07 的排班"):
        generate_rota(small_org, calendar, date(2025, 3, 5), date(2025, 3, 10), "t01")
    again = generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t01", replace=True)
    assert again[0].secretary.username == "t01v01.secretary"
    assert len(entries_between(small_org, date(2025, 3, 3), date(2025, 3, 7), ["t01"])) == 5


def test_reassign_and_swap(small_org: Session, calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t01")
    entry = reassign_duty(small_org, "t01", date(2025, 3, 3), secretary="t01v02.secretary")
    assert entry.secretary.username == "t01v02.secretary"
    first, second = swap_duties(small_org, "t01", date(2025, 3, 3), date(2025, 3, 5))
    small_org.commit()
    assert on_duty(small_org, "t01", date(2025, 3, 3)).secretary.username == "t01v03.secretary"
    assert on_duty(small_org, "t01", date(2025, 3, 5)).secretary.username == "t01v02.secretary"
    assert (first.day, second.day) == (date(2025, 3, 3), date(2025, 3, 5))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secretary": "t02v01.secretary"}, "t02v01.secretary 不是青溪镇（t01）所辖村的坐班村支书"),
        ({"secretary": "t01.leader1"}, "t01.leader1 不是青溪镇（t01）所辖村的坐班村支书"),
        ({"secretary": "nobody"}, "no person with username 'nobody'"),
        ({"cadre": "t02.cadre"}, "t02.cadre 不是青溪镇（t01）的乡镇信访干部"),
    ],
)
def test_reassign_validates(small_org: Session, calendar: WorkCalendar, change: dict, message: str):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t01")
    with pytest.raises(RotaError, match=message):
        reassign_duty(small_org, "t01", date(2025, 3, 3), **change)


def test_no_entry_on_a_day_off(small_org: Session, calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 9), "t01")
    with pytest.raises(RotaError, match="2025-03-08 没有排班"):
        reassign_duty(small_org, "t01", date(2025, 3, 8), secretary="t01v01.secretary")
    with pytest.raises(RotaError, match="2025-03-09 没有排班"):
        swap_duties(small_org, "t01", date(2025, 3, 7), date(2025, 3, 9))


def test_a_secretary_sits_in_one_room_a_day(small_org: Session, calendar: WorkCalendar):
    # the t01v01 secretary also serves a t02 village: never on duty at both townships the same day
    import_org_text(small_org, """
people:
  - username: t01v01.secretary
    name: 张伟
    positions:
      - {role: duty_secretary, unit: t01v01}
      - {role: duty_secretary, unit: t02v01}
""")
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 14))
    for entry in entries_between(small_org, date(2025, 3, 3), date(2025, 3, 14), ["t01"]):
        other = on_duty(small_org, "t02", entry.day)
        assert other.secretary_id != entry.secretary_id
    day = next(
        e.day
        for e in entries_between(small_org, date(2025, 3, 3), date(2025, 3, 14), ["t01"])
        if e.secretary.username == "t01v01.secretary"
    )
    with pytest.raises(RotaError, match=f"t01v01.secretary {day} 已在青溪镇（t01）坐班"):
        reassign_duty(small_org, "t02", day, secretary="t01v01.secretary")
    # a swap at t02 that would bring him to t02 on that day is refused the same way, naming the day at fault
    there = next(e.day for e in entries_between(small_org, date(2025, 3, 3), date(2025, 3, 14), ["t02"])
                 if e.secretary.username == "t01v01.secretary")
    with pytest.raises(RotaError, match=f"t01v01.secretary {day} 已在青溪镇（t01）坐班") as refused:
        swap_duties(small_org, "t02", day, there)
    assert refused.value.field == "first"


def test_unknown_township_and_empty_range(small_org: Session, calendar: WorkCalendar):
    with pytest.raises(RotaError, match="no township unit with code or name 't99'"):
        generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), "t99")
    with pytest.raises(RotaError, match="早于开始日期"):
        generate_rota(small_org, calendar, date(2025, 3, 7), date(2025, 3, 3))


def test_a_persons_change_is_checked_against_the_business_day_and_recorded(small_org: Session,
                                                                           calendar: WorkCalendar):
    generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 14), "t01")
    editor = RotaEditor("t01.cadre", datetime(2025, 3, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai")), calendar)
    for change, field, words in [
        (lambda: reassign_duty(small_org, "t01", date(2025, 3, 4), secretary="t01v01.secretary", editor=editor),
         "day", "2025-03-04 已经过去（今天是 2025-03-05）"),
        (lambda: swap_duties(small_org, "t01", date(2025, 3, 6), date(2025, 3, 8), editor=editor),
         "second", "2025-03-08 不是工作日"),
        (lambda: swap_duties(small_org, "t01", date(2025, 3, 6), date(2025, 3, 6), editor=editor),
         "second", "同一天"),
    ]:
        with pytest.raises(RotaError, match=words) as refused:
            change()
        assert refused.value.field == field
    swap_duties(small_org, "t01", date(2025, 3, 5), date(2025, 3, 6), editor=editor)  # today may still change
    reassign_duty(small_org, "t01", date(2025, 3, 7), cadre="t01.cadre", editor=editor)
    changes = small_org.scalars(select(RotaChange).order_by(RotaChange.id)).all()
    assert [(c.actor, c.action, c.township.code) for c in changes] == [("t01.cadre", "swap", "t01"),
                                                                       ("t01.cadre", "reassign", "t01")]
    assert "2025-03-05 改由" in changes[0].detail and changes[1].detail.startswith("2025-03-07 改派")


def test_a_persons_generation_starts_today_at_the_earliest(small_org: Session, calendar: WorkCalendar):
    editor = RotaEditor("bureau1", datetime(2025, 3, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai")), calendar)
    with pytest.raises(RotaError, match="2025-03-04 已经过去") as refused:
        generate_rota(small_org, calendar, date(2025, 3, 4), date(2025, 3, 14), "t01", replace=True, editor=editor)
    assert refused.value.field == "from"
    assert generate_rota(small_org, calendar, date(2025, 3, 5), date(2025, 3, 7), "t01", editor=editor)


def test_a_township_nobody_can_sit_for_is_named_and_the_others_are_generated(small_org: Session,
                                                                              calendar: WorkCalendar):
    t02 = next(unit for unit in units_at(small_org, "township") if unit.code == "t02")
    for position in small_org.scalars(select(Position).where(Position.role == CADRE_ROLE,
                                                             Position.org_unit_id == t02.id)):
        small_org.delete(position)
    small_org.flush()
    unstaffed: list[RotaError] = []
    written = generate_rota(small_org, calendar, date(2025, 3, 3), date(2025, 3, 7), unstaffed=unstaffed)
    assert {entry.township.code for entry in written} == {"t01"} and len(written) == 5
    assert [str(refusal) for refusal in unstaffed] == ["云岭乡（t02）没有乡镇信访干部陪同坐班，无法排班"]
    with pytest.raises(RotaError, match="云岭乡（t02）没有乡镇信访干部"):  # asked without the list: refused
        generate_rota(small_org, calendar, date(2025, 3, 10), date(2025, 3, 14))
