"""Case histories as files: JSON (complete, verifiable elsewhere), CSV (one row per event, for people: Excel opens
it as is), XES (IEEE 1849)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .access_log import record_read
from .audit import CaseHistory, history_from_db, parsed_spec
from .models import Instance, ProcessVersion
from .runtime import Engine
from .state import element_prefixes

EXPORT_FORMAT = "doorstep-audit-export"
EXPORT_VERSION = 1
CSV_COLUMNS = ("案件", "序号", "事件", "业务时间", "记录时间", "操作人", "任务", "活动", "流程版本")
CSV_TRAILER = ("状态摘要", "前一事件哈希", "哈希")
# Keys of event data that are bookkeeping, not fields of the case (the JSON export keeps them).
UNSHOWN_KEYS = ("changes", "calls", "diff", "decisions", "data", "submitted", "payload", "corrected")
XES_NS = "http://www.xes-standard.org/"
EXPORTED = "exported"  # the read an export leaves in the access log of every case it holds


def _unmasked(_key: str, value: Any) -> Any:
    return value


@dataclass
class Presentation:
    """How the CSV shows a history to people: in their time zone, with field titles, event and actor names,
    version numbers, and each value passed through `mask` (the domain's personal-data rule)."""

    zone: tzinfo = UTC
    titles: Mapping[str, str] = field(default_factory=dict)  # field key → title
    event_names: Mapping[str, str] = field(default_factory=dict)
    actor_names: Mapping[str, str] = field(default_factory=dict)
    mask: Callable[[str, Any], Any] = _unmasked
    versions: Mapping[int, int] = field(default_factory=dict)  # process version id → its number

    def time(self, stored: str) -> str:
        """A stored UTC time as local time with its offset, to the second."""
        return datetime.fromisoformat(stored).astimezone(self.zone).isoformat(sep=" ", timespec="seconds")

    def version(self, version_id: int) -> str:
        number = self.versions.get(version_id)
        return f"v{number}" if number is not None else str(version_id)


def export_cases(engine: Engine, ids: list[int], fmt: str, actor: str, file_name: str,
                 presentation: Presentation | None = None, unmasked_reason: str | None = None) -> bytes:
    """Record the export in each case's access log (the caller commits), then write the cases: personal data
    masked by `presentation.mask`, unless a reason to unmask is given (the caller checked the right to; each case
    then records a view of its personal data, with the reason)."""
    writer = EXPORTERS[fmt]
    for instance_id in ids:
        engine.instance(instance_id)  # an unknown case is refused before anything is recorded
    reason = (unmasked_reason or "").strip()
    for instance_id in ids:
        record_read(engine.session, instance_id, EXPORTED, actor, engine.clock.now(),
                    {"format": fmt, "file": file_name, "masked": not reason, **({"reason": reason} if reason else {})},
                    personal_data=bool(reason))
    engine.session.flush()
    cases = [history_from_db(engine.session, i) for i in ids]
    shown = presentation or Presentation()
    if not reason:
        cases = [case.masked_with(shown.mask) for case in cases]
    else:
        shown = replace(shown, mask=_unmasked)
    version_ids = {event["version"] for case in cases for event in case.events}
    numbers = {row[0]: row[1] for row in engine.session.execute(
        select(ProcessVersion.id, ProcessVersion.version).where(ProcessVersion.id.in_(version_ids)))}
    return writer(cases, engine.clock.now(), replace(shown, versions=numbers))


def month_bounds(period: str, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The first moment of the month `period` ("YYYY-MM", in `zone`) and of the month after it."""
    try:
        first = datetime.strptime(period, "%Y-%m").replace(tzinfo=zone)
    except ValueError as error:
        raise ValueError(f"a month is written YYYY-MM, not {period!r}") from error
    return first, first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)


def cases_of_month(session: Session, period: str, zone: tzinfo = UTC) -> list[int]:
    """Ids of the cases started in the month `period` ("YYYY-MM", in `zone`), in id order."""
    first, following = month_bounds(period, zone)
    return list(session.scalars(select(Instance.id).where(Instance.started_at >= first, Instance.started_at < following)
                                .order_by(Instance.id)))


def to_json(cases: list[CaseHistory], exported_at: datetime) -> str:
    """Every case with its events, the specs it ran on and its chain head: `doorstep audit verify --file` reads it."""
    return json.dumps({"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                       "exported_at": exported_at.astimezone(UTC).isoformat(),
                       "masked": any(case.masked for case in cases),
                       "cases": [case.to_dict() for case in cases]}, ensure_ascii=False, indent=1)


def from_json(text: str) -> list[CaseHistory]:
    """Read the cases of a JSON export."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a Doorstep audit export (expected \"format\": \"{EXPORT_FORMAT}\")")
    if doc.get("version") != EXPORT_VERSION:
        raise ValueError(f"export version {doc.get('version')} is not supported (this is {EXPORT_VERSION})")
    return [CaseHistory.from_dict(case) for case in doc["cases"]]


def to_csv(cases: list[CaseHistory], presentation: Presentation | None = None) -> str:
    """One row per event, as Excel on a Chinese Windows opens it: a UTF-8 byte order mark, Chinese headers, local
    times with their offset, version numbers, and one column per field the history records (masked)."""
    shown = presentation or Presentation()
    keys = sorted({key for case in cases for event in case.events for key in event_fields(event)})
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, *(shown.titles.get(key, key) for key in keys), *CSV_TRAILER])
    for case in cases:
        names = element_names(case)
        for event in case.events:
            values = event_fields(event)
            writer.writerow([case.instance_id, event["seq"], shown.event_names.get(event["type"], event["type"]),
                             shown.time(event["business_time"]), shown.time(event["wall_time"]),
                             shown.actor_names.get(event["actor"], event["actor"]), event["task"] or "",
                             activity(event, names), shown.version(event["version"]),
                             *(_cell(shown.mask(key, values[key])) if key in values else "" for key in keys),
                             event["state_digest"], event["prev_hash"] or "", event["hash"]])
    return out.getvalue()


def event_fields(event: dict[str, Any]) -> dict[str, Any]:
    """The field values an event records: what was started with or submitted, what the step set, and the event's
    own plain fields (an export's format, a cancelled task's cause...)."""
    data = event["data"]
    found: dict[str, Any] = {}
    for key in ("data", "submitted", "payload", "corrected"):
        if isinstance(data.get(key), dict) and event["type"] != "completed":
            found.update(data[key])
    for key, pair in (data.get("changes") or {}).items():
        found[key] = pair[1] if isinstance(pair, list) and len(pair) == 2 else pair
    found.update({k: v for k, v in data.items() if k not in UNSHOWN_KEYS})
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def to_xes(cases: list[CaseHistory]) -> bytes:
    """An IEEE 1849 XES event log: a trace per case, an event per recorded act, named by activity."""
    log = etree.Element("log", nsmap={None: XES_NS})
    log.set("xes.version", "1849-2016")
    log.set("xes.features", "nested-attributes")
    for prefix, name, uri in (("concept", "Concept", "http://www.xes-standard.org/concept.xesext"),
                              ("time", "Time", "http://www.xes-standard.org/time.xesext"),
                              ("org", "Organizational", "http://www.xes-standard.org/org.xesext"),
                              ("lifecycle", "Lifecycle", "http://www.xes-standard.org/lifecycle.xesext")):
        etree.SubElement(log, "extension", name=name, prefix=prefix, uri=uri)
    for scope, keys in (("trace", ("concept:name",)), ("event", ("concept:name", "org:resource"))):
        global_ = etree.SubElement(log, "global", scope=scope)
        for key in keys:
            etree.SubElement(global_, "string", key=key, value="")
    for case in cases:
        names = element_names(case)
        trace = etree.SubElement(log, "trace")
        _attribute(trace, "string", "concept:name", f"case-{case.instance_id}")
        _attribute(trace, "string", "process", case.process_id)
        for event in case.events:
            node = etree.SubElement(trace, "event")
            _attribute(node, "string", "concept:name", activity(event, names))
            _attribute(node, "string", "org:resource", event["actor"])
            _attribute(node, "date", "time:timestamp", event["business_time"])
            _attribute(node, "string", "lifecycle:transition", "complete")
            _attribute(node, "int", "doorstep:seq", str(event["seq"]))
            _attribute(node, "string", "doorstep:type", event["type"])
    return etree.tostring(log, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _attribute(parent: Any, kind: str, key: str, value: str) -> None:
    etree.SubElement(parent, kind, key=key, value=value)


def element_names(case: CaseHistory) -> dict[str, str]:
    """Element key → its name in the diagram (qualified "process/element" inside called processes)."""
    names: dict[str, str] = {}
    for text in case.specs.values():
        spec, subprocess_specs = parsed_spec(text)
        for prefix, process in element_prefixes(spec, subprocess_specs):
            for task_spec in process.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) and getattr(task_spec, "bpmn_name", None):
                    names[f"{prefix}{task_spec.bpmn_id}"] = task_spec.bpmn_name
    return names


def activity(event: dict[str, Any], names: dict[str, str]) -> str:
    """What a process-mining tool should call an event: the task's name, else what happened."""
    if event["task"] and event["type"] == "task_completed":
        element = event["task"].split("#")[0]
        return names.get(element, element)
    if event["type"] == "timer_fired":
        fired = [names.get(ref.split("#")[0], ref.split("#")[0]) for ref in event["data"].get("timers") or []]
        return "定时：" + "、".join(fired) if fired else "定时"
    return event["type"]


EXPORTERS: dict[str, Callable[[list[CaseHistory], datetime, Presentation], bytes]] = {
    "json": lambda cases, now, _shown: to_json(cases, now).encode(),
    "csv": lambda cases, _now, shown: to_csv(cases, shown).encode(),
    "xes": lambda cases, _now, _shown: to_xes(cases),
}
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8", "xes": "application/xml"}
