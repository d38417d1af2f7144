import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from workflows.org.models import OrgUnit
from workflows.org.tree import (
    UnknownPerson,
    UnknownUnit,
    are_related,
    enclosing,
    find_unit,
    get_person,
    get_unit,
    rebuild_paths,
    units_at,
)


def test_find_by_code_or_unique_name(small_org: Session):
    assert find_unit(small_org, "t01").name == "青溪镇"
    assert find_unit(small_org, "青溪镇", level="township").code == "t01"
    with pytest.raises(UnknownUnit, match="more than one grid unit is named '第1网格': use its code"):
        find_unit(small_org, "第1网格", level="grid")
    with pytest.raises(UnknownUnit, match="no village unit with code or name 't01'"):
        find_unit(small_org, "t01", level="village")
    with pytest.raises(UnknownPerson, match="no person with username 'ghost'"):
        get_person(small_org, "ghost")


def test_tree_relations(small_org: Session):
    grid, town = get_unit(small_org, "t01v01g01"), get_unit(small_org, "t01")
    assert enclosing(small_org, grid, "township") is town
    assert enclosing(small_org, town, "township") is town
    assert enclosing(small_org, get_unit(small_org, "county-justice"), "township") is None
    assert are_related(grid, town) and are_related(town, grid)
    assert not are_related(grid, get_unit(small_org, "t02"))
    assert not are_related(get_unit(small_org, "county-justice"), get_unit(small_org, "county-discipline"))
    assert [u.code for u in units_at(small_org, "township")] == ["t01", "t02"]
    assert [u.code for u in units_at(small_org, "township", kind="office")] == ["t01-justice"]


def test_rebuild_paths_repairs_a_damaged_subtree(small_org: Session):
    small_org.execute(update(OrgUnit).where(OrgUnit.code == "t01v01").values(path="/broken/"))
    assert rebuild_paths(small_org) == 1
    small_org.commit()
    assert get_unit(small_org, "t01v01").path == "/xupu/t01/t01v01/"
    assert rebuild_paths(small_org) == 0
