"""Answers stored for an `Idempotency-Key` live for the reply lifetime (24 h of business time by default): a retry
within it gets the first answer; after it the key is free again, and the timer worker deletes the stored row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from doorstep.config import DEFAULT_REPLY_HOURS, Settings
from doorstep.replies import StoredReply

HEAR = {"data": {"disposition": "answer", "note": "当场答复"}}


def test_a_live_key_replays_and_an_expired_one_no_longer_does(api, desk):
    task_id = desk.task(desk.visit(), "hear_claim").id
    cadre, url, headers = api("t01.cadre"), f"/api/v1/tasks/{task_id}/complete", {"Idempotency-Key": "late-retry"}
    first = cadre.post(url, HEAR, headers=headers)
    assert first.status_code == 200 and first.get_json()["already_applied"] is False
    desk.advance(timedelta(hours=DEFAULT_REPLY_HOURS - 1))
    live = cadre.post(url, HEAR, headers=headers)
    assert live.headers.get("Idempotent-Replayed") == "true" and live.get_json() == first.get_json()
    desk.advance(timedelta(hours=2))
    late = cadre.post(url, HEAR, headers=headers)
    assert late.status_code == 200 and "Idempotent-Replayed" not in late.headers
    assert late.get_json()["already_applied"] is True  # answered afresh: the engine applied the step once only
    again = cadre.post(url, HEAR, headers=headers)  # the fresh answer is what the key keeps now
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == late.get_json()


def test_the_worker_round_purges_expired_answers_and_keeps_live_ones(api, desk, services):
    old, new = (desk.task(desk.visit(), "hear_claim").id for _ in range(2))
    cadre = api("t01.cadre")
    assert cadre.post(f"/api/v1/tasks/{old}/complete", HEAR, headers={"Idempotency-Key": "old"}).status_code == 200
    desk.advance(timedelta(hours=20))
    assert cadre.post(f"/api/v1/tasks/{new}/complete", HEAR, headers={"Idempotency-Key": "new"}).status_code == 200
    desk.advance(timedelta(hours=5))
    assert services.purge_expired_replies() == 1
    with services.unit_of_work() as session:
        assert list(session.scalars(select(StoredReply.key))) == ["new"]
    assert services.purge_expired_replies() == 0


def test_the_lifetime_is_a_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", "lifetime-test")
    monkeypatch.setenv("DOORSTEP_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("DOORSTEP_IDEMPOTENCY_HOURS", raising=False)
    assert Settings.from_environment().reply_lifetime == timedelta(hours=24)
    monkeypatch.setenv("DOORSTEP_IDEMPOTENCY_HOURS", "2")
    assert Settings.from_environment().reply_lifetime == timedelta(hours=2)
