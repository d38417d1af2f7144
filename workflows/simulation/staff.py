"""How the simulated county's people act on each task of the diagrams: who, how soon, and what they fill in.

The simulator asks `Staff.act` what to do with every open task; the answer is an `Act` (the moment, the user
acting in the task's lane, the form data) or None when nobody acts (a petitioner who never rates, or never asks
for a review, lets the diagram's own timer close the step). All randomness comes from the one seeded generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from workflows.cases.calendar import WorkCalendar
from workflows.cases.routing import RoutingRules, choose_handling_unit, responsible_leader
from workflows.org.models import OrgUnit, Person, Position, RotaEntry

CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {  # share of claims, and what people say
    "land": (0.17, ("修路占用承包地，青苗补偿款未到位", "征地补偿标准有异议", "土地确权面积与实际不符",
                    "山林权属有争议")),
    "housing": (0.08, ("危房改造补助未发放", "宅基地审批迟迟未办", "安置房墙体开裂漏水")),
    "social_security": (0.15, ("低保资格复核进度", "养老保险待遇核定有误", "残疾人两项补贴未到账",
                               "医保报销比例有疑问")),
    "labor": (0.10, ("工地拖欠农民工工资", "工伤认定进度", "企业未依法缴纳社保")),
    "environment": (0.07, ("养殖场污水直排溪沟", "采石场粉尘噪声扰民", "生活垃圾清运不及时")),
    "infrastructure": (0.14, ("饮水工程管道破裂，几个组停水", "通组公路水毁未修", "农网改造后电压不稳",
                              "便民桥年久失修")),
    "dispute": (0.18, ("与邻居宅基地界址纠纷", "山林界址纠纷", "赡养老人纠纷", "灌溉用水纠纷")),
    "accusation": (0.03, ("反映村干部优亲厚友评低保", "反映村级财务不公开", "反映项目资金使用不规范")),
    "other": (0.08, ("咨询子女入学政策", "建议增设农村客运站点", "反映广场舞噪音")),
}
OUTCOMES = (("explain", 0.62), ("support", 0.30), ("reject", 0.08))
# 接谈研判: answered or coordinated on the spot, accepted and handed over, or decided as a registrar would
HEARINGS = (("answer", 0.35), ("coordinate", 0.29), ("hand_over", 0.31), ("not_accept", 0.02), ("transfer", 0.01),
            ("legal_referral", 0.02))
HEARING_NOTICES: dict[str, dict[str, str]] = {
    "hand_over": {"notice": "当场告知已受理，移交分管领导督办"},
    "not_accept": {"notice": "当场书面告知不予受理及理由", "decision_reason": "不属于信访事项受理范围"},
    "transfer": {"notice": "当场告知转送有权处理的机关", "transfer_outside": "有权处理的县外机关"},
    "legal_referral": {"notice": "当场告知通过法定途径解决", "legal_route": "court"},
}
SATISFACTION = (("very_satisfied", 0.34), ("satisfied", 0.40), ("basic", 0.15), ("dissatisfied", 0.08),
                ("very_dissatisfied", 0.03))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭罗郑梁谢宋唐许韩邓冯曹彭曾肖田董袁潘蒋蔡余杜叶程魏吕丁任沈姚向舒米"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红玉兰志文斌波辉春梅海燕琴云飞德顺福生贵"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PETITIONER = "petitioner"
TEAM_SEATS = {  # the four teams' views: the role giving each, and the demo org's seat name in the village
    "view_backer_unit": ("backer_unit_head", "backer"), "view_township_cadre": ("village_liaison", "liaison"),
    "view_work_team": ("work_team", "workteam"), "view_village_committee": ("village_cadre", "secretary"),
}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Resident:
    """A petitioner: name, ID number and phone (synthetic)."""

    name: str
    id_number: str
    phone: str


@dataclass
class Petition:
    """What the simulator knows of one case: who brought which claim from where, and how it goes on."""

    person: Resident
    township: str
    village: str
    grid: str | None
    category: str
    claim: str
    channel: str
    headcount: int = 1
    repeat_of: int | None = None
    times: int = 1  # how many times this person has brought this claim
    tier: str = "village"
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskInfo:
    """The open task to act on, as the task table shows it."""

    id: str
    instance_id: int
    element_id: str
    lane: str | None
    created_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class Act:
    """Complete a task at a moment, as a user, with form data."""

    at: datetime
    actor: str
    data: dict[str, Any]


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
        self.bureau = self.holders.get(("county_bureau", "county-petition-bureau"), ["county_bureau"])
        county = next((code for (role, code) in self.holders if role == "case_leader"), "")
        self.county_leaders = self.holders.get(("case_leader", county), ["case_leader"])
        self._leaders: dict[tuple[str, str], str] = {}
        self._units: dict[tuple[str, str, str | None], str] = {}
        self._rota: dict[date, dict[str, tuple[str, str]]] = {}

    def person(self, role: str, unit: str, fallback: str) -> str:
        """The first holder of `role` at `unit`, or `fallback` when nobody holds it."""
        found = self.holders.get((role, unit))
        return found[0] if found else fallback

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


class Staff:
    """Everyone who works a case: each element of the diagrams maps to how its lane acts."""

    def __init__(self, county: County, calendar: WorkCalendar, rng: random.Random):
        self.county, self.calendar, self.rng = county, calendar, rng
        self.handlers: dict[str, Callable[[TaskInfo, Petition, datetime], Act | None]] = {
            # 坐班接访
            "register_visit": self.register_visit, "hear_claim": self.hear_claim,
            "record_answer": self.record_answer, "coordinate_on_spot": self.coordinate_on_spot,
            # 跟踪督办
            "assign_unit": self.assign_unit, "handle_case": self.handle_case, "check_result": self.check_result,
            "send_reminder": self.send_reminder, "report_overdue": self.report_overdue,
            # 信访事项办理 and 依法办理: workflows/simulation/legal_staff.py
            # 网格员下访、四支队伍、金牌调解室
            "record_issue": self.record_issue, "resolve_on_spot": self.resolve_on_spot,
            "view_backer_unit": self.team_view, "view_township_cadre": self.team_view,
            "view_work_team": self.team_view, "view_village_committee": self.team_view,
            "decide": self.team_decide, "hear_case": self.hear_case, "solve_problem": self.follow_up,
            "educate": self.follow_up, "assist": self.follow_up, "handle_by_law": self.follow_up,
            "confirm_result": self.confirm_result, "guide_legal": self.guide_legal,
            # 网上群众路线
            "respond": self.respond, "respond_village": self.respond, "claim": self.claim_message,
            "answer": self.answer, "feedback": self.feedback,
            # 领导包案
            "list_case": self.list_case, "setup": self.setup_package, "work": self.package_work,
            "propose_close": self.propose_close, "verify": self.verify,
            # 月度通报
            "publish": self.publish, "assess": self.assess, "reward": self.reward,
        }

    def act(self, task: TaskInfo, petition: Petition, now: datetime) -> Act | None:
        """What happens to an open task; None when nobody acts on it."""
        handler = self.handlers.get(task.element_id)
        return handler(task, petition, now) if handler is not None else None

    # -- time ------------------------------------------------------------------------------------------------
    def minutes(self, now: datetime, low: float, high: float) -> datetime:
        """A few minutes later, as at the reception desk."""
        return now + timedelta(minutes=self.rng.uniform(low, high))

    def office(self, moment: datetime, online: bool = False) -> datetime:
        """The moment moved into office hours (08:30-17:30 on workdays; 08:00-22:00 daily for online duty)."""
        local = self.calendar.local(moment)
        opens, closes = (time(8, 0), time(22, 0)) if online else (time(8, 30), self.calendar.workday_end)
        day = local.date()
        open_today = online or self.calendar.is_workday(day)
        if open_today and opens <= local.time() < closes:
            return moment
        if not (open_today and local.time() < opens):
            day = day + DAY if online else self.calendar.next_workday(day)
        return self.calendar.at(day, opens) + timedelta(minutes=self.rng.uniform(0, 90))

    def within(self, task: TaskInfo, now: datetime, late: float, usual_days: float,
               late_days: tuple[float, float] = (1, 10), online: bool = False) -> datetime:
        """When a task with a due time gets done: mostly inside the period, a share `late` after it."""
        due = task.due_at
        if due is None:
            return self.office(now + DAY * self.rng.uniform(0.1, usual_days), online)
        if self.rng.random() < late:
            return self.office(due + DAY * self.rng.uniform(*late_days), online)
        moment = self.office(now + (due - now) * self.rng.uniform(0.05, 0.85), online)
        return moment if moment < due else max(now + timedelta(minutes=5), due - timedelta(hours=2))

    def days(self, now: datetime, low: float, high: float, online: bool = False) -> datetime:
        """Some days later, in office hours."""
        return self.office(now + DAY * self.rng.uniform(low, high), online)

    def pick(self, table: tuple[tuple[Any, float], ...]) -> Any:
        """A value drawn from (value, weight) pairs."""
        values, weights = zip(*table, strict=True)
        return self.rng.choices(values, weights)[0]

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.rng.random() < p

    def unit(self, p: Petition) -> str:
        """The handling unit working this case: the one chosen for it, else the routing table's."""
        if "unit" not in p.extras:
            p.extras["unit"] = self.county.unit(p.category, p.township, accused_of(p))
        return str(p.extras["unit"])

    def bureau(self) -> str:
        """One of the county bureau's staff."""
        return self.rng.choice(self.county.bureau)

    # -- 坐班接访 ---------------------------------------------------------------------------------------------
    def register_visit(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        secretary, _cadre = self.county.on_duty(p.township, self.calendar.local_day(now))
        # The desk starts the case and registers the visit in one go (reception_desk.register_visit).
        return Act(now, secretary, {**identity(p), "headcount": p.headcount})

    def hear_claim(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        _secretary, cadre = self.county.on_duty(p.township, self.calendar.local_day(now))
        if p.category == "accusation" or p.headcount >= 5 and self.chance(0.5):
            disposition = "hand_over"
        else:
            disposition = self.pick(HEARINGS)
        return Act(self.minutes(now, 10, 45), cadre,
                   {"disposition": disposition, "note": "听取诉求，当场研判", **HEARING_NOTICES.get(disposition, {})})

    def record_answer(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        secretary, _cadre = self.county.on_duty(p.township, self.calendar.local_day(now))
        return Act(self.minutes(now, 5, 20), secretary,
                   {"answer": "当场解释政策并告知办理渠道", "outcome": self.pick(OUTCOMES)})

    def coordinate_on_spot(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        _secretary, cadre = self.county.on_duty(p.township, self.calendar.local_day(now))
        resolved = self.chance(0.62)
        return Act(self.minutes(now, 20, 90), cadre,
                   {"resolved": resolved,
                    "coordination_note": "当场协调相关方" + ("，已化解" if resolved else "，未能化解")})

    # -- 跟踪督办 ---------------------------------------------------------------------------------------------
    def assign_unit(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        unit = self.county.unit(p.category, p.township, accused_of(p))
        p.extras["unit"] = unit
        at = self.days(now, 0.05, 1.5)
        deadline = self.calendar.local_day(at) + DAY * self.rng.randint(10, 30)
        return Act(at, self.county.leader(p.township, p.category),
                   {"handling_unit": unit, "deadline": deadline.isoformat(), "instructions": "请按期办结并报告"})

    def handle_case(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        unit = self.unit(p)
        if not p.extras.get("extension_asked") and self.chance(0.05):  # once, approved by the agency's head
            p.extras["extension_asked"] = True
            return Act(self.within(task, now, late=0.0, usual_days=10), self.county.handler(unit),
                       {"handling_action": "extend", "handling_result": "情况复杂，需进一步核实",
                        "extension_reason": "涉及多个部门，需现场核实", "extension_days": self.rng.randint(10, 30)})
        return Act(self.within(task, now, late=0.08, usual_days=15), self.county.handler(unit),
                   {"handling_action": "done", "handling_result": "已核实情况并办理", "outcome": self.pick(OUTCOMES)})

    def check_result(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        approved = self.chance(0.92)
        return Act(self.days(now, 0.1, 2), self.county.leader(p.township, p.category),
                   {"approved": approved, "check_note": "同意办结" if approved else "办理不到位，退回重办"})

    def send_reminder(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.days(now, 0.05, 1), self.county.leader(p.township, p.category),
                   {"reminder_note": "期限将至，请抓紧办理"})

    def report_overdue(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        p.extras["overdue"] = True
        return Act(self.days(now, 0.1, 2), self.bureau(), {"notice": "超期未办结，予以通报"})

    # -- 网格员下访、四支队伍、金牌调解室 -----------------------------------------------------------------------
    def record_issue(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        grid = p.grid or p.village
        worker = self.county.person("grid_worker", grid, f"{grid}.worker")
        complexity = "general" if p.category != "accusation" and self.chance(0.8) else "complex"
        return Act(self.minutes(now, 10, 60), worker,
                   {"township": p.township, "village": p.village, "grid": grid, "household": p.person.name,
                    "source": self.pick((("home_visit", 0.7), ("hearing_meeting", 0.25), ("other", 0.05))),
                    "category": p.category, "claim": p.claim, "complexity": complexity})

    def resolve_on_spot(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        resolved = self.chance(0.9)
        cadre = self.county.person("village_cadre", p.village, f"{p.village}.cadre")
        return Act(self.days(now, 0.1, 4), cadre,
                   {"resolved": resolved,
                    "resolution": "村干部与网格员上门调处" + ("，已解决" if resolved else "，未解决")})

    def team_view(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        role, seat = TEAM_SEATS[task.element_id]
        team = self.county.person(role, p.village, f"{p.village}.{seat}")
        prefix = task.element_id.removeprefix("view_")
        suggestion = self.pick((("village", 0.45), ("mediation", 0.35), ("township", 0.2)))
        return Act(self.days(now, 0.5, 4), team,
                   {f"{prefix}_view": "集村部会商发表意见", f"{prefix}_suggestion": suggestion})

    def team_decide(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        team = self.county.person("village_liaison", p.village, f"{p.village}.liaison")
        decision = self.pick((("village", 0.45), ("mediation", 0.35), ("township", 0.2)))
        if decision == "township":
            p.tier = "township"
            p.channel = "grid"
        return Act(self.days(now, 0.1, 2), team, {"decision": decision, "consultation_minutes": "四支队伍集体会商纪要"})

    def hear_case(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        mediator = self.county.person("mediation_panel", p.village, f"{p.village}.mediator")
        return Act(self.days(now, 1, 7), mediator,
                   {"panel_members": "人大代表、老党员、乡贤、律师", "judgement_reason": "依据政策和村规民约评议",
                    "judgement": self.pick((("reasonable", 0.4), ("unreasonable", 0.25), ("partly", 0.35))),
                    "hardship": self.chance(0.2), "unlawful": self.chance(0.05)})

    def follow_up(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        cadre = self.county.person("village_cadre", p.village, f"{p.village}.cadre")
        if task.element_id == "handle_by_law":
            cadre = self.county.person("legal_adviser", p.village, f"{p.village}.lawyer")
        data: dict[str, Any] = {
            "solve_problem": {"solution": "协调解决诉求"},
            "educate": {"education": "讲清政策法规，做通思想工作"},
            "assist": {"assistance_type": self.pick((("civil_affairs", 0.5), ("temporary_relief", 0.3),
                                                     ("medical", 0.1), ("employment", 0.1))),
                       "assistance": "落实帮扶救助"},
            "handle_by_law": {"legal_action": "移交派出所依法处理"},
        }[task.element_id]
        return Act(self.days(now, 0.5, 6), cadre, data)

    def confirm_result(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        mediator = self.county.person("mediation_panel", p.village, f"{p.village}.mediator")
        if self.chance(0.85):
            return Act(self.days(now, 0.2, 3), mediator,
                       {"agreement_reached": True, "mediation_note": "双方签订调解协议"})
        route = self.pick((("petition", 0.6), ("legal", 0.4)))
        if route == "petition":
            p.tier = "township"
        return Act(self.days(now, 0.2, 3), mediator,
                   {"agreement_reached": False, "mediation_note": "调解未达成协议", "next_route": route})

    def guide_legal(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        lawyer = self.county.person("legal_adviser", p.village, f"{p.village}.lawyer")
        return Act(self.days(now, 0.5, 4), lawyer,
                   {"legal_route": self.pick((("court", 0.6), ("arbitration", 0.2), ("reconsideration", 0.2))),
                    "legal_guidance": "告知当事人依法通过法定途径解决"})

    # -- 网上群众路线 -----------------------------------------------------------------------------------------
    def respond(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        """回应: a WeChat-group message by the village's cadre (respond_village), a board message by the bureau."""
        unit = self.county.unit(p.category, p.township, accused_of(p))
        p.extras["unit"] = unit
        who = self.county.person("village_cadre", p.village, f"{p.village}.cadre") \
            if task.element_id == "respond_village" else self.bureau()
        return Act(self.within(task, now, late=0.015, usual_days=1, late_days=(0.1, 1), online=True), who,
                   {"response": "您的留言已收到，正在转交办理", "category": p.category, "responsible_unit": unit})

    def claim_message(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        handling = "assign" if p.category == "accusation" or self.chance(0.12) else "answer"
        if handling == "assign":
            p.tier, p.channel = "county", "online"
        return Act(self.within(task, now, late=0.015, usual_days=3, late_days=(0.2, 2), online=True),
                   self.county.handler(self.unit(p)), {"handling": handling, "claim_note": "本单位认领"})

    def answer(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.within(task, now, late=0.02, usual_days=5, late_days=(0.2, 3), online=True),
                   self.county.handler(self.unit(p)), {"answer": "已按政策解答", "policy_basis": "相关政策文件"})

    def feedback(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        level = self.pick(SATISFACTION)
        return Act(self.within(task, now, late=0.015, usual_days=1, late_days=(0.1, 2), online=True),
                   self.county.handler(self.unit(p)),
                   {"feedback": "已将办理结果反馈留言人", "satisfaction": level,
                    "feedback_method": self.pick((("message_board", 0.5), ("wechat_group", 0.3), ("phone", 0.2)))})

    # -- 领导包案 ---------------------------------------------------------------------------------------------
    def list_case(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        leader = self.rng.choice(self.county.county_leaders)
        p.extras["package_leader"] = leader
        p.extras["unit"] = self.county.unit(p.category, p.township, accused_of(p))
        return Act(self.days(now, 0.1, 2), self.bureau(),
                   {"case_ref": str(p.extras.get("case_ref", p.repeat_of or "")),
                    "list_reason": "repeat" if p.times > 1 else "stuck", "case_summary": p.claim,
                    "package_leader": leader})

    def setup_package(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        at = self.days(now, 1, 5)
        p.extras["reports"] = self.rng.randint(1, 4)
        deadline = self.calendar.local_day(at) + DAY * self.rng.randint(30, 75)
        leader = p.extras.get("package_leader") or self.county.county_leaders[0]
        return Act(at, leader, {"leader": leader, "working_team": "县直部门、乡镇、村联合工作专班",
                                "handling_unit": self.unit(p),
                                "responsible_person": self.county.handler(self.unit(p)),
                                "resolution_plan": "一案一策化解方案", "response_mechanism": "每周调度、即时回应",
                                "archive_number": f"BA-{self.calendar.local_day(at).year}-{task.instance_id}",
                                "deadline": deadline.isoformat()})

    def package_work(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        left = p.extras.get("reports", 1) - 1
        p.extras["reports"] = left
        at = self.within(task, now, late=0.10, usual_days=20) if left <= 0 else self.days(now, 5, 15)
        if task.due_at is not None and left > 0:
            at = min(at, self.office(now + (task.due_at - now) / 3))
        return Act(at, self.county.handler(self.unit(p)),
                   {"progress_report": "按方案推进，报告进展", "work_done": left <= 0})

    def propose_close(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.days(now, 1, 4), p.extras.get("package_leader") or self.county.county_leaders[0],
                   {"closing_summary": "化解到位，信访人息诉罢访"})

    def verify(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        verified = self.chance(0.9)
        if not verified:
            p.extras["reports"] = 1
        return Act(self.days(now, 1, 5), self.bureau(),
                   {"verified": verified, "verify_note": "对账核验通过" if verified else "核验未通过，继续办理"})

    # -- 月度通报 ---------------------------------------------------------------------------------------------
    def publish(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.office(now + timedelta(hours=1)), self.bureau(),
                   {"publish_approved": True, "publish_note": "同意通报"})

    def assess(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.days(now, 0.5, 3), self.bureau(), {"assessment_note": "依据通报数据完成月度考核"})

    def reward(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.days(now, 1, 5), self.bureau(),
                   {"rewards_confirmed": True, "reward_note": "零信访村（社区）奖励已兑现"})


def identity(p: Petition) -> dict[str, Any]:
    return {"petitioner_name": p.person.name, "id_number": p.person.id_number, "phone": p.person.phone,
            "township": p.township, "village": p.village, "category": p.category, "claim": p.claim}


def accused_of(p: Petition) -> str | None:
    """An accusation names the village committee it accuses; the handling unit must not be it."""
    return p.village if p.category == "accusation" else None


def make_resident(rng: random.Random, serial: int) -> Resident:
    """A synthetic petitioner with a well-formed ID number (Xupu's area code, a valid check digit)."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    born = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 60))
    body = f"431224{born:%Y%m%d}{serial % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return Resident(name, body + check, phone)
