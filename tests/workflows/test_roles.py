import re
from pathlib import Path

import pytest

from workflows.org.roles import BY_LANE, LEVELS, ROLES, UnknownRole, find_role, role_by_code, role_by_lane

CONVENTIONS = Path(__file__).parents[2] / "bpmn" / "CONVENTIONS.md"


def test_every_lane_named_in_the_conventions_maps_to_a_role():
    text = CONVENTIONS.read_text(encoding="utf-8")
    listed = re.search(r"exactly as in\s+`[^`]+`\s+\(([^)]*)\)", text)
    assert listed, "the lane list moved in bpmn/CONVENTIONS.md"
    lanes = [name.strip() for name in listed.group(1).replace("\n", " ").split(",")]
    assert len(lanes) == 18
    for lane in lanes:
        assert role_by_lane(lane).name == lane


def test_codes_and_names_are_unique_and_levels_known():
    assert len({r.code for r in ROLES}) == len(ROLES) == 20
    assert len({r.name for r in ROLES}) == len(ROLES)
    assert all(r.level in LEVELS for r in ROLES if r.is_staff)
    assert [r.code for r in ROLES if not r.is_staff] == ["petitioner"]


def test_lookups_by_code_lane_and_alias():
    assert role_by_code("duty_secretary").name == "坐班村支书"
    assert role_by_lane("审计/督查") is role_by_lane("审计督查") is role_by_code("auditor")
    assert find_role("网格员").code == "grid_worker"
    assert find_role("responsible_leader").level == "township"
    assert BY_LANE["村支两委"].code == "village_cadre"


def test_where_roles_work():
    assert role_by_code("grid_worker").works_at("grid")
    assert not role_by_code("grid_worker").works_at("village")
    assert role_by_code("handling_unit").works_at("township")


@pytest.mark.parametrize("call", [lambda: role_by_code("mayor"), lambda: role_by_lane("镇长"), lambda: find_role("")])
def test_unknown_roles_are_refused(call):
    with pytest.raises(UnknownRole, match="unknown role|no role for lane"):
        call()
