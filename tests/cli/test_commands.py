"""The `doorstep` command end to end: the README walk-through, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import ROOT, ok

ORG = ROOT / "bpmn" / "scenarios" / "org.yaml"
VISIT = {"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234", "headcount": 1,
         "township": "t01", "village": "t01v01", "category": "land", "claim": "承包地被占用修路，补偿款未到位"}


def test_reception_case_from_registration_to_overdue_escalation(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    ok(run("org", "import", str(ORG)))
    assert "case 1 started" in ok(run("case", "start", "reception", "--as", "t01v01.secretary"))
    ok(run("task", "complete", "1/register_visit", "--as", "t01v01.secretary", "--data", json.dumps(VISIT)))
    assert "接谈研判  [乡镇信访干部]" in ok(run("task", "list", "--case", "1"))
    ok(run("task", "complete", "1/hear_claim", "--as", "t01.cadre", "--data", json.dumps({"disposition": "hand_over"})))
    advanced = ok(run("clock", "advance", "PT9H"))
    assert "fired end_of_workday_timer#1" in advanced
    tasks = json.loads(ok(run("--json", "task", "list", "--case", "1")))
    assert [(t["element"], t["lane"]) for t in tasks] == [("assign_unit", "分管领导")]
    ok(run("task", "complete", "1/assign_unit", "--as", "t01.leader1", "--data",
           json.dumps({"handling_unit": "县自然资源局", "deadline": "2026-03-20"})))
    handle = json.loads(ok(run("--json", "task", "list", "--case", "1")))[0]
    assert handle["element"] == "handle_case" and handle["due_at"].startswith("2026-03-20T09:30")
    assert "supervision/remind_timer#1" in ok(run("clock", "advance", "P16D"))
    assert "supervision/overdue_timer#1" in ok(run("clock", "advance", "P3D"))
    shown = json.loads(ok(run("--json", "case", "show", "1")))
    assert sorted(t["element"] for t in shown["tasks"]) == ["handle_case", "report_overdue", "send_reminder"]
    assert [e["type"] for e in shown["events"]].count("timer_fired") == 3
    assert shown["status"] == "running"


def test_clock_show_and_advance_need_a_simulated_clock(run) -> None:
    ok(run("init"))
    assert "system clock" in ok(run("clock", "show"))
    refused = run("clock", "advance", "P1D")
    assert refused.exit_code == 1 and "simulated-clock" in refused.stderr


def test_user_errors_exit_1_with_one_line_and_change_nothing(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    ok(run("case", "start", "reception", "--as", "a"))
    for args, words in [
        (("task", "complete", "feedbeef00", "--as", "a"), "no task feedbeef00"),
        (("task", "complete", "1/register_visit", "--as", "a", "--data", "{not json"), "--data is not valid JSON"),
        (("task", "complete", "1/register_visit", "--as", "a", "--data", "[1, 2]"), "--data must be a JSON object"),
        (("case", "start", "no_such_process", "--as", "a"), "no process 'no_such_process'"),
        (("case", "show", "99"), "no case 99"),
        (("clock", "advance", "15 days"), "not an ISO 8601 duration"),
    ]:
        result = run(*args)
        assert result.exit_code == 1, args
        assert words in result.stderr and result.stderr.count("\n") == 1, result.stderr
    shown = json.loads(ok(run("--json", "case", "show", "1")))
    assert [e["type"] for e in shown["events"]] == ["started"]


def test_usage_errors_exit_2(run) -> None:
    assert run("case", "start").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_validate_reports_file_line_element_and_deploy_is_idempotent(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text((ROOT / "bpmn" / "supervision.bpmn").read_text(encoding="utf-8")
                   .replace('name="deadline_at"', 'name="deadline_at"')
                   .replace("<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">deadline_at</bpmn:timeDate>",
                            "<bpmn:timeDate xsi:type=\"bpmn:tFormalExpression\">P15D</bpmn:timeDate>"),
                   encoding="utf-8")
    result = run("bpmn", "validate", str(bad))
    assert result.exit_code == 1
    line = next(text for text in result.output.splitlines() if "P15D" in text)
    file_part, number, element, message = line.split(":", 3)
    assert file_part == "bad.bpmn" and int(number) > 0 and element.strip() == "overdue_timer"
    assert '请加引号："P15D"' in message
    ok(run("init"))
    assert "unchanged" in ok(run("bpmn", "deploy", str(ROOT / "bpmn")))
    assert "OK: 11 executable process(es)" in ok(run("bpmn", "validate", str(ROOT / "bpmn")))


def test_task_complete_checks_the_data_as_the_task_page_does_and_changes_nothing_when_refused(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    ok(run("org", "import", str(ORG)))
    ok(run("case", "start", "reception", "--as", "t01v01.secretary"))
    refused = run("task", "complete", "1/register_visit", "--as", "t01v01.secretary", "--data",
                  json.dumps({**VISIT, "township": "t99"}))
    assert refused.exit_code == 1 and "township: 没有找到该乡镇" in refused.stderr
    assert [t["element"] for t in json.loads(ok(run("--json", "task", "list", "--case", "1")))] == ["register_visit"]
    ok(run("task", "complete", "1/register_visit", "--as", "t01v01.secretary", "--data", json.dumps(VISIT)))
    ok(run("task", "complete", "1/hear_claim", "--as", "t01.cadre", "--data", json.dumps({"disposition": "hand_over"})))
    ok(run("clock", "advance", "PT9H"))
    # a unit given by its name is stored as its code, as the page stores it (the reply needs the code)
    ok(run("task", "complete", "1/assign_unit", "--as", "t01.leader1", "--data",
           json.dumps({"handling_unit": "县自然资源局", "deadline": "2026-03-20"})))
    shown = json.loads(ok(run("--json", "case", "show", "1")))
    assigned = next(e for e in shown["events"] if e["type"] == "task_completed" and "assign_unit" in e["task"])
    assert assigned["data"]["submitted"]["handling_unit"] == "county-natural-resources"


def test_an_incident_is_retried_with_corrected_data_and_the_reason_is_recorded(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    ok(run("org", "import", str(ORG)))
    ok(run("case", "start", "reception", "--as", "t01v01.secretary"))
    ok(run("task", "complete", "1/register_visit", "--as", "t01v01.secretary", "--data",
           json.dumps({**VISIT, "township": "t02", "village": "t02v01"})))  # t02 has no leader for land claims
    ok(run("task", "complete", "1/hear_claim", "--as", "t01.cadre", "--data", json.dumps({"disposition": "hand_over"})))
    ok(run("clock", "advance", "PT9H"))
    stopped = json.loads(ok(run("--json", "case", "show", "1")))
    assert stopped["status"] == "incident" and stopped["incidents"][0]["element"] == "find_leader"
    refused = run("case", "retry", "1", "--data", json.dumps({"category": "infrastructure"}), "--as", "admin")
    assert refused.exit_code == 1 and "needs a reason" in refused.stderr
    retried = ok(run("case", "retry", "1", "--data", json.dumps({"category": "infrastructure"}),
                     "--reason", "诉求类别登记错误", "--as", "admin"))
    assert "resolved" in retried and "交办" in retried
    shown = json.loads(ok(run("--json", "case", "show", "1")))
    resolved = next(e for e in shown["events"] if e["type"] == "incident_resolved")
    assert resolved["actor"] == "admin" and resolved["data"]["reason"] == "诉求类别登记错误"
    assert resolved["data"]["corrected"] == {"category": "infrastructure"}
    assert "OK" in ok(run("audit", "verify", "1"))


def test_org_check_of_the_demo_county_is_clean_until_an_import_takes_a_units_only_handler(run, tmp_path: Path) -> None:
    assert "组织机构检查：未发现问题。" in ok(run("init", "--demo"))
    assert "未发现问题" in ok(run("org", "check"))
    assert json.loads(ok(run("--json", "org", "check"))) == {"ok": True, "count": 0, "problems": []}
    moved = tmp_path / "moved.yaml"  # the only 承办单位 of the social security bureau moves to the civil affairs bureau
    moved.write_text("people:\n  - username: county-hrss.handler\n    name: 调岗人员\n    positions:\n"
                     "      - {role: handling_unit, unit: county-civil-affairs}\n", encoding="utf-8")
    imported = ok(run("org", "import", str(moved)))
    gap = "承办单位 county-hrss 永远不会被推荐：县人力资源和社会保障局没有可以办理的承办人员"
    assert "警告：组织机构检查发现 1 个问题" in imported and gap in imported
    checked = run("org", "check")
    assert checked.exit_code == 1
    assert "发现 1 个问题" in checked.output and gap in checked.output
    assert "社会保障（social_security）、劳动就业（labor）" in checked.output  # what the tables route to it


def test_org_check_names_each_gap_of_a_small_org_and_exits_1(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    imported = ok(run("org", "import", str(ORG)))
    checked = run("--json", "org", "check")
    assert checked.exit_code == 1
    found = json.loads(checked.output)
    assert found["count"] == len(found["problems"]) > 0 and not found["ok"]
    assert all(problem in imported for problem in found["problems"])
    problems = "\n".join(found["problems"])
    # a handling unit of the tables where nobody holds 承办单位, named with the claims routed to it
    assert ("承办单位 county-justice 永远不会被推荐：县司法局没有可以办理的承办人员，请另选承办单位"
            "（路由表中用于矛盾纠纷（dispute））") in problems
    assert "青溪镇（t01）的接访排班表 2026-03-02 起没有人值班" in problems  # the scenario org has no rota
    assert "云岭乡（t02）没有人担任金牌调解室" in problems


def test_rota_for_an_imported_org_generate_show_swap_reassign_and_log(run) -> None:
    ok(run("init", "--simulated-clock", "2026-03-02T09:00:00+08:00"))
    ok(run("org", "import", str(ORG)))
    assert "接访排班表" in run("org", "check").output
    written = ok(run("rota", "generate", "--from", "2026-03-02", "--to", "2026-03-31"))
    assert "青溪镇（t01）：写入 22 个工作日（2026-03-02 至 2026-03-31）" in written
    assert "云岭乡（t02）：写入 22 个工作日" in written
    assert "接访排班表" not in run("org", "check").output  # the check no longer misses a rota
    overlap = run("rota", "generate", "--from", "2026-03-30", "--to", "2026-04-03", "--township", "青溪镇")
    assert overlap.exit_code == 1
    assert "--from: 青溪镇（t01）已有 2026-03-30 至 2026-03-31 的排班：要重新生成请加 --replace" in overlap.stderr
    past = run("rota", "generate", "--from", "2026-02-27", "--to", "2026-03-06", "--replace")
    assert past.exit_code == 1 and "--from: 2026-02-27 已经过去" in past.stderr  # who sat then is that day's record
    shown = json.loads(ok(run("--json", "rota", "show", "--township", "t01", "--days", "3")))
    assert [(r["day"], r["weekday"], r["secretary"], r["village"], r["cadre"]) for r in shown] == [
        ("2026-03-02", "一", "t01v01.secretary", "桃园社区", "t01.cadre"),
        ("2026-03-03", "二", "t01v02.secretary", "杉坡村", "t01.cadre"),
        ("2026-03-04", "三", "t01v03.secretary", "枣岗村", "t01.cadre")]
    swapped = ok(run("rota", "swap", "t01", "2026-03-02", "2026-03-04", "--as", "bureau1"))
    assert "2026-03-02 由 陈磊（t01v03.secretary）坐班" in swapped
    for args, words in [
        (("t01", "2026-03-03", "--secretary", "t02v01.secretary"),
         "--secretary: t02v01.secretary 不是青溪镇（t01）所辖村"),
        (("t01", "2026-03-03", "--cadre", "t02.cadre"), "--cadre: t02.cadre 不是青溪镇（t01）的乡镇信访干部"),
        (("t01", "2026-02-27", "--secretary", "t01v01.secretary"), "DAY: 2026-02-27 已经过去"),
        (("t01", "2026-03-07", "--secretary", "t01v01.secretary"), "DAY: 2026-03-07 不是工作日"),
        (("t01", "2026-03-03"), "请至少指定一位改派的人员"),
        (("t99", "2026-03-03", "--secretary", "t01v01.secretary"), "TOWNSHIP:"),
    ]:
        refused = run("rota", "reassign", *args)
        assert refused.exit_code == 1 and words in refused.stderr, (args, refused.stderr)
    ok(run("rota", "reassign", "t01", "2026-03-03", "--secretary", "t01v01.secretary", "--as", "t01.cadre"))
    days = {r["day"]: r["secretary"] for r in json.loads(ok(run("--json", "rota", "show", "--days", "3",
                                                                "--township", "t01")))}
    assert days == {"2026-03-02": "t01v03.secretary", "2026-03-03": "t01v01.secretary",
                    "2026-03-04": "t01v01.secretary"}
    logged = json.loads(ok(run("--json", "rota", "changes", "--township", "t01")))
    assert [(c["actor"], c["action"]) for c in logged] == [("system", "generate"), ("bureau1", "swap"),
                                                          ("t01.cadre", "reassign")]
    assert "刘静（t01v02.secretary）" in logged[2]["detail"] and "张伟（t01v01.secretary）" in logged[2]["detail"]
    bad_day = run("rota", "swap", "t01", "2026-03-02", "2026-03-0x")
    assert bad_day.exit_code == 2 and "'DAY2': '2026-03-0x' 不是日期" in bad_day.output + bad_day.stderr
