"""Case histories as files: JSON (complete, verifiable elsewhere), CSV (one row per event), XES (IEEE 1849)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from .audit import CaseHistory

EXPORT_FORMAT = "doorstep-audit-export"
EXPORT_VERSION = 1
CSV_COLUMNS = ("case", "seq", "type", "business_time", "wall_time", "actor", "task", "activity", "version",
               "data", "state_digest", "prev_hash", "hash")
XES_NS = "http://www.xes-standard.org/"


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
    """Element id → its name in the diagram (qualified "process/element" inside called processes)."""
    names: dict[str, str] = {}
    for text in case.specs.values():
        stored = json.loads(text)
        for qualifier, spec in [("", stored["spec"]), *((f"{k}/", v) for k, v in stored["subprocess_specs"].items())]:
            for task_spec in spec["task_specs"].values():
                if task_spec.get("bpmn_id") and task_spec.get("bpmn_name"):
                    names[f"{qualifier}{task_spec['bpmn_id']}"] = task_spec["bpmn_name"]
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
