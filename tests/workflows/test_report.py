"""The monthly report (一月一通报): each figure against case records built by hand, with the edge cases."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from doorstep.cli import main
from engine.models import Deployment, Instance, ProcessVersion
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import ScriptArgumentError, script_helpers
from workflows.org.importer import import_org_file
from workflows.reports.definitions import FigureRules
from workflows.reports.monthly import ReportError, month_period, monthly_figures, monthly_report, shift_month
from workflows.reports.text import report_csv, report_text, summary_sentence

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUTES = {"visit": "reception", "letter": "petition", "phone": "petition", "online": "online_message",
          "grid": "grid_visit"}
ROOT = Path(__file__).resolve().parents[2]
VISITED_AT = {"reception": "township", "petition": "county"}


def local(*parts: int) -> datetime:
    """A moment in Asia/Shanghai, as the county reads its clocks."""
    return datetime(*parts, tzinfo=SHANGHAI)


def add_case(session: Session, registered: datetime, channel: str | None = "visit", *, process_id: str | None = None,
             township: str | None = "t01", village: str | None = "t01v01", headcount: int = 1,
             category: str = "land", repeat_of: int | None = None, on_the_spot: bool = False,
             closed: datetime | None = None, overdue: bool = False, extended: bool = False,
             satisfaction: str | None = None, rating_source: str = "petitioner", rated: datetime | None = None,
             visit_level: str | None = None, competent_level: str | None = "township",
             handed_down_from: str | None = None) -> int:
    """Write one case record (with the instance row it belongs to) exactly as given; return its id.

    A visit was made where it was registered (a reception room: township; the bureau: county) unless a level is
    given or it was handed down; a rating is the petitioner's, given when the case closed, unless told otherwise.
    """
    version = session.info.get("version")
    if version is None:
        deployment = Deployment(deployed_at=registered, deployed_by="test", bundle_hash="0" * 64)
        session.add(deployment)
        session.flush()
        row = ProcessVersion(process_id="any", version=1, deployment_id=deployment.id, file_name="any.bpmn",
                             spec_hash="0" * 64, spec="{}", deployed_at=registered, deployed_by="test")
        session.add(row)
        session.flush()
        version = session.info["version"] = row.id
    route = process_id or ROUTES.get(channel or "", "leader_package")
    instance = Instance(process_version_id=version, process_id=route, status="completed" if closed else "running",
                        state="{}", started_at=registered, started_by="test", updated_at=registered, event_count=0)
    session.add(instance)
    session.flush()
    session.add(CaseRecord(
        instance_id=instance.id, case_number=f"XP-{instance.id}", query_code=f"Q{instance.id}", process_id=route,
        channel=channel, petitioners=[], headcount=headcount, is_group=headcount >= 5, category=category,
        township=township, village=village, track=route, repeat_of=repeat_of, status="closed" if closed else "open",
        registered_at=registered, closed_at=closed, deadlines={}, overdue=overdue, extended=extended,
        on_the_spot=on_the_spot, remedies=[], satisfaction=satisfaction,
        rating_source=rating_source if satisfaction else None, rated_at=(rated or closed) if satisfaction else None,
        visit_level=(visit_level or handed_down_from or VISITED_AT.get(route)) if channel == "visit" else None,
        competent_level=competent_level, handed_down_from=handed_down_from))
    session.flush()
    return instance.id


@pytest.fixture
def county(small_org: Session) -> Session:
    """The small org (2 townships, 5 villages) with no cases yet."""
    return small_org


def report(session: Session, month: str = "2025-03", **kwargs):
    return monthly_report(session, month, **kwargs)


def village(result, code: str):
    return next(v for v in result.villages if v.code == code)


def township(result, code: str):
    return next(t for t in result.townships if t.code == code)


def test_visits_in_batches_and_persons_letters_calls_and_online_in_items(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", headcount=1)
    add_case(county, local(2025, 3, 4, 10), "visit", headcount=3)
    add_case(county, local(2025, 3, 5, 11), "visit", village="t01v02", headcount=2)
    add_case(county, local(2025, 3, 6, 9), "letter", township="t02", village="t02v01")
    add_case(county, local(2025, 3, 7, 9), "phone", township="t02", village="t02v01")
    add_case(county, local(2025, 3, 8, 21), "online", township="t02", village="t02v01")
    add_case(county, local(2025, 3, 9, 22), "online", township="t02", village="t02v02")
    add_case(county, local(2025, 3, 10, 9), "grid", village="t01v03")
    add_case(county, local(2025, 3, 11, 9), None, process_id="monthly_schedule", township=None, village=None)

    result = report(county)

    v = village(result, "t01v01").current
    assert (v.visit_batches, v.visit_persons, v.petitions) == (2, 4, 2)
    t01, t02 = township(result, "t01").current, township(result, "t02").current
    assert (t01.visit_batches, t01.visit_persons, t01.grid_reports, t01.petitions) == (3, 6, 1, 3)
    assert (t02.letters, t02.phone_calls, t02.online_messages, t02.petitions) == (1, 1, 2, 2)
    total = result.scope.current
    assert (total.visit_batches, total.visit_persons, total.letters, total.phone_calls, total.online_messages,
            total.grid_reports, total.petitions) == (3, 6, 1, 1, 2, 1, 5)  # online messages are counted apart
    assert result.scope.level == "county" and result.scope.name == "溆浦县"


def test_a_group_visit_starts_exactly_at_the_threshold(county: Session):
    for heads in (4, 5, 6):
        add_case(county, local(2025, 3, 3, 9), "visit", headcount=heads)
    add_case(county, local(2025, 3, 3, 9), "letter", headcount=8)  # a joint letter is not a visit

    assert report(county).scope.current.group_visits == 2
    assert report(county, group_threshold=6).scope.current.group_visits == 1
    assert report(county).scope.current.visit_persons == 15


def test_a_repeat_petition_counts_in_the_month_it_comes_back(county: Session):
    first = add_case(county, local(2025, 2, 20, 9), "visit")
    add_case(county, local(2025, 3, 2, 9), "letter", repeat_of=first)
    add_case(county, local(2025, 3, 3, 9), "grid", repeat_of=first)  # grid reports are not petitions

    march, february = report(county), report(county, "2025-02")
    assert march.scope.current.repeat_petitions == 1
    assert february.scope.current.repeat_petitions == 0
    assert march.scope.previous.repeat_petitions == 0 and march.scope.change("repeat_petitions", "previous") == 1


def test_the_month_is_the_local_month_of_asia_shanghai(county: Session):
    add_case(county, local(2025, 3, 31, 23, 30), "visit")  # 15:30 UTC on the 31st: March
    add_case(county, local(2025, 4, 1, 0, 10), "visit", headcount=2)  # 16:10 UTC on 31 March: April
    add_case(county, datetime(2025, 2, 28, 16, 30, tzinfo=UTC), "online")  # 00:30 on 1 March in Xupu
    add_case(county, datetime(2025, 2, 28, 15, 59, tzinfo=UTC), "phone")  # 23:59 on 28 February

    march, april = report(county).scope.current, report(county, "2025-04").scope.current
    assert (march.visit_batches, march.visit_persons, march.online_messages, march.phone_calls) == (1, 1, 1, 0)
    assert (april.visit_batches, april.visit_persons) == (1, 2)
    assert month_period("2025-03", SHANGHAI).start == datetime(2025, 2, 28, 16, 0, tzinfo=UTC)


def test_zero_visit_villages_are_those_without_a_visit_batch(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", village="t01v01")
    add_case(county, local(2025, 3, 4, 9), "online", township="t02", village="t02v01")  # an online message: kept
    add_case(county, local(2025, 3, 5, 9), "grid", village="t01v02")  # a grid report does not cost the reward
    add_case(county, local(2025, 3, 6, 9), "letter", village="t01v03")  # nor does a letter

    result = report(county)
    assert [v.code for v in result.zero_petition_villages] == ["t01v02", "t01v03", "t02v01", "t02v02"]
    assert result.village_count == 5 and result.zero_rule == "来访"
    only_t01 = report(county, township="青溪镇")
    assert [v.code for v in only_t01.zero_petition_villages] == ["t01v02", "t01v03"]
    assert len(report(county, "2025-02").zero_petition_villages) == 5
    stricter = report(county, rules=FigureRules(zero_visit_channels=("visit", "letter", "online")))
    assert [v.code for v in stricter.zero_petition_villages] == ["t01v02", "t02v02"]


def test_with_no_case_at_all_every_village_has_zero_petitions_and_rates_are_absent(county: Session):
    result = report(county)
    assert len(result.zero_petition_villages) == 5
    assert result.scope.current.on_the_spot_rate is None and result.scope.current.on_time_rate is None
    assert result.scope.change("on_time_rate", "previous") is None


def test_change_from_the_previous_month_and_the_same_month_a_year_earlier(county: Session):
    for day in (3, 4, 5):
        add_case(county, local(2025, 3, day, 9), "visit", on_the_spot=day != 5)
    add_case(county, local(2025, 2, 10, 9), "visit", on_the_spot=False)
    for day in range(1, 6):
        add_case(county, local(2024, 3, day, 9), "visit", on_the_spot=True)
    add_case(county, local(2025, 1, 10, 9), "visit")  # two months back: in neither comparison

    scope = report(county).scope
    assert (scope.current.visit_batches, scope.previous.visit_batches, scope.year_ago.visit_batches) == (3, 1, 5)
    assert scope.change("visit_batches", "previous") == 2
    assert scope.change("visit_batches", "year_ago") == -2
    assert scope.change("on_the_spot_rate", "previous") == pytest.approx(2 / 3)
    assert scope.change("on_the_spot_rate", "year_ago") == pytest.approx(2 / 3 - 1)
    t01 = township(report(county), "t01")
    assert t01.change("petitions", "year_ago") == -2
    assert shift_month("2025-01", -1) == "2024-12" and shift_month("2025-03", -12) == "2024-03"


def test_no_comparison_before_the_first_recorded_case_and_an_unfinished_month_says_until_when(county: Session):
    add_case(county, local(2025, 2, 20, 9), "visit")  # the system's first case: February 2025
    for day in (3, 4, 5):
        add_case(county, local(2025, 3, day, 9), "visit")

    result = report(county, now=local(2025, 3, 18, 15))
    scope = result.scope
    assert scope.change("visit_batches", "previous") == 2  # February was recorded
    assert scope.change("visit_batches", "year_ago") is None  # March 2024 was before any record: no "+3"
    assert "同比—" in summary_sentence(result) and "2024-03尚无记录" in summary_sentence(result)
    assert "截至2025年03月18日15:00" in summary_sentence(result)
    assert "无记录" in report_text(result) and "+3" not in report_text(result).split("去年同月")[1].split("\n")[1]
    assert report(county, now=local(2025, 4, 1, 9)).as_of is None  # a finished month counts it all


def test_bypassing_levels_is_a_visit_above_the_level_over_the_competent_one(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", process_id="petition")  # township matter at the county: allowed
    add_case(county, local(2025, 3, 4, 9), "visit", process_id="petition", handed_down_from="city")  # 越级
    add_case(county, local(2025, 3, 5, 9), "visit", process_id="petition", handed_down_from="city",
             competent_level="county")  # a county matter taken to the city: one level up, allowed
    add_case(county, local(2025, 3, 6, 9), "visit", process_id="petition", handed_down_from="national",
             competent_level="county")  # to Beijing: 越级
    add_case(county, local(2025, 3, 7, 9), "visit", process_id="petition", visit_level="province",
             category="accusation")  # accusations go where the law sends them
    add_case(county, local(2025, 3, 8, 9), "visit")  # the township reception room
    add_case(county, local(2025, 3, 9, 9), "letter", process_id="petition", handed_down_from="province")  # no visit
    add_case(county, local(2025, 3, 10, 9), "visit", process_id="petition", competent_level=None)  # level unknown

    now = report(county).scope.current
    assert (now.bypass_visits, now.visit_batches, now.letters) == (2, 7, 1)
    assert report(county, rules=FigureRules(bypass_levels_above=0)).scope.current.bypass_visits == 4


def test_on_the_spot_rate_is_of_visits(county: Session):
    for resolved in (True, True, True, False):
        add_case(county, local(2025, 3, 3, 9), "visit", on_the_spot=resolved)
    add_case(county, local(2025, 3, 3, 9), "grid", on_the_spot=True)

    now = report(county).scope.current
    assert (now.on_the_spot, now.visit_batches, now.on_the_spot_rate) == (3, 4, 0.75)


def test_handling_figures_of_the_cases_closed_in_the_month(county: Session):
    january = local(2025, 1, 6, 9)
    add_case(county, january, "visit", closed=local(2025, 3, 3, 9), satisfaction="very_satisfied")
    add_case(county, january, "letter", closed=local(2025, 3, 4, 9), overdue=True, satisfaction="basic")
    add_case(county, january, "online", closed=local(2025, 3, 31, 23, 0), extended=True,
             satisfaction="basically_satisfied")
    add_case(county, january, "grid", closed=local(2025, 3, 5, 9), satisfaction="dissatisfied")
    add_case(county, january, "letter", closed=local(2025, 4, 1, 0, 30))  # April, local time

    now = report(county).scope.current
    assert (now.closed, now.closed_overdue, now.extended) == (4, 1, 1)
    assert now.on_time_rate == 0.75
    assert (now.very_satisfied, now.satisfied, now.basic, now.dissatisfied, now.very_dissatisfied) == (1, 0, 2, 1, 0)
    assert now.rated == 4 and now.satisfaction_rate == 0.75


def test_only_the_petitioners_own_ratings_count_in_the_month_they_are_given(county: Session):
    january = local(2025, 1, 6, 9)
    add_case(county, january, "online", closed=local(2025, 3, 3, 9), satisfaction="satisfied")
    add_case(county, january, "online", closed=local(2025, 3, 4, 9), satisfaction="very_satisfied",
             rating_source="staff")  # typed in by the handling unit as its own judgement: not counted
    add_case(county, january, "phone", closed=local(2025, 3, 5, 9), satisfaction="very_dissatisfied",
             rating_source="recorded")  # told on a return call, recorded by staff: the petitioner's, counted
    add_case(county, january, "letter", closed=local(2025, 2, 26, 9), satisfaction="dissatisfied",
             rated=local(2025, 3, 2, 9))  # closed in February, rated late: counts in March
    add_case(county, january, "visit", closed=local(2025, 3, 20, 9), satisfaction="basic",
             rated=local(2025, 4, 2, 9))  # rated in April

    march, april = report(county).scope.current, report(county, "2025-04").scope.current
    assert (march.rated, march.satisfied, march.dissatisfied, march.very_satisfied) == (3, 1, 1, 0)
    assert (march.very_dissatisfied, march.recorded_ratings) == (1, 1)
    assert march.satisfaction_rate == 1 / 3 and march.closed == 4
    assert "群众评价3件（其中电话回访、工作人员代录1件）" in summary_sentence(report(county))
    assert (april.rated, april.basic, april.closed) == (1, 1, 0)


def test_overdue_cases_are_those_on_the_books_in_the_month(county: Session):
    add_case(county, local(2025, 1, 6, 9), "visit", overdue=True)  # still open: counts every month since
    add_case(county, local(2025, 1, 7, 9), "visit", overdue=True, closed=local(2025, 2, 20, 9))  # closed before
    add_case(county, local(2025, 2, 7, 9), "letter", overdue=True, closed=local(2025, 3, 20, 9))  # closed in March
    add_case(county, local(2025, 4, 2, 9), "letter", overdue=True)  # registered after March
    add_case(county, local(2025, 3, 2, 9), "letter")  # open, not overdue

    assert report(county).scope.current.overdue == 2
    assert report(county, "2025-02").scope.current.overdue == 3
    assert report(county, "2024-12").scope.current.overdue == 0


def test_a_township_report_holds_only_its_villages(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", village="t01v02", headcount=6)
    add_case(county, local(2025, 3, 3, 9), "online", township="t02", village="t02v01")
    add_case(county, local(2025, 3, 4, 9), "phone", village=None)  # no village given: the township's

    result = report(county, township="t01")
    assert result.scope.level == "township" and result.scope.name == "青溪镇"
    assert [v.code for v in result.villages] == ["t01v01", "t01v02", "t01v03"]
    assert result.townships == []
    assert (result.scope.current.petitions, result.scope.current.group_visits) == (2, 1)
    assert village(result, "t01v02").current.visit_persons == 6
    with pytest.raises(ReportError, match="no township"):
        report(county, township="nowhere")
    with pytest.raises(ReportError, match="YYYY-MM"):
        report(county, "March")


def test_the_posted_text_and_the_csv(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", headcount=5, on_the_spot=True)
    add_case(county, local(2024, 3, 3, 9), "online", township="t02", village="t02v02")

    result = report(county)
    text = report_text(result)
    for heading in ("溆浦县信访工作情况通报", "（2025年3月）", "一、总体情况", "二、各乡镇情况", "零上访村（社区）",
                    "来访批次", "环比", "同比", "一月一考核（满分100分）", "说明："):
        assert heading in text
    assert "桃园社区" in text and "云岭乡（2个）：栗垄村1500元、茶湾村1500元" in text
    assert "本月4个村（社区）零上访" in text and "兑现奖励合计6000元" in text
    assert "未得满分的村（社区）1个：\n    青溪镇桃园社区 85分" in text  # a group visit costs 5 points

    rows = list(csv.reader(io.StringIO(report_csv(result))))
    assert rows[0][:5] == ["月份", "层级", "乡镇", "代码", "名称"]
    assert len(rows) == 1 + 1 + 2 + 5  # header, county, townships, villages
    header = rows[0]
    peach = next(row for row in rows if row[3] == "t01v01")
    assert peach[header.index("来访人次")] == "5" and peach[header.index("当场化解率(%)")] == "100.0"
    assert (peach[header.index("考核得分")], peach[header.index("兑现奖励(元)")]) == ("85.0", "0")
    apricot = next(row for row in rows if row[3] == "t01v02")
    assert (apricot[header.index("考核得分")], apricot[header.index("兑现奖励(元)")]) == ("100.0", "1500")
    county_row = rows[1]
    assert county_row[header.index("网上留言(件)-去年同月")] == "1"
    assert county_row[header.index("考核得分")] == "" and rows[2][header.index("兑现奖励(元)")] == ""


def test_the_monthly_figures_helper_of_the_report_diagram(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", headcount=3)
    add_case(county, local(2025, 3, 4, 9), "online", township="t02", village="t02v01")

    figures = script_helpers(county)["monthly_figures"]("2025-03")
    assert figures["month"] == "2025-03"
    assert (figures["visit_batches"], figures["visit_persons"], figures["petitions"]) == (1, 3, 1)
    assert figures["items"]["online"] == 1 and figures["county"]["visit_persons"] == 3
    assert figures["zero_petition_villages"] == ["t01v02", "t01v03", "t02v01", "t02v02"]
    assert figures["zero_petition_count"] == 4 and figures["village_count"] == 5
    json.dumps(figures)  # scripts keep it in the case data
    assert monthly_figures(county, "2025-03")["townships"]["t01"]["petitions"] == 1
    with pytest.raises(ScriptArgumentError):
        script_helpers(county)["monthly_figures"]("2025-13")


def test_doorstep_report_monthly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DOORSTEP_BPMN_DIR", str(ROOT / "bpmn"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"], catch_exceptions=False).exit_code == 0
    from doorstep.config import Settings
    from doorstep.services import Services

    svc = Services.from_settings(Settings.from_environment())
    with svc.unit_of_work() as session:
        import_org_file(session, ROOT / "tests" / "workflows" / "data" / "small_org.yaml")
        add_case(session, local(2025, 3, 3, 9), "visit", headcount=2)
    svc.db.dispose()

    text = runner.invoke(main, ["report", "monthly", "2025-03"], catch_exceptions=False)
    assert text.exit_code == 0 and "一、总体情况" in text.output
    town = runner.invoke(main, ["report", "monthly", "2025-03", "--township", "青溪镇", "--format", "csv"])
    assert town.exit_code == 0 and town.output.splitlines()[1].split(",")[1] == "乡镇"
    data = json.loads(runner.invoke(main, ["report", "monthly", "2025-03", "--format", "json"]).output)
    assert data["scope"]["current"]["visit_persons"] == 2
    bad = runner.invoke(main, ["report", "monthly", "2025-3x"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
