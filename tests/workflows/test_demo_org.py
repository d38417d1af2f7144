from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.cases.routing import RoutingRules, check_routing
from workflows.org.demo import (
    GRIDS,
    REVIEW_OFFICES,
    TOWNSHIPS,
    VILLAGE_SEATS,
    VILLAGES,
    build_demo_org,
    load_demo_org,
)
from workflows.org.models import OrgUnit, Person, Position
from workflows.org.tree import get_unit, holders, units_at


def level_counts(session: Session) -> dict[str, int]:
    query = select(OrgUnit.level, func.count()).where(OrgUnit.kind == "area").group_by(OrgUnit.level)
    return {level: number for level, number in session.execute(query)}


def test_demo_org_has_xupu_sizes(session: Session):
    report = load_demo_org(session)
    session.commit()
    assert level_counts(session) == {"county": 1, "township": TOWNSHIPS, "village": VILLAGES, "grid": GRIDS}
    assert (TOWNSHIPS, VILLAGES, GRIDS) == (25, 412, 18_560)
    assert get_unit(session, "xupu").name == "溆浦县"
    per_village = Counter(
        session.scalars(select(OrgUnit.parent_id).where(OrgUnit.level == "grid", OrgUnit.kind == "area"))
    )
    assert len(per_village) == VILLAGES
    assert 30 <= min(per_village.values()) and max(per_village.values()) <= 60
    assert len(set(per_village.values())) > 5  # uneven, like real villages
    grid_workers = session.scalar(select(func.count()).where(Position.role == "grid_worker"))
    assert grid_workers == GRIDS
    assert session.scalar(select(func.count()).select_from(Person).where(~Person.is_demo)) == 0
    assert report.units_created == session.scalar(select(func.count()).select_from(OrgUnit))
    # a grid's path runs through its village and township
    assert get_unit(session, "t01v01g01").path == "/xupu/t01/t01v01/t01v01g01/"


def test_every_township_is_staffed(session: Session):
    load_demo_org(session, grid_workers=False)
    for town in units_at(session, "township"):
        assert len(holders(session, "township_cadre", town)) == 1
        leaders = holders(session, "responsible_leader", town)
        assert 3 <= len(leaders) <= 4
        assert holders(session, "mediation_panel", town)
    secretaries = session.scalar(select(func.count()).where(Position.role == "duty_secretary"))
    assert secretaries == VILLAGES
    offices = units_at(session, "county", kind="office")
    assert {"县自然资源局", "县信访局"} <= {o.name for o in offices}
    review_offices = {code: role for code, _, role in REVIEW_OFFICES}
    assert all(holders(session, "handling_unit", office) and holders(session, "agency_head", office)
               for office in offices if office.code not in review_offices)
    assert all(holders(session, review_offices[o.code], o) for o in offices if o.code in review_offices)
    for village in units_at(session, "village")[:5]:
        for _, role in VILLAGE_SEATS:  # the four teams, the gold mediation room and the legal adviser
            assert holders(session, role, village), (village.code, role)


def test_reload_is_idempotent(session: Session):
    load_demo_org(session)
    session.commit()
    before = [session.scalar(select(func.count()).select_from(m)) for m in (OrgUnit, Person, Position)]
    again = load_demo_org(session)
    session.commit()
    after = [session.scalar(select(func.count()).select_from(m)) for m in (OrgUnit, Person, Position)]
    assert after == before
    assert again.units_created == again.units_updated == again.people_created == again.positions_added == 0


def test_reload_repairs_changed_rows(session: Session):
    load_demo_org(session, grid_workers=False)
    session.commit()
    unit = get_unit(session, "t02v03")
    unit.name = "改过的村"
    session.delete(session.scalars(select(Position).where(Position.role == "township_cadre")).first())
    session.commit()
    report = load_demo_org(session, grid_workers=False)
    assert (report.units_updated, report.positions_added) == (1, 1)
    session.expire_all()
    assert get_unit(session, "t02v03").name != "改过的村"


def test_build_is_deterministic_and_names_are_unique():
    first, second = build_demo_org(grid_workers=False), build_demo_org(grid_workers=False)
    assert first == second
    towns = [u["name"] for u in first.units if u["level"] == "township" and u["kind"] == "area"]
    villages = [u["name"] for u in first.units if u["level"] == "village"]
    assert len(set(towns)) == TOWNSHIPS and len(set(villages)) == VILLAGES
    assert len({p["username"] for p in first.people}) == len(first.people)


def test_routing_rules_fit_the_demo_org(session: Session, rules: RoutingRules):
    load_demo_org(session, grid_workers=False)
    assert check_routing(session, rules) == []
