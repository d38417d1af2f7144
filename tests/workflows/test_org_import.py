from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import DataFileError
from workflows.org.importer import import_org_file, import_org_text
from workflows.org.models import OrgUnit, Person, Position
from workflows.org.tree import ancestors, descendants, get_unit, holders, positions_of

DATA = Path(__file__).parent / "data"


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_small_file_imports_tree_people_and_positions(session: Session):
    report = import_org_file(session, DATA / "small_org.yaml")
    assert (report.units_created, report.people_created, report.positions_added) == (16, 14, 19)
    assert get_unit(session, "t01v02g01").path == "/xupu/t01/t01v02/t01v02g01/"
    office = get_unit(session, "t01-justice")
    assert (office.kind, office.level, office.parent.code) == ("office", "township", "t01")
    assert get_unit(session, "county-justice").level == "county"
    assert [u.code for u in ancestors(session, get_unit(session, "t01v01g02"))] == ["xupu", "t01", "t01v01"]
    grids = descendants(session, get_unit(session, "t01"), level="grid")
    assert [u.code for u in grids] == ["t01v01g01", "t01v01g02", "t01v02g01"]
    leader = holders(session, "responsible_leader", get_unit(session, "t01"), "discipline")
    assert [p.username for p in leader] == ["t01.leader2"]
    roles = sorted(p.role for p in positions_of(session, "t01v01.secretary"))
    assert roles == ["duty_secretary", "village_cadre"]  # Chinese role names were read as codes


def test_reimport_updates_without_duplicating(session: Session):
    import_org_file(session, DATA / "small_org.yaml")
    again = import_org_file(session, DATA / "small_org.yaml")
    assert (again.units_created, again.units_updated, again.people_created, again.people_updated) == (0, 0, 0, 0)
    assert (again.positions_added, again.positions_removed) == (0, 0)
    assert (count(session, OrgUnit), count(session, Person), count(session, Position)) == (16, 14, 19)


def test_reimport_moves_renames_and_syncs_positions(session: Session):
    import_org_file(session, DATA / "small_org.yaml")
    session.commit()
    change = """
units:
  - {code: t01v01, name: 桃园新村, level: village, parent: t02}
people:
  - username: t01v01.secretary
    name: 张伟
    positions:
      - {role: village_cadre, unit: t01v01}
"""
    report = import_org_text(session, change)
    session.commit()
    assert (report.units_updated, report.positions_removed, report.positions_added) == (1, 1, 0)
    moved = get_unit(session, "t01v01")
    assert (moved.name, moved.parent.code, moved.path) == ("桃园新村", "t02", "/xupu/t02/t01v01/")
    # grids not named in the file follow their village
    assert get_unit(session, "t01v01g02").path == "/xupu/t02/t01v01/t01v01g02/"
    assert [p.role for p in positions_of(session, "t01v01.secretary")] == ["village_cadre"]
    assert count(session, OrgUnit) == 16


def test_demo_flag_marks_everything_in_the_file(session: Session):
    import_org_text(
        session,
        "demo: true\nunits:\n  - {code: x, name: 县, level: county}\n"
        "people:\n  - {username: a, name: 甲, positions: [{role: designer, unit: x}]}\n",
    )
    assert get_unit(session, "x").is_demo
    assert session.scalar(select(Person.is_demo).where(Person.username == "a"))


BASE = """\
units:
  - code: xupu
    name: 溆浦县
    level: county
    children:
      - code: t01
        name: 青溪镇
        level: township
        children: [{code: t01v01, name: 桃园村, level: village}]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "units:\n  - {code: t09, name: 镇, level: township, parent: nowhere}\n",
            "<org yaml>:2: units[0].parent: unknown parent code 'nowhere'",
        ),
        (
            "units:\n  - {code: t09, name: 镇, level: town, parent: xupu}\n",
            "<org yaml>:2: units[0].level: unknown level 'town'",
        ),
        ("units:\n  - {name: 镇, level: township, parent: xupu}\n", "<org yaml>:2: units[0]: missing 'code'"),
        (
            "units:\n  - {code: t 9, name: 镇, level: township, parent: xupu}\n",
            "<org yaml>:2: units[0].code: 't 9': use up to 64 letters",
        ),
        (
            "units:\n  - {code: t09, name: 镇, level: township, parnet: xupu}\n",
            "<org yaml>:2: units[0].parnet: unknown field",
        ),
        (
            "units:\n  - {code: g9, name: 网格, level: grid, parent: xupu}\n",
            "<org yaml>:2: units[0].level: a grid cannot sit under the county 'xupu'",
        ),
        (
            "units:\n  - {code: t09, name: 镇, level: township}\n",
            "<org yaml>:2: units[0]: missing 'parent' (only a county stands at the top)",
        ),
        (
            "units:\n  - {code: o1, name: 局, kind: office, parent: xupu}\n"
            "  - {code: o2, name: 科, kind: office, parent: o1}\n",
            "<org yaml>:3: units[1].parent: parent 'o1' is an office, not an area",
        ),
        ("units:\n  - {code: o1, name: 局, kind: bureau, parent: xupu}\n", "units[0].kind: unknown kind 'bureau'"),
        (
            "units:\n  - {code: t09, name: 镇, level: township, parent: xupu}\n"
            "  - {code: t09, name: 乡, level: township, parent: xupu}\n",
            "<org yaml>:3: units[1].code: duplicate code 't09' (first at line 2)",
        ),
        (
            "people:\n  - username: a\n    name: 甲\n    positions:\n      - {role: mayor, unit: t01}\n",
            "<org yaml>:5: people[0].positions[0].role: unknown role 'mayor'",
        ),
        (
            "people:\n  - username: a\n    name: 甲\n    positions:\n      - {role: grid_worker, unit: t01}\n",
            "<org yaml>:5: people[0].positions[0].role: 网格员 (grid_worker) works at grid level; 't01' is a township",
        ),
        (
            "people:\n  - username: a\n    name: 甲\n    positions:\n      - {role: township_cadre, unit: t99}\n",
            "<org yaml>:5: people[0].positions[0].unit: unknown unit code 't99'",
        ),
        (
            "people:\n  - username: a\n    name: 甲\n    positions:\n      - {role: responsible_leader, unit: t01}\n",
            "<org yaml>:5: people[0].positions[0]: a 分管领导 position needs a 'domain'",
        ),
        (
            "people:\n  - username: a\n    name: 甲\n    positions:\n      - {role: 信访人, unit: t01v01}\n",
            "people[0].positions[0].role: 信访人 is not a staff role",
        ),
        (
            "people:\n  - {username: a, name: 甲}\n  - {username: a, name: 乙}\n",
            "<org yaml>:3: people[1].username: duplicate username 'a' (first at line 2)",
        ),
        ("people:\n  - {username: a}\n", "<org yaml>:2: people[0]: missing 'name'"),
        ("units: [\n", "<org yaml>:2: not valid YAML"),
        (
            "units:\n  - {code: a, name: 甲, level: county}\n  - {code: a, name: 乙, level: county, code: b}\n",
            "<org yaml>:3: not valid YAML: duplicate key 'code'",
        ),
        ("version: 2\n", "<org yaml>:1: version: unsupported version 2"),
        (
            "units:\n  - {code: t01v01, name: 桃园镇, level: township, parent: xupu}\n",
            "<org yaml>:2: units[0]: 't01v01' is stored as a village area: a unit keeps its level and kind",
        ),
        ("units:\n  - {code: 2024, name: 镇, level: township, parent: xupu}\n", 'write it quoted: "2024"'),
        ("- just a list\n", "<org yaml>:1: expected a mapping with version, demo, units, people"),
    ],
)
def test_each_error_names_line_and_field(session: Session, text: str, expected: str):
    import_org_text(session, BASE)
    session.commit()
    with pytest.raises(DataFileError) as caught:
        import_org_text(session, text)
    assert expected in str(caught.value)


def test_all_problems_are_reported_at_once_and_nothing_is_written(session: Session):
    text = """\
units:
  - {code: t09, name: 镇, level: township, parent: nowhere}
people:
  - username: a
    name: 甲
    positions:
      - {role: mayor, unit: t09}
"""
    with pytest.raises(DataFileError) as caught:
        import_org_text(session, text, source="bad.yaml")
    lines = str(caught.value).splitlines()
    assert lines == [
        "bad.yaml:2: units[0].parent: unknown parent code 'nowhere'",
        "bad.yaml:7: people[0].positions[0].role: unknown role 'mayor' "
        "(use a code like grid_worker or a lane name like 网格员)",
    ]
    assert [p.line for p in caught.value.problems] == [2, 7]
    assert count(session, OrgUnit) == count(session, Person) == 0


def test_missing_file_is_a_data_file_error(session: Session, tmp_path: Path):
    with pytest.raises(DataFileError, match="cannot read"):
        import_org_file(session, tmp_path / "absent.yaml")
