"""Auditors trust a case's record without trusting its handlers: every kind of tampering is detected."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from engine import history
from engine.audit import check_chain_digests, histories_from_db, history_from_db, take_chain_digest, verify
from engine.export import from_json, to_csv, to_json, to_xes
from engine.models import Event, Instance

HELPERS = {"describe": lambda share: f"share {share}"}


@pytest.fixture
def case(deploy, engine_, session, clock):
    """A finished case with an incident, a retry with corrected data and a helper call: seven events."""
    deploy("script.bpmn")
    eng = engine_(helpers=HELPERS)
    instance = eng.start("scripted", {"case_no": "C-7"}, "reception").instance
    session.commit()
    (enter,) = eng.open_tasks(instance.id)
    incident = eng.complete_task(enter.id, {"total": 10, "count": 0}, "clerk").incident
    session.commit()
    eng.retry_incident(incident.id, "admin", {"count": 4}, "人数填错，按登记表更正")
    session.commit()
    (confirm,) = eng.open_tasks(instance.id)
    eng.complete_task(confirm.id, {"confirmed": True}, "leader")
    session.commit()
    return instance.id


def verdict(session, case_id):
    session.expire_all()
    return verify(history_from_db(session, case_id), set(HELPERS))


def types(session, case_id):
    return list(session.scalars(select(Event.type).where(Event.instance_id == case_id).order_by(Event.seq)))


def test_an_untouched_case_verifies_and_helper_answers_are_recorded(case, session):
    assert types(session, case) == ["started", "task_completed", "incident_raised", "incident_resolved",
                                    "task_completed", "completed"]
    calls = session.scalar(select(Event.data).where(Event.instance_id == case, Event.type == "incident_resolved"))
    assert calls["calls"] == [["describe", [2.5], "share 2.5"]]
    result = verdict(session, case)
    assert result.ok, str(result)
    assert str(result) == f"case {case}: OK (6 events)"


def test_editing_an_event_is_detected_at_that_event(case, session):
    session.execute(text("UPDATE event SET actor = 'someone else' WHERE instance_id = :c AND seq = 2"), {"c": case})
    session.commit()
    result = verdict(session, case)
    assert result.divergence.seq == 2 and result.divergence.what == "hash of the recorded fields"


def test_deleting_an_event_is_detected(case, session):
    session.execute(text("DELETE FROM event WHERE instance_id = :c AND seq = 3"), {"c": case})
    session.commit()
    result = verdict(session, case)
    assert (result.divergence.seq, result.divergence.expected, result.divergence.found) == (3, "3", "4")


def test_deleting_the_last_events_is_detected_by_the_chain_head(case, session):
    session.execute(text("DELETE FROM event WHERE instance_id = :c AND seq >= 5"), {"c": case})
    session.commit()
    result = verdict(session, case)
    assert result.divergence.seq is None and "chain head" in result.divergence.what
    assert result.divergence.expected.startswith("6 events") and result.divergence.found.startswith("4 events")


def test_reordering_events_is_detected(case, session):
    session.execute(text("UPDATE event SET seq = seq + 100 WHERE instance_id = :c AND seq IN (4, 5)"), {"c": case})
    session.execute(text("UPDATE event SET seq = 5 WHERE instance_id = :c AND seq = 104"), {"c": case})
    session.execute(text("UPDATE event SET seq = 4 WHERE instance_id = :c AND seq = 105"), {"c": case})
    session.commit()
    assert verdict(session, case).divergence.seq == 4


def test_inserting_a_forged_event_with_a_rebuilt_chain_is_caught_by_re_execution(case, session):
    """Even a forger who recomputes every hash and the chain head cannot make the diagram agree."""
    rows = session.scalars(select(Event).where(Event.instance_id == case).order_by(Event.seq)).all()
    originals = [{c.name: getattr(row, c.name) for c in Event.__table__.columns if c.name != "id"} for row in rows]
    forged = {**originals[1], "data": {"submitted": {"total": 99, "count": 1}, "changes": {}}}
    session.execute(text("DELETE FROM event WHERE instance_id = :c AND seq >= 2"), {"c": case})
    previous = originals[0]["hash"]
    for number, values in enumerate([forged, *originals[1:]], 2):
        event = Event(**{**values, "seq": number, "prev_hash": previous})
        previous = event.hash = history.event_hash(history.hashed_fields(event))
        session.execute(Event.__table__.insert().values(**{c.name: getattr(event, c.name)
                                                          for c in Event.__table__.columns if c.name != "id"}))
    session.execute(text("UPDATE instance SET event_count = :n, last_event_hash = :h WHERE id = :c"),
                    {"n": len(rows) + 1, "h": previous, "c": case})
    session.commit()
    result = verdict(session, case)
    assert result.divergence is not None and result.divergence.seq == 2
    assert result.divergence.what == "state after task_completed enter#1"


def test_editing_the_stored_state_directly_is_detected(case, session):
    state = json.loads(session.get(Instance, case).state)
    state["data"]["case_no"] = "C-8"
    session.execute(text("UPDATE instance SET state = :s WHERE id = :c"), {"s": json.dumps(state), "c": case})
    session.commit()
    result = verdict(session, case)
    assert result.divergence.what == "stored workflow state"


def test_a_removed_case_shows_against_the_chain_digest(case, session, clock):
    take_chain_digest(session, clock.now())
    session.commit()
    assert check_chain_digests(session) == []
    for table in ("event", "human_task", "incident", "message_wait"):
        session.execute(text(f"DELETE FROM {table} WHERE instance_id = :c"), {"c": case})
    session.execute(text("DELETE FROM instance WHERE id = :c"), {"c": case})
    session.commit()
    (problem,) = check_chain_digests(session)
    assert f"case {case}" in problem.what and problem.found == "no such event"


def test_a_json_export_verifies_without_the_database_and_csv_has_a_row_per_event(case, session, clock):
    exported = to_json([history_from_db(session, case)], clock.now())
    (restored,) = from_json(exported)
    assert verify(restored, set(HELPERS)).ok
    restored.events[3]["data"]["corrected"] = {"count": 5}
    assert verify(restored, set(HELPERS)).divergence.seq == 4
    rows = to_csv([history_from_db(session, case)]).strip().splitlines()
    assert len(rows) == 1 + 6 and rows[0].startswith("\ufeff案件,序号,事件,业务时间")


def test_the_xes_export_loads_in_pm4py_and_a_model_is_discovered(case, session, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    path = tmp_path / "cases.xes"
    path.write_bytes(to_xes([history_from_db(session, case)]))
    log = pm4py.read_xes(str(path), return_legacy_log_object=False)
    assert list(log["concept:name"]) == ["started", "Enter the figures", "incident_raised", "incident_resolved",
                                         "Confirm the share", "completed"]
    net, initial, final = pm4py.discover_petri_net_inductive(log)
    assert {t.label for t in net.transitions if t.label} >= {"Enter the figures", "Confirm the share"}


def test_histories_read_in_batches_are_the_histories_read_one_by_one(case, deploy, engine_, session):
    eng = engine_(helpers=HELPERS)
    others = [eng.start("scripted", {"case_no": f"C-{n}"}, "reception").instance.id for n in range(3)]
    session.commit()
    ids = [others[2], case, *others[:2]]  # in the order asked, over batches of two
    session.expire_all()
    one_by_one = [history_from_db(session, i).to_dict() for i in ids]
    batched = [h.to_dict() for h in histories_from_db(session, ids, batch=2)]
    assert batched == one_by_one and [h["instance_id"] for h in batched] == ids
    with pytest.raises(LookupError):
        list(histories_from_db(session, [case, 99_999]))
