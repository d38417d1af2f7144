"""Tables of the org: units (county → township → village → grid, plus offices), people, positions, rota."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

KINDS: tuple[str, ...] = ("area", "office")
"""An area is a territory (the county, a township, a village, a grid); an office is a department of one."""


class OrgUnit(Base):
    """A node of the org tree; `path` ("/xupu/t01/t01v01/") makes subtree queries one indexed prefix match."""

    __tablename__ = "org_unit"
    __table_args__ = (
        CheckConstraint("level IN ('county', 'township', 'village', 'grid')", name="level"),
        CheckConstraint("kind IN ('area', 'office')", name="kind"),
        Index("ix_org_unit_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="area", server_default="area")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(400))
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name} {self.level}/{self.kind}>"


class Person(Base):
    """A member of staff who logs in as `username` and holds one or more positions."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())

    positions: Mapped[list[Position]] = relationship(back_populates="person", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Person {self.username} {self.display_name}>"


class Position(Base):
    """A person holding a role at an org unit; responsible leaders also name the domain they supervise."""

    __tablename__ = "position"
    __table_args__ = (
        UniqueConstraint("person_id", "role", "org_unit_id", "domain", name="uq_position_person_role_unit"),
        Index("ix_position_role_unit", "role", "org_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    domain: Mapped[str] = mapped_column(String(32), default="", server_default="")

    person: Mapped[Person] = relationship(back_populates="positions")
    unit: Mapped[OrgUnit] = relationship()

    def __repr__(self) -> str:
        domain = f" [{self.domain}]" if self.domain else ""
        return f"<Position {self.person_id} {self.role}{domain} @ {self.org_unit_id}>"


class RotaEntry(Base):
    """On `day` (a local calendar day), `secretary` sits in `township`'s reception room with `cadre`."""

    __tablename__ = "rota_entry"
    __table_args__ = (
        UniqueConstraint("township_id", "day", name="uq_rota_entry_township_day"),
        UniqueConstraint("secretary_id", "day", name="uq_rota_entry_secretary_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    secretary_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    cadre_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    township: Mapped[OrgUnit] = relationship()
    secretary: Mapped[Person] = relationship(foreign_keys=[secretary_id])
    cadre: Mapped[Person] = relationship(foreign_keys=[cadre_id])

    def __repr__(self) -> str:
        return f"<RotaEntry {self.day} township={self.township_id} secretary={self.secretary_id}>"


class RotaChange(Base):
    """One change of a township's rota made by a person (generated, swapped, reassigned): who, when, what."""

    __tablename__ = "rota_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]  # business time
    actor: Mapped[str] = mapped_column(String(120))
    township_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500))

    township: Mapped[OrgUnit] = relationship()
