"""The case record: what the county counts and staff see, kept as a projection of engine steps.

Lists, inboxes and reports read this table; they never deserialize workflow state. The projector is an engine
observer: after every step it copies the case fields from the case data and the step's events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import StepResult
from engine.db import Base
from engine.history import STARTED
from engine.models import Instance
from workflows.cases.calendar import Deadlines

# Case data keys, as the forms of bpmn/forms/ name them.
CHANNEL_OF_PROCESS = {"reception": "visit", "grid_visit": "grid", "online_message": "online"}
DEADLINE_KEYS = {  # case data key holding a due time → the deadline's name
    "deadline_at": "supervision",
    "handling_due_at": "handling",
    "acceptance_due_at": "acceptance",
    "village_due_at": "village",
    "township_due_at": "township",
    "review_due_at": "review",
    "reexam_due_at": "reexam",
}
# case data key holding when a deadline's work was done; a deadline without one is met by closing the case
DEADLINE_DONE_KEYS = {"supervision": "handled_at", "handling": "replied_at", "acceptance": "decided_at",
                      "village": "village_done_at",
                      "township": "township_done_at", "review": "reviewed_at", "reexam": "reexamined_at"}
OVERDUE_MARK = "overdue"  # a timer whose element id contains this marks the case overdue when it fires
REMEDY_FLAGS = {"solution": "solve_problem", "education": "educate", "assistance": "assist",
                "legal_action": "handle_by_law"}
ON_THE_SPOT = {"answer", "coordinate"}
PETITIONER_KEYS = ("petitioner_name", "id_number", "phone")
# Levels of government, lowest first (a village is not a level of government but petitioners visit it too).
LEVELS = ("village", "township", "county", "city", "province", "national")
HIGHER_LEVELS = ("city", "province", "national")  # where a case handed down to the county came from
VISIT_LEVEL_OF_PROCESS = {"reception": "township", "petition": "county"}  # where a visit was registered
COMPETENT_OF_TIER = {"village": "township", "township": "township", "county": "county"}
# Who gave a case's `satisfaction` (`rating_source`): the petitioner on the query page; staff recording what the
# petitioner said on a return call (电话回访，工作人员代录: the petitioner's own rating, marked so); or staff typing
# a rating in a task form as their own judgement (e.g. the handling unit's feedback step) — never the petitioner's.
RATING_SOURCE_NAMES = {"petitioner": "信访人自评", "recorded": "电话回访，工作人员代录", "staff": "工作人员自行填写"}
RATING_SOURCES = tuple(RATING_SOURCE_NAMES)
RECORDED = "recorded"  # the petitioner's rating told on a return call, recorded by staff
PETITIONERS_OWN = ("petitioner", RECORDED)  # the sources that are the petitioner's own word
PETITIONER_ACTOR = "petitioner"  # the actor of what a petitioner does through the query page
OPEN, CLOSED = "open", "closed"
RECORDS_KEY = "doorstep.case_records"


class CaseRecord(Base):
    """One petition case, as the county counts it."""

    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_record_registered", "registered_at"),
        Index("ix_case_record_place", "township", "village"),
        # The monthly report (workflows/reports/monthly.py): cases closed in a month, and overdue cases on the books.
        Index("ix_case_record_closed", "closed_at"),
        Index("ix_case_record_township_registered", "township", "registered_at"),
        Index("ix_case_record_township_closed", "township", "closed_at"),
        Index("ix_case_record_rated", "rated_at"),  # satisfaction counts ratings by the month they were given
        Index("ix_case_record_overdue", "closed_at", "registered_at", sqlite_where=text("overdue = 1"),
              postgresql_where=text("overdue = true")),  # partial: few cases are overdue
    )

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    query_code: Mapped[str] = mapped_column(String(16), unique=True)
    process_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(32), index=True)
    petitioners: Mapped[list[Any]] = mapped_column(JSON, default=list)
    headcount: Mapped[int] = mapped_column(default=1)
    is_group: Mapped[bool] = mapped_column(default=False, server_default=false())
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    claim: Mapped[str | None] = mapped_column(Text)
    township: Mapped[str | None] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(100))
    track: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(16))
    repeat_of: Mapped[int | None] = mapped_column(ForeignKey("case_record.instance_id"))
    # a leader-packaging case (领导包案): the case it packages, chosen at listing (the door's `source_case`)
    source_case: Mapped[int | None] = mapped_column(ForeignKey("case_record.instance_id"), index=True)
    confidential: Mapped[bool] = mapped_column(default=False, server_default=false())
    accused_unit: Mapped[str | None] = mapped_column(String(100))  # an org unit code (workflows.cases.org_choice)
    accused_person: Mapped[str | None] = mapped_column(String(64))  # a username
    handling_unit: Mapped[str | None] = mapped_column(String(100))
    review_unit: Mapped[str | None] = mapped_column(String(100))  # 复查机关: one level above the handler
    reexam_unit: Mapped[str | None] = mapped_column(String(100))  # 复核机关: one level above the review
    # keyed hash of the petitioner's ID number (workflows/intake/repeats.py): finds repeats without a plaintext scan
    id_number_key: Mapped[str | None] = mapped_column(String(64), index=True)
    decision: Mapped[str | None] = mapped_column(String(32))  # the registrar's decision (accept, transfer, ...)
    final: Mapped[bool] = mapped_column(default=False, server_default=false())  # closed after re-examination
    leader: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    registered_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overdue: Mapped[bool] = mapped_column(default=False, server_default=false())
    extended: Mapped[bool] = mapped_column(default=False, server_default=false())
    on_the_spot: Mapped[bool] = mapped_column(default=False, server_default=false())
    outcome: Mapped[str | None] = mapped_column(String(32))
    remedies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    # The county counts (see workflows/data/figures.yaml and /work/notes/figures-contract.md):
    handed_down_from: Mapped[str | None] = mapped_column(String(16))  # city / province / national, else None
    visit_level: Mapped[str | None] = mapped_column(String(16))  # a visit's level (LEVELS); None if not a visit
    competent_level: Mapped[str | None] = mapped_column(String(16))  # the level competent for the claim
    rating_source: Mapped[str | None] = mapped_column(String(16))  # who gave `satisfaction` (RATING_SOURCE_NAMES)
    rated_at: Mapped[datetime | None]  # when `satisfaction` was given


def id_number_key(secret: str, id_number: str) -> str:
    """The keyed hash under which a petitioner's ID number is indexed (no plaintext search of ID numbers)."""
    normalized = id_number.strip().upper()
    return hmac.new(secret.encode(), f"id:{normalized}".encode(), hashlib.sha256).hexdigest()


def case_number(instance_id: int, registered_at: datetime) -> str:
    """The number printed on notices: county prefix, year, and a running number."""
    return f"XP{registered_at.year}-{instance_id:06d}"


def query_code(secret: str, instance_id: int) -> str:
    """A code the petitioner uses to follow the case: keyed by the deployment's secret, so not guessable."""
    digest = hmac.new(secret.encode(), f"case:{instance_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:12]


# Case data keys naming another case by id, copied onto the columns of the same name when that case exists:
# the earlier case a repeat petition repeats, the case a leader packaging (领导包案) takes on.
LINK_KEYS = ("repeat_of", "source_case")
# Case data keys copied as they are onto the case record's columns of the same name.
COPIED_TEXT = ("channel", "category", "claim", "township", "village", "grid", "tier", "accused_unit", "accused_person",
               "handling_unit", "review_unit", "reexam_unit", "decision")


class CaseProjector:
    """Engine observer that keeps `case_record` in step with each case."""

    def __init__(self, session: Session, secret: str, deadlines: Deadlines):
        self.session = session
        self.secret = secret
        self.deadlines = deadlines

    def __call__(self, result: StepResult) -> None:
        instance = result.instance
        held: dict[int, CaseRecord] = self.session.info.setdefault(RECORDS_KEY, {})
        started = bool(result.events) and result.events[0].type == STARTED
        record = None if started else (held.get(instance.id) or self.session.get(CaseRecord, instance.id))
        data = result.data
        if record is None:
            record = self._new_record(instance)
            self.session.add(record)
        held.clear()  # held (the session's identity map is weak) so the request reads it back without a query
        held[instance.id] = record
        self._copy_fields(record, data)
        self._copy_levels(record, data)
        self._copy_rating(record, data, result)
        for event in result.events:
            fired = event.data.get("timers") or []
            if any(OVERDUE_MARK in ref.split("#")[0] for ref in fired):
                record.overdue = True
        if instance.status == "completed":
            record.status = CLOSED
            record.closed_at = record.closed_at or instance.completed_at
        self._settle_deadlines(record, data)

    def _new_record(self, instance: Instance) -> CaseRecord:
        return CaseRecord(
            instance_id=instance.id, case_number=case_number(instance.id, instance.started_at),
            query_code=query_code(self.secret, instance.id), process_id=instance.process_id,
            channel=CHANNEL_OF_PROCESS.get(instance.process_id), track=instance.process_id, status=OPEN,
            registered_at=instance.started_at, petitioners=[], deadlines={}, remedies=[], headcount=1)

    def _copy_fields(self, record: CaseRecord, data: dict[str, Any]) -> None:
        text = _text_reader(data)
        for name in COPIED_TEXT:  # a value once given stays until another is given
            setattr(record, name, text(name) or getattr(record, name))
        record.final = bool(data.get("final")) or record.final
        if text("id_number") and record.id_number_key is None:
            record.id_number_key = id_number_key(self.secret, text("id_number"))
        record.leader = text("leader") or record.leader
        record.outcome = text("outcome") or record.outcome
        record.confidential = bool(data.get("confidential")) or record.category == "accusation" or \
            bool(record.accused_unit or record.accused_person)
        if isinstance(data.get("headcount"), int) and data["headcount"] > 0:
            record.headcount = data["headcount"]
        record.is_group = self.deadlines.is_group_visit(record.headcount)
        for key in LINK_KEYS:  # a link to a case that does not exist is ignored, not an error
            linked = data.get(key)
            if isinstance(linked, int) and linked != record.instance_id and \
                    self.session.get(CaseRecord, linked) is not None:
                setattr(record, key, linked)
        listed = data.get("petitioners")
        if isinstance(listed, list) and all(isinstance(p, dict) for p in listed) and listed:
            record.petitioners = listed  # a visit registered with several petitioners names them all
        else:
            petitioner = {k: data[k] for k in PETITIONER_KEYS if data.get(k)}
            if petitioner and petitioner not in record.petitioners:
                record.petitioners = [*record.petitioners, petitioner]
        if data.get("disposition") in ON_THE_SPOT and (data.get("disposition") == "answer" or data.get("resolved")):
            record.on_the_spot = True
        if data.get("extension_days") and data.get("extension_approved"):
            record.extended = True
        remedies = sorted(name for key, name in REMEDY_FLAGS.items() if data.get(key))
        if remedies:
            record.remedies = remedies
        deadlines = dict(record.deadlines)
        for key, name in DEADLINE_KEYS.items():
            if isinstance(data.get(key), str):
                deadlines[name] = {**deadlines.get(name, {}), "due": data[key]}
        record.deadlines = deadlines

    def _copy_levels(self, record: CaseRecord, data: dict[str, Any]) -> None:
        """Where a case came from and where a visit was made; values outside the lists are ignored."""
        came_from = data.get("handed_down_from")
        if came_from in HIGHER_LEVELS:
            record.handed_down_from = came_from
        visited = data.get("visit_level")
        if record.channel != "visit":
            record.visit_level = None
        elif visited in LEVELS:
            record.visit_level = visited
        elif record.visit_level is None:
            record.visit_level = record.handed_down_from or VISIT_LEVEL_OF_PROCESS.get(record.process_id)
        competent = data.get("competent_level")
        if competent in LEVELS[1:]:
            record.competent_level = competent
        elif record.competent_level is None and record.tier in COMPETENT_OF_TIER:
            record.competent_level = COMPETENT_OF_TIER[record.tier]

    def _copy_rating(self, record: CaseRecord, data: dict[str, Any], result: StepResult) -> None:
        """A new rating: who gave it (the data's `rating_source`, else the step's actor) and when."""
        given = data.get("satisfaction")
        if not isinstance(given, str) or not given.strip() or given.strip() == record.satisfaction:
            return
        record.satisfaction = given.strip()
        step = result.events[0] if result.events else None
        source = data.get("rating_source")
        if source not in RATING_SOURCES:
            source = "petitioner" if step is not None and step.actor == PETITIONER_ACTOR else "staff"
        record.rating_source = source
        record.rated_at = _aware_time(data.get("rated_at")) or (
            step.business_time if step is not None else result.instance.updated_at)

    def _settle_deadlines(self, record: CaseRecord, data: dict[str, Any]) -> None:
        """A deadline was met when its work was done (its done key, else the case closing) by the due time."""
        settled = {}
        for name, entry in record.deadlines.items():
            done_at = data.get(DEADLINE_DONE_KEYS.get(name, ""))
            done = datetime.fromisoformat(done_at) if isinstance(done_at, str) else record.closed_at
            settled[name] = entry if done is None else {**entry, "met": done <= datetime.fromisoformat(entry["due"])}
        record.deadlines = settled


def _text_reader(data: dict[str, Any]) -> Any:
    def text(key: str) -> str | None:
        value = data.get(key)
        return value.strip() or None if isinstance(value, str) else None

    return text


def _aware_time(value: Any) -> datetime | None:
    """An ISO time with its zone, else None (a malformed or zone-less value is ignored, not an error)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def mask_id_number(value: str | None) -> str:
    """Show an ID number as its first 6 and last 4 characters (PIPL)."""
    if not value:
        return ""
    return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """Show a phone number as its first 3 and last 4 digits."""
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


DEADLINE_NAMES = {"supervision": "督办办结期限", "handling": "办理期限", "acceptance": "受理告知期限",
                  "village": "村级化解期限", "township": "乡镇化解期限", "review": "复查期限", "reexam": "复核期限"}


def deadline_states(case: CaseRecord, now: datetime) -> list[tuple[str, datetime, str]]:
    """(Chinese name, due time, state) of each deadline of a case: met, missed, overdue or pending."""
    rows = []
    for name, entry in sorted(case.deadlines.items()):
        try:
            due = datetime.fromisoformat(entry["due"])
        except (KeyError, TypeError, ValueError):
            continue
        if "met" in entry:
            state = "met" if entry["met"] else "missed"
        else:
            state = "overdue" if due < now or case.overdue else "pending"
        rows.append((DEADLINE_NAMES.get(name, name), due, state))
    return rows
