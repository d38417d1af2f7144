"""月度通报考核兑现: the county bureau approves the month's report, assesses the units and confirms the rewards."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.simulation.petitions import Petition
from workflows.simulation.staff import Act, Handler, Staff, TaskInfo


def publish(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.office(now + timedelta(hours=1)), staff.bureau(),
               {"publish_approved": True, "publish_note": "同意通报"})


def assess(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.days(now, 0.5, 3), staff.bureau(), {"assessment_note": "依据通报数据完成月度考核"})


def reward(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.days(now, 1, 5), staff.bureau(),
               {"rewards_confirmed": True, "reward_note": "零信访村（社区）奖励已兑现"})


HANDLERS: dict[str, Handler] = {"publish": publish, "assess": assess, "reward": reward}
