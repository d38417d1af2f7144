"""`doorstep account create / list / disable / enable` after `org import`: the initial passwords go to a private
file only, one row per person of the scope without an account, and the file is never overwritten."""

from __future__ import annotations

import csv
import json
import stat

from .conftest import ROOT, ok

ORG = ROOT / "bpmn" / "scenarios" / "org.yaml"


def test_create_for_a_unit_writes_a_private_file_and_counts_without_printing_passwords(run, tmp_path) -> None:
    ok(run("init"))
    ok(run("org", "import", str(ORG)))
    ok(run("account", "password", "t02v01.secretary", "--password", "has-one-already"))
    out = tmp_path / "t02.csv"
    created = run("--json", "account", "create", "--unit", "t02", "--out", str(out), "--as", "admin1")
    ok(created)
    report = json.loads(created.stdout)  # the progress went to stderr
    with out.open(encoding="utf-8") as sheet:
        rows = list(csv.DictReader(sheet))
    people = {row["username"] for row in json.loads(ok(run("--json", "account", "list", "--township", "云岭乡")))}
    assert {row["username"] for row in rows} == people - {"t02v01.secretary"} and rows
    assert report["created"] == len(rows) and report["scope"] == "云岭乡（t02）"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert all(len(row["initial_password"]) == 12 and row["initial_password"] not in created.output for row in rows)
    assert f"hashing passwords: {len(rows)}/{len(rows)}" in created.stderr  # progress, on stderr
    listed = json.loads(ok(run("--json", "account", "list", "--township", "t02")))
    assert all(row["has_account"] and row["must_change"] for row in listed if row["username"] != "t02v01.secretary")
    refused = run("account", "create", "--unit", "t01v01", "--out", str(out))
    assert refused.exit_code == 1 and "never overwritten" in refused.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(rows) + 1
    ok(run("account", "disable", rows[0]["username"], "--reason", "调离", "--as", "admin1"))
    assert json.loads(ok(run("--json", "account", "list", "--disabled")))[0]["username"] == rows[0]["username"]
    ok(run("account", "enable", rows[0]["username"]))
    assert json.loads(ok(run("--json", "account", "list", "--disabled"))) == []
