"""A county installed the operator's way, without the demo: `init` → `org import` → `org check` → `rota generate` →
`account create` → the web app. The county below shares no township, village or person code with the demo or the
other tests' org files, so a command or page that assumed the demo's codes would fail here."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from doorstep.config import Settings
from doorstep.services import Services
from tests.web.conftest import Api
from web import create_app
from web.extensions import db

from .conftest import ROOT, ok

START = "2026-12-07T09:00:00+08:00"  # a Monday
SECRET = "county-install-test-secret"

HANDLERS = (  # the staff of the handling units: each handles and approves the extensions of their unit's cases
    ("zrzy.handler", "黄河", "county-natural-resources"),
    ("zj.handler", "周敏", "county-housing"),
    ("rs.handler", "吴刚", "county-hrss"),
    ("mz.handler", "郑丽", "county-civil-affairs"),
    ("st.handler", "孙杰", "county-ecology"),
    ("jt.handler", "冯涛", "county-transport"),
    ("sl.handler", "韩梅", "county-water"),
    ("sf.handler", "唐宁", "county-justice"),
    ("ga.handler", "钟诚", "county-public-security"),
    ("jw.handler", "蒋清", "county-discipline"),
)

# Two townships, three villages, one grid; every lane of the diagrams held in each township; an office for each
# unit of workflows/data/handling_units.yaml and the two governments of review_bodies.yaml. The townships' 分管领导
# (one person holding all five domains) and the handling units' staff (HANDLERS) are appended after the text.
COUNTY = """\
version: 1
units:
  - code: chenxi
    name: 辰溪县
    level: county
    children:
      - code: cx01
        name: 城郊镇
        level: township
        children:
          - code: cx01v01
            name: 柳树村
            level: village
            children:
              - {code: cx01v01g01, name: 柳树村第1网格, level: grid}
          - {code: cx01v02, name: 桥头村, level: village}
      - code: cx02
        name: 火马冲镇
        level: township
        children:
          - {code: cx02v01, name: 石碧村, level: village}
      - {code: county-petition-bureau, name: 县信访局, kind: office}
      - {code: county-natural-resources, name: 县自然资源局, kind: office}
      - {code: county-housing, name: 县住建局, kind: office}
      - {code: county-hrss, name: 县人社局, kind: office}
      - {code: county-civil-affairs, name: 县民政局, kind: office}
      - {code: county-ecology, name: 县生态环境局, kind: office}
      - {code: county-transport, name: 县交通运输局, kind: office}
      - {code: county-water, name: 县水利局, kind: office}
      - {code: county-justice, name: 县司法局, kind: office}
      - {code: county-public-security, name: 县公安局, kind: office}
      - {code: county-discipline, name: 县纪委监委, kind: office}
      - {code: county-government, name: 县人民政府, kind: office}
      - {code: city-government, name: 怀化市人民政府（复核）, kind: office}
people:
  - username: cx01v01.secretary
    name: 舒建国
    positions:
      - {role: duty_secretary, unit: cx01v01}
      - {role: village_cadre, unit: cx01v01}
  - username: cx01v02.secretary
    name: 米兰
    positions:
      - {role: duty_secretary, unit: cx01v02}
      - {role: village_cadre, unit: cx01v02}
  - username: cx02v01.secretary
    name: 向东
    positions:
      - {role: duty_secretary, unit: cx02v01}
      - {role: village_cadre, unit: cx02v01}
  - {username: cx01v01g01.worker, name: 瞿红, positions: [{role: grid_worker, unit: cx01v01g01}]}
  - {username: cx01.cadre, name: 张平, positions: [{role: township_cadre, unit: cx01}]}
  - {username: cx02.cadre, name: 李雪, positions: [{role: township_cadre, unit: cx02}]}
  - username: cx01.mediator
    name: 曾慧
    positions:
      - {role: mediation_panel, unit: cx01}
      - {role: review_body, unit: cx01}
  - username: cx02.mediator
    name: 邓林
    positions:
      - {role: mediation_panel, unit: cx02}
      - {role: review_body, unit: cx02}
  - username: cx01.liaison
    name: 彭飞
    positions:
      - {role: village_liaison, unit: cx01v01}
      - {role: village_liaison, unit: cx01v02}
  - {username: cx02.liaison, name: 刘洋, positions: [{role: village_liaison, unit: cx02v01}]}
  - username: cx01.team
    name: 石磊
    positions:
      - {role: backer_unit_head, unit: cx01v01}
      - {role: backer_unit_head, unit: cx01v02}
      - {role: work_team, unit: cx01v01}
      - {role: work_team, unit: cx01v02}
      - {role: legal_adviser, unit: cx01v01}
      - {role: legal_adviser, unit: cx01v02}
  - username: cx02.team
    name: 杨帆
    positions:
      - {role: backer_unit_head, unit: cx02v01}
      - {role: work_team, unit: cx02v01}
      - {role: legal_adviser, unit: cx02v01}
  - username: xfj.clerk
    name: 陈红
    positions:
      - {role: county_bureau, unit: county-petition-bureau}
      - {role: handling_unit, unit: county-petition-bureau}
  - {username: xfj.head, name: 林峰, positions: [{role: agency_head, unit: county-petition-bureau}]}
  - {username: jw.staff, name: 姚正清, positions: [{role: discipline, unit: county-discipline}]}
  - username: zf.reviewer
    name: 贺明
    positions:
      - {role: review_body, unit: county-government}
      - {role: reexam_body, unit: county-government}
  - {username: city.reexam, name: 田野, positions: [{role: reexam_body, unit: city-government}]}
  - {username: county.leader, name: 包县长, positions: [{role: case_leader, unit: chenxi}]}
  - {username: auditor, name: 审计员, positions: [{role: auditor, unit: chenxi}]}
  - {username: designer, name: 设计员, positions: [{role: designer, unit: chenxi}]}
""" + "".join(f"""\
  - username: {town}.leader
    name: {name}
    positions: [{", ".join(f"{{role: responsible_leader, unit: {town}, domain: {domain}}}"
                           for domain in ("rural", "land", "social", "law", "discipline"))}]
""" for town, name in (("cx01", "王志"), ("cx02", "谭军"))) + "".join(f"""\
  - username: {username}
    name: {name}
    positions: [{{role: handling_unit, unit: {unit}}}, {{role: agency_head, unit: {unit}}}]
""" for username, name, unit in HANDLERS)

VISIT = {"headcount": 1, "village": "cx01v02", "category": "social_security", "claim": "低保资格复核进度",
         "petitioners": [{"petitioner_name": "舒桂英", "id_number": "431224196802150021", "phone": "13807451234"}]}
LETTER = {"channel": "letter", "category": "dispute", "petitioner_name": "张秋菊", "id_number": "431224196504110529",
          "phone": "13873025571", "headcount": 1, "township": "cx02", "village": "cx02v01",
          "claim": "邻居搭建猪圈堵塞排水沟", "confidentiality_requested": False}
GRID_ISSUE = {"household": "李大爷", "source": "home_visit", "category": "infrastructure",
              "claim": "村道路灯坏了三盏", "complexity": "general"}


@pytest.fixture
def installed(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Install the county by command, checking what each step prints; the usernames' initial passwords."""
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", SECRET)
    assert "simulated clock set to 2026-12-07 09:00" in ok(run("init", "--simulated-clock", START))
    org = tmp_path / "county.yaml"
    org.write_text(COUNTY, encoding="utf-8")
    imported = ok(run("org", "import", str(org)))
    assert "people created: 32" in imported
    before = run("org", "check")
    assert before.exit_code == 1, before.output
    # the only gaps left are the reception rooms nobody sits in yet, one per township
    assert "发现 2 个问题" in before.output and before.output.count("接访排班表 2026-12-07 起没有人值班") == 2
    generated = ok(run("rota", "generate", "--from", "2026-12-07", "--to", "2026-12-18"))
    assert "城郊镇（cx01）：写入 10 个工作日" in generated and "火马冲镇（cx02）：写入 10 个工作日" in generated
    assert "未发现问题" in ok(run("org", "check"))
    logins = tmp_path / "logins.csv"
    created = ok(run("account", "create", "--all", "--out", str(logins), "--jobs", "1", "--as", "admin1"))
    assert "32 accounts created" in created
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    with logins.open(encoding="utf-8") as sheet:
        rows = list(csv.DictReader(sheet))
    people = {row["username"] for row in json.loads(ok(run("--json", "account", "list")))}
    assert sorted(row["username"] for row in rows) == sorted(people) and len(people) == 32
    return {row["username"]: row["initial_password"] for row in rows}


@pytest.fixture
def app(installed: dict[str, str]) -> Iterator[Flask]:
    """The web app on the installed county's database (the URL the commands used)."""
    settings = Settings(database_url=os.environ["DOORSTEP_DATABASE_URL"], bpmn_dir=ROOT / "bpmn",
                        secret_key=SECRET, host="127.0.0.1", port=5000)
    services = Services.from_settings(settings)
    app = create_app(settings, {"TESTING": True}, services=services)
    yield app
    with app.app_context():
        db.engine.dispose()  # the app's own pool: closed now, before the next test resets the database
    services.db.dispose()


def _csrf(client: FlaskClient, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert found, url
    return found.group(1)


def first_login(app: Flask, username: str, initial: str) -> Api:
    """Log in with the initial password, be sent to change it, change it, then get an API token."""
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": initial,
                                         "csrf_token": _csrf(client, "/login")})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password")
    assert client.get("/tasks").headers["Location"].endswith("/account/password")
    refused = client.post("/api/v1/tokens", json={"username": username, "password": initial})
    assert refused.status_code == 403
    own = f"{username}-own-secret-5"
    changed = client.post("/account/password", data={"current": initial, "new": own, "confirm": own,
                                                      "csrf_token": _csrf(client, "/account/password")})
    assert changed.status_code == 302 and client.get("/tasks").status_code == 200
    issued = client.post("/api/v1/tokens", json={"username": username, "password": own})
    assert issued.status_code == 201, issued.get_json()
    return Api(app, issued.get_json()["token"])


def read(api: Api, url: str) -> Any:
    """GET `url` through the API; the body of its 200 answer."""
    answer = api.get(url)
    assert answer.status_code == 200, (url, answer.get_json())
    return answer.get_json()


def complete(api: Api, case_id: int, task_name: str, data: dict[str, Any]) -> Any:
    """Complete the caller's open task `task_name` of the case through the API; the answer's body."""
    tasks = [t for t in read(api, f"/api/v1/tasks?case={case_id}")["items"] if t["name"] == task_name]
    assert len(tasks) == 1, (task_name, tasks)
    done = api.post(f"/api/v1/tasks/{tasks[0]['id']}/complete", {"data": data})
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def test_the_duty_secretary_and_the_cadre_take_a_visit_to_its_end(run, app, installed) -> None:
    duty = {row["township"]: row for row in json.loads(ok(run("--json", "rota", "show", "--days", "1")))}
    today = duty["城郊镇（cx01）"]
    assert (today["day"], today["secretary"], today["cadre"]) == ("2026-12-07", "cx01v01.secretary", "cx01.cadre")
    off_duty = first_login(app, "cx01v02.secretary", installed["cx01v02.secretary"])
    refused = off_duty.post("/api/v1/cases", {"process_id": "reception", "data": VISIT})
    assert refused.status_code == 403 and "不在乡镇接访室坐班" in refused.get_json()["error"]["message"]

    secretary = first_login(app, today["secretary"], installed[today["secretary"]])
    started = secretary.post("/api/v1/cases", {"process_id": "reception", "data": VISIT})
    assert started.status_code == 201, started.get_json()
    case = started.get_json()
    assert case["next_steps"] == ["接谈研判"] and re.fullmatch(r"\S+", case["case_number"])
    cadre = first_login(app, today["cadre"], installed[today["cadre"]])
    heard = complete(cadre, case["id"], "接谈研判", {"disposition": "answer", "note": "政策明确，当场解释"})
    assert [task["name"] for task in heard["next_tasks"]] == ["记录当场答复"]
    complete(secretary, case["id"], "记录当场答复", {"answer": "复核结果将于本月公示", "outcome": "explain"})
    shown = read(cadre, f"/api/v1/cases/{case['id']}")
    assert (shown["case_number"], shown["status"], shown["places"]) == (case["case_number"], "closed",
                                                                        ["城郊镇", "桥头村"])
    verified = ok(run("audit", "verify", "--all"))
    assert f"case {case['id']}" in verified and "OK" in verified


def test_the_grid_worker_and_the_county_bureau_open_their_doors(run, app, installed) -> None:
    worker = first_login(app, "cx01v01g01.worker", installed["cx01v01g01.worker"])
    grid = worker.post("/api/v1/cases", {"process_id": "grid_visit", "data": GRID_ISSUE})
    assert grid.status_code == 201, grid.get_json()
    assert read(worker, f"/api/v1/cases/{grid.get_json()['id']}")["places"] == ["城郊镇", "柳树村", "柳树村第1网格"]
    bureau = first_login(app, "xfj.clerk", installed["xfj.clerk"])
    letter = bureau.post("/api/v1/cases", {"process_id": "petition", "data": LETTER})
    assert letter.status_code == 201, letter.get_json()
    assert read(bureau, f"/api/v1/cases/{letter.get_json()['id']}")["places"] == ["火马冲镇", "石碧村"]
    not_bureau = worker.post("/api/v1/cases", {"process_id": "petition", "data": LETTER})
    assert not_bureau.status_code == 403
