"""How the simulated county acts on registration decisions and the statutory path (信访事项办理, 依法办理).

`CountyStaff` is `Staff` plus the tasks of `petition` and `statutory`: the registrar's decision, assignment to a
handling unit, the discipline body's acceptance of accusations, the objection window, handling and extension
(approved by the agency's head), the written reply, the petitioner's rating and requests, and the review and
re-examination bodies one level above the handler (workflows/data/review_bodies.yaml).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from workflows.cases.calendar import WorkCalendar
from workflows.simulation.staff import (
    OUTCOMES,
    PETITIONER,
    SATISFACTION,
    Act,
    County,
    Petition,
    Staff,
    TaskInfo,
    accused_of,
    identity,
)

REVIEW_RIGHTS = "对答复意见不服的，可以自收到书面答复之日起30日内请求原办理机关的上一级机关复查。"
DECISIONS = (("accept", 0.9), ("not_accept", 0.04), ("legal_referral", 0.03), ("transfer", 0.03))
COUNTY_GOVERNMENT, CITY_GOVERNMENT, DISCIPLINE = "county-government", "city-government", "county-discipline"


class CountyStaff(Staff):
    """Everyone who works a case, the registrar and the statutory path included."""

    def __init__(self, county: County, calendar: WorkCalendar, rng: random.Random):
        super().__init__(county, calendar, rng)
        self.handlers.update({
            "register": self.register, "decide_registration": self.decide_registration,
            "assign_handling": self.assign_handling, "discipline_accept": self.discipline_accept,
            "village_resolve": self.village_resolve, "township_resolve": self.township_resolve,
            "accept_handover": self.accept_handover, "confirm_competence": self.confirm_competence,
            "handle": self.handle, "approve_extension": self.approve_extension, "reply": self.reply,
            "rate": self.rate, "request_review": self.request_review, "review_decide": self.review_decide,
            "request_reexam": self.request_reexam, "reexam_decide": self.reexam_decide,
        })

    # -- registration ---------------------------------------------------------------------------------------------
    def register(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        data: dict[str, Any] = {**identity(p), "channel": p.channel, "headcount": p.headcount,
                                "confidentiality_requested": p.category == "accusation" or self.chance(0.03)}
        if p.category == "accusation":
            data["accused_unit"] = accused_of(p)
        # A visit is registered while the visitors are there, as they arrive; a letter or a call some time later.
        return Act(now if p.channel == "visit" else self.days(now, 0.05, 2), self.bureau(), data)

    def decide_registration(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        decision = "accept" if p.category == "accusation" else self.pick(DECISIONS)
        data: dict[str, Any] = {"decision": decision, "notice": "书面告知信访人", "tier": p.tier}
        if decision == "not_accept":
            data["decision_reason"] = "不属于信访事项受理范围"
        elif decision == "legal_referral":
            data["legal_route"] = self.pick((("court", 0.5), ("arbitration", 0.3), ("reconsideration", 0.2)))
        elif decision == "transfer":
            data["transfer_outside"] = "有权处理的县外机关"
        if p.repeat_of:
            data["repeat_of"] = p.repeat_of
        return Act(self.within(task, now, late=0.03, usual_days=8, late_days=(1, 5)), self.bureau(), data)

    def assign_handling(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.days(now, 0.1, 2), self.bureau(), {"handling_unit": self.unit(p)})

    def discipline_accept(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        p.extras["unit"] = DISCIPLINE
        return Act(self.days(now, 0.2, 3), self.county.person("discipline", DISCIPLINE, f"{DISCIPLINE}.staff"),
                   {"handling_unit": DISCIPLINE, "acceptance_notice": "已受理，由县纪委监委办理"})

    def village_resolve(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        cadre = self.county.person("village_cadre", p.village, f"{p.village}.cadre")
        return self._tier_attempt(task, p, now, cadre, "village", (0.58, 10, "村干部与网格员上门化解"))

    def township_resolve(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        cadre = self.county.person("township_cadre", p.township, f"{p.township}.cadre")
        return self._tier_attempt(task, p, now, cadre, "township", (0.55, 12, "乡镇组织相关站所化解"))

    def _tier_attempt(self, task: TaskInfo, p: Petition, now: datetime, actor: str, tier: str,
                      how: tuple[float, float, str]) -> Act:
        """A village or township tries to resolve the claim; who answered is remembered for the review body."""
        chance, usual_days, note = how
        data = self._resolution(chance, note)
        p.extras["handled_at"] = tier if data["resolved"] else None
        return Act(self.within(task, now, late=0.05, usual_days=usual_days), actor, data)

    def _resolution(self, chance: float, note: str) -> dict[str, Any]:
        if self.chance(chance):
            return {"resolved": True, "resolution_note": f"{note}，已化解", "outcome": self.pick(OUTCOMES),
                    "reply": "已当面答复信访人"}
        return {"resolved": False, "resolution_note": f"{note}，未能化解，上升一级"}

    def accept_handover(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        return Act(self.within(task, now, late=0.03, usual_days=3, late_days=(1, 5)),
                   self.county.leader(p.township, p.category),
                   {"acceptance_notice": "已书面告知信访人予以受理", "handling_unit": self.unit(p)})

    # -- the statutory path ---------------------------------------------------------------------------------------
    def confirm_competence(self, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
        if self.chance(0.3):
            return None  # no objection within 5 working days: accepted by silence
        return Act(self.days(now, 0.1, 2), self.county.handler(self.unit(p)), {"competent": True})

    def handle(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        actor = self.county.handler(self.unit(p))
        if not p.extras.get("extension_asked") and self.chance(0.08):
            p.extras["extension_asked"] = True
            return Act(self.within(task, now, late=0.0, usual_days=50), actor,
                       {"handling_action": "extend", "handling_note": "情况复杂，需进一步调查核实",
                        "extension_reason": "涉及多个部门，需现场勘验", "extension_days": self.rng.randint(15, 30)})
        return Act(self.within(task, now, late=0.05, usual_days=40, late_days=(1, 20)), actor,
                   {"handling_action": "done", "handling_note": "已调查核实并形成处理意见"})

    def approve_extension(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        unit = self.unit(p)
        approved = self.chance(0.85)
        data: dict[str, Any] = {"extension_approved": approved,
                                "approval_note": "同意延期" if approved else "不予延期，请按原期限办结"}
        if approved:
            data["extension_notice"] = "因情况复杂需现场勘验，办理期限延长，特此告知"
        return Act(self.days(now, 0.2, 3), self.county.person("agency_head", unit, f"{unit}.head"), data)

    def reply(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        actor = self.county.handler(self.unit(p))
        return Act(self.days(now, 0.5, 3), actor, {"outcome": self.pick(OUTCOMES), "reply": "出具书面处理意见并送达",
                                                   "review_rights_notice": REVIEW_RIGHTS})

    def rate(self, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
        if not self.chance(0.8):
            return None
        level = self.pick(SATISFACTION)
        p.extras["satisfaction"] = level
        if self.chance(0.25):  # told on a return call: the bureau records it, marked so
            return Act(self.days(now, 0.5, 5), self.bureau(), {"satisfaction": level, "rating_source": "recorded"})
        return Act(self.days(now, 0.5, 6, online=True), PETITIONER,
                   {"satisfaction": level, "rating_source": "petitioner"})

    def request_review(self, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
        unhappy = p.extras.get("satisfaction") in ("dissatisfied", "very_dissatisfied")
        if not self.chance(0.45 if unhappy else 0.03):
            return None
        return Act(self.days(now, 3, 25, online=True), PETITIONER, {"review_reason": "对处理意见不服，申请复查"})

    def review_decide(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        unit = p.township if p.extras.get("handled_at") == "village" else COUNTY_GOVERNMENT
        return Act(self.within(task, now, late=0.03, usual_days=25),
                   self.county.person("review_body", unit, f"{unit}.reviewer"),
                   {"review_decision": self.pick((("uphold", 0.8), ("revise", 0.2))),
                    "outcome": self.pick(OUTCOMES), "review_opinion": "经复查，出具复查意见"})

    def request_reexam(self, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
        if not self.chance(0.3):
            return None
        return Act(self.days(now, 5, 25, online=True), PETITIONER, {"reexam_reason": "对复查意见不服，申请复核"})

    def reexam_decide(self, task: TaskInfo, p: Petition, now: datetime) -> Act:
        unit = COUNTY_GOVERNMENT if p.extras.get("handled_at") == "village" else CITY_GOVERNMENT
        return Act(self.within(task, now, late=0.03, usual_days=25),
                   self.county.person("reexam_body", unit, f"{unit}.staff"),
                   {"reexam_decision": self.pick((("uphold", 0.85), ("revise", 0.15))),
                    "outcome": self.pick(OUTCOMES), "reexam_opinion": "经复核，维持或变更复查意见"})
