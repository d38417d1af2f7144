"""What the org lacks for the lanes: told per township from the stored org, before any case runs into it."""

from datetime import date

from sqlalchemy.orm import Session

from workflows.cases.calendar import WorkCalendar
from workflows.cases.routing import RoutingRules, check_routing
from workflows.cases.staffing import org_problems
from workflows.org.importer import import_org_text
from workflows.org.rota import generate_rota

MONDAY = date(2026, 3, 2)


def test_a_lane_is_checked_at_its_roles_level_and_covered_from_above(small_org: Session, rules: RoutingRules):
    problems = org_problems(small_org, {"村干部", "网格员", "信访人"}, MONDAY, rules)
    own = problems[len(check_routing(small_org, rules)):]
    assert own == ["青溪镇（t01）有 2 个网格没有人担任网格员（如 t01v01g02、t01v02g01）：那里网格员的任务无人可办",
                   "青溪镇（t01）有 1 个村（社区）没有人担任村干部（如 t01v03）：那里村干部的任务无人可办",
                   "云岭乡（t02）没有人担任村干部：村干部的任务无人可办"]
    # a holder covers their own area; a township's gold mediation room covers every village of the township
    import_org_text(small_org, """people:
  - {username: t02v01.cadre, name: 村干, positions: [{role: 村干部, unit: t02v01}]}
  - {username: t01v02g01.worker, name: 网格, positions: [{role: 网格员, unit: t01v02g01}]}
  - {username: t02.mediator, name: 调解, positions: [{role: 金牌调解室, unit: t02}]}
""")
    again = org_problems(small_org, {"村干部", "网格员", "金牌调解室"}, MONDAY, rules)
    assert again[len(problems) - len(own):] == [
        "青溪镇（t01）有 1 个网格没有人担任网格员（如 t01v01g02）：那里网格员的任务无人可办",
        "青溪镇（t01）有 1 个村（社区）没有人担任村干部（如 t01v03）：那里村干部的任务无人可办",
        "云岭乡（t02）有 1 个村（社区）没有人担任村干部（如 t02v02）：那里村干部的任务无人可办",
        "青溪镇（t01）没有人担任金牌调解室：金牌调解室的任务无人可办"]


def test_the_reception_rota_must_reach_from_today_on(small_org: Session, rules: RoutingRules, calendar: WorkCalendar):
    rota = "的接访排班表 2026-03-02 起没有人值班"
    assert sum(rota in p for p in org_problems(small_org, {"坐班村支书"}, MONDAY, rules)) == 2
    generate_rota(small_org, calendar, MONDAY, date(2026, 3, 31))
    assert not any(rota in p for p in org_problems(small_org, {"坐班村支书"}, MONDAY, rules))
    late = org_problems(small_org, {"坐班村支书"}, date(2026, 4, 1), rules)
    assert "青溪镇（t01）的接访排班表 2026-04-01 起没有人值班：坐班村支书的任务无人可办，请生成接访排班" in late


def test_review_bodies_and_unit_heads(small_org: Session, rules: RoutingRules):
    problems = org_problems(small_org, {"复查机关", "复核机关", "承办单位负责人"}, MONDAY, rules)
    assert ("复查机关 county-government（review_bodies.yaml 的 county_government）不在组织机构中：县、乡两级答复的事项"
            "申请复查时无人办理") in problems
    assert "青溪镇（t01）没有人担任复查机关：本乡镇村级答复的事项申请复查时无人办理" in problems
    head = "承办单位 county-natural-resources（县自然资源局）没有人担任承办单位负责人：路由表推荐它承办土地征收"
    assert any(p.startswith(head) for p in problems)
    # a lane no diagram uses is not asked for
    assert not any("金牌调解室" in p for p in problems)
