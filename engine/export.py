"""Case histories as files: JSON (complete, verifiable elsewhere), CSV (one row per event), XES (IEEE 1849)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import CaseHistory, history_from_db, parsed_spec
from .models import Instance
from .runtime import Engine
from .state import element_prefixes

EXPORT_FORMAT = "doorstep-audit-export"
EXPORT_VERSION = 1
CSV_COLUMNS = ("case", "seq", "type", "business_time", "wall_time", "actor", "task", "activity", "version",
               "data", "state_digest", "prev_hash", "hash")
XES_NS = "http://www.xes-standard.org/"
EXPORTED = "exported"  # the event an export leaves on every case it holds


def export_cases(engine: Engine, ids: list[int], fmt: str, actor: str, file_name: str) -> bytes:
    """Record the export on each case (the caller commits), then write the cases, that record included."""
    writer = EXPORTERS[fmt]
    for instance_id in ids:
        engine.instance(instance_id)  # an unknown case is refused before anything is recorded
    for instance_id in ids:
        engine.record(instance_id, EXPORTED, actor, {"format": fmt, "file": file_name})
    engine.session.flush()
    return writer([history_from_db(engine.session, i) for i in ids], engine.clock.now())


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
                       "cases": [case.to_dict() for case in cases]}, ensure_ascii=False, indent=1)


def from_json(text: str) -> list[CaseHistory]:
    """Read the cases of a JSON export."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a Doorstep audit export (expected \"format\": \"{EXPORT_FORMAT}\")")
    if doc.get("version") != EXPORT_VERSION:
        raise ValueError(f"export version {doc.get('version')} is not supported (this is {EXPORT_VERSION})")
    return [CaseHistory.from_dict(case) for case in doc["cases"]]


def to_csv(cases: list[CaseHistory]) -> str:
    """One row per event."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        names = element_names(case)
        for event in case.events:
            writer.writerow([case.instance_id, event["seq"], event["type"], event["business_time"],
                             event["wall_time"], event["actor"], event["task"] or "", activity(event, names),
                             event["version"], json.dumps(event["data"], ensure_ascii=False, sort_keys=True),
                             event["state_digest"], event["prev_hash"] or "", event["hash"]])
    return out.getvalue()


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


EXPORTERS: dict[str, Callable[[list[CaseHistory], datetime], bytes]] = {
    "json": lambda cases, now: to_json(cases, now).encode(),
    "csv": lambda cases, _now: to_csv(cases).encode(),
    "xes": lambda cases, _now: to_xes(cases),
}
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "xes": "application/xml"}
