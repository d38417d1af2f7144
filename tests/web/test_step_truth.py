"""Issue 14's walk: a handed-over visit sent back past its deadline. Each change is credited to the step that made
it, every timer and cancellation is in the record, one reminder and one overdue notice, and the ending is named."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.audit import history_from_db, replay_steps, verify
from engine.models import Event
from workflows.cases.script_helpers import script_helpers


def _events(services, case_id: int) -> list[Event]:
    with services.unit_of_work() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == case_id).order_by(Event.seq)))


def test_a_send_back_past_the_deadline_is_recorded_step_by_step(desk, services):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-06"},
                  "t01.leader.social")
    desk.advance(timedelta(days=5))  # the reminder on 3 March, the deadline on 6 March 17:30
    assert sorted(desk.open_elements(case_id)) == ["handle_case", "report_overdue", "send_reminder"]
    desk.complete(case_id, "send_reminder", {"reminder_note": "请抓紧办理"}, "t01.leader.social")
    desk.complete(case_id, "handle_case", {"handling_result": "第一次报告", "outcome": "explain"}, "hrss.handler")
    desk.complete(case_id, "check_result", {"approved": False, "check_note": "退回"}, "t01.leader.social")
    # past the deadline, the send-back gives no second reminder and no second overdue notice
    assert sorted(desk.open_elements(case_id)) == ["handle_case", "report_overdue"]
    desk.complete(case_id, "handle_case", {"handling_result": "第二次报告", "outcome": "support"}, "hrss.handler")
    desk.complete(case_id, "check_result", {"approved": True, "check_note": "同意"}, "t01.leader.social")
    # approval does not take the bureau's notice away; the case goes on to the written reply
    assert sorted(desk.open_elements(case_id)) == ["reply", "report_overdue"]
    desk.complete(case_id, "report_overdue", {"notice": "超期通报"}, "bureau1")
    desk.complete(case_id, "reply", {"outcome": "support", "reply": "已办结", "review_rights_notice": "可申请复查"},
                  "hrss.handler")
    desk.complete(case_id, "rate", {"satisfaction": "satisfied"}, "petitioner")
    desk.advance(timedelta(days=31))  # no review asked for within 30 days: the case closes

    events = _events(services, case_id)
    completions = {e.task_ref: e.data["changes"] for e in events if e.type == "task_completed"}
    assert completions["supervision/send_reminder#1"]["reminder_note"] == [None, "请抓紧办理"]
    assert completions["supervision/handle_case#1"]["handling_result"] == [None, "第一次报告"]
    assert completions["supervision/handle_case#2"]["handling_result"] == ["第一次报告", "第二次报告"]
    assert "handling_result" not in completions["supervision/check_result#2"]  # not the approver's change
    fired = [ref for e in events if e.type == "timer_fired" for ref in e.data["timers"]]
    assert fired[:3] == ["end_of_workday_timer#1", "supervision/remind_timer#1", "supervision/overdue_timer#1"]
    assert [ref.rsplit("/", 1)[-1] for ref in fired[3:]] == ["review_window#1"]
    overdue = next(e for e in events if e.type == "timer_fired" and "supervision/overdue_timer#1" in e.data["timers"])
    assert overdue.data["changes"]["overdue"] == [False, True]  # the overdue mark, on the timer that set it
    decisions = [e.data["decisions"] for e in events if "decisions" in e.data]
    assert {"supervision/check_gateway#1": ["handle_merge"]} in decisions
    approval = next(d for d in decisions if "supervision/check_gateway#2" in d)
    assert approval["supervision/check_gateway#2"] == ["handled"]
    assert approval["statutory/gw_entry#1"] == ["reply"]  # the same step enters the statutory path at its reply
    ending = events[-1]
    assert ending.type == "completed"
    assert (ending.data["end"], ending.data["terminate"]) == ("handed_over#1", None)  # the reception's own end

    with services.unit_of_work() as session:
        history = history_from_db(session, case_id)
        assert verify(history, set(script_helpers(session))).ok
        steps = list(replay_steps(history, set(script_helpers(session))))
    after_second = next(s for s in steps if s.event["task"] == "supervision/handle_case#2")
    assert after_second.data["handling_result"] == "第二次报告" and after_second.data["reminder_note"] == "请抓紧办理"


def test_approval_before_the_deadline_withdraws_the_reminder_with_its_cause(desk, services):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    desk.complete(case_id, "handle_case", {"handling_result": "已办结", "outcome": "support"}, "hrss.handler")
    desk.complete(case_id, "check_result", {"approved": True}, "t01.leader.social")
    events = _events(services, case_id)
    (withdrawn,) = [e for e in events if e.type == "task_cancelled"]
    assert withdrawn.task_ref == "supervision/remind_timer#1"
    assert withdrawn.data == {"cause": "supervision/handled#1", "reason": "terminate_end"}
    assert desk.open_elements(case_id) == ["reply"]  # on to the written reply, not the end
