"""Time of the monthly report over one million case records, on SQLite and on PostgreSQL.

Fills a database with the demo county's org and a million case records spread over five years (bulk inserts,
not engine steps: only the report's queries are measured), then times one county report and one township
report of a month, and the twelve-month year view. PostgreSQL runs in its own database (`doorstep_bench`, or
DOORSTEP_BENCH_PG_DATABASE; created when absent, its tables dropped afterwards) on the server of
DOORSTEP_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); --no-postgres skips it.

Run: python bench/report.py [--records 1000000] [--month 2025-06] [--no-sqlite] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import engine.models  # noqa: F401 - registers the engine tables
from engine.db import Base, open_database
from engine.models import Deployment, Instance, ProcessVersion
from workflows.cases.record import CaseRecord
from workflows.org.demo import load_demo_org
from workflows.org.models import OrgUnit
from workflows.reports.monthly import monthly_report
from workflows.reports.year import year_view

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = os.environ.get("DOORSTEP_BENCH_PG_DATABASE", "doorstep_bench")  # one per engineer on a shared server
FIRST = datetime(2021, 1, 1, tzinfo=UTC)
YEARS = 5
CHANNELS = (("online", 0.55), ("grid", 0.25), ("visit", 0.10), ("letter", 0.06), ("phone", 0.04))
ROUTES = {"visit": "reception", "letter": "petition", "phone": "petition", "online": "online_message",
          "grid": "grid_visit"}
CATEGORIES = ("land", "housing", "social_security", "labor", "environment", "infrastructure", "dispute", "other")
SATISFACTION = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
CHUNK = 20_000
VISIT_LEVELS, VISIT_WEIGHTS = ("township", "county", "city", "province"), (0.9, 0.08, 0.015, 0.005)


def fill(db: SqlEngine, records: int, seed: int = 1) -> str:
    """Create the tables, the demo org and `records` case records; return a township code to report on."""
    Base.metadata.create_all(db)
    sessions = sessionmaker(db)
    with sessions() as session:
        load_demo_org(session, grid_workers=False)
        version = _version(session)
        villages = [(code, path.strip("/").split("/")[-2]) for code, path in session.execute(
            select(OrgUnit.code, OrgUnit.path).where(OrgUnit.level == "village").order_by(OrgUnit.code))]
        session.commit()
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0, 0.9) for _ in villages]
    channels, channel_weights = zip(*CHANNELS, strict=True)
    span = YEARS * 365 * 86400
    moments = sorted(FIRST + timedelta(seconds=rng.randrange(span)) for _ in range(records))
    with db.begin() as connection:
        for start in range(0, records, CHUNK):
            instances, cases = [], []
            for offset, registered in enumerate(moments[start:start + CHUNK]):
                number = start + offset + 1
                channel = rng.choices(channels, channel_weights)[0]
                village, township = rng.choices(villages, weights)[0]
                closed = registered + timedelta(days=rng.uniform(0, 90)) if rng.random() < 0.95 else None
                heads = rng.choice((1, 1, 1, 1, 2, 2, 3, 5, 8)) if channel == "visit" else 1
                rated = closed is not None and rng.random() < 0.6
                instances.append({"id": number, "process_version_id": version, "process_id": ROUTES[channel],
                                  "status": "completed" if closed else "running", "state": "{}", "row_version": 1,
                                  "started_at": registered, "started_by": "bench", "updated_at": registered,
                                  "completed_at": closed, "event_count": 0})
                cases.append({
                    "instance_id": number, "case_number": f"XP-{number}", "query_code": f"Q{number}",
                    "process_id": ROUTES[channel], "channel": channel, "petitioners": [], "headcount": heads,
                    "is_group": heads >= 5, "category": rng.choice(CATEGORIES), "township": township,
                    "village": village, "track": ROUTES[channel], "tier": "village",
                    "repeat_of": rng.randrange(1, number) if number > 1 and rng.random() < 0.06 else None,
                    "confidential": False, "status": "closed" if closed else "open", "registered_at": registered,
                    "closed_at": closed, "deadlines": {}, "overdue": rng.random() < 0.05,
                    "extended": rng.random() < 0.02, "on_the_spot": channel == "visit" and rng.random() < 0.5,
                    "remedies": [], "satisfaction": rng.choice(SATISFACTION) if rated else None,
                    "rating_source": rng.choice(("petitioner",) * 9 + ("staff",)) if rated else None,
                    "rated_at": closed + timedelta(days=rng.uniform(0, 10)) if rated and closed else None,
                    "visit_level": rng.choices(VISIT_LEVELS, VISIT_WEIGHTS)[0] if channel == "visit" else None,
                    "competent_level": "township", "handed_down_from": None})
            connection.execute(insert(Instance), instances)
            connection.execute(insert(CaseRecord), cases)
        connection.execute(text("ANALYZE"))
    return villages[len(villages) // 2][1]


def _version(session: Session) -> int:
    now = datetime.now(UTC)
    deployment = Deployment(deployed_at=now, deployed_by="bench", bundle_hash="0" * 64)
    session.add(deployment)
    session.flush()
    version = ProcessVersion(process_id="bench", version=1, deployment_id=deployment.id, file_name="bench.bpmn",
                             spec_hash="0" * 64, spec="{}", deployed_at=now, deployed_by="bench")
    session.add(version)
    session.flush()
    return version.id


def measure(db: SqlEngine, month: str, township: str, runs: int = 5) -> dict[str, tuple[float, float]]:
    """Seconds of a county and a township report: (first run, median of the runs after it)."""
    zone = ZoneInfo("Asia/Shanghai")
    timings: dict[str, tuple[float, float]] = {}
    with sessionmaker(db)() as session:
        for label, scope in (("county", None), (f"township {township}", township)):
            seconds = []
            for _ in range(runs + 1):
                began = time.perf_counter()
                report = monthly_report(session, month, township=scope, zone=zone)
                seconds.append(time.perf_counter() - began)
                session.rollback()
            assert report.scope.current.petitions > 0
            timings[label] = (seconds[0], statistics.median(seconds[1:]))
        seconds = []
        for _ in range(2):  # the year view: twelve months of the same queries (the report page's /reports/year)
            began = time.perf_counter()
            year_view(session, month, zone=zone)
            seconds.append(time.perf_counter() - began)
            session.rollback()
        timings["county year view"] = (seconds[0], seconds[1])
    return timings


def postgres_database(url: str) -> str:
    """The URL of the bench database on the server of `url`, created when absent."""
    server = open_database(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": BENCH_DATABASE})
            if not exists:
                connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    finally:
        server.dispose()
    return make_url(url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def run(name: str, db: SqlEngine, records: int, month: str) -> None:
    began = time.perf_counter()
    township = fill(db, records)
    print(f"{name}: {records:,} case records written in {time.perf_counter() - began:.0f} s")
    for label, (first, typical) in measure(db, month, township).items():
        print(f"{name}: {month} {label} report: first {first * 1000:.0f} ms, then {typical * 1000:.0f} ms (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--month", default="2025-06")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            db = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                run("SQLite", db, args.records, args.month)
            finally:
                db.dispose()
    if args.no_postgres:
        return
    url = postgres_database(os.environ.get("DOORSTEP_BENCH_PG_URL", DEFAULT_PG))
    db = open_database(url)
    try:
        Base.metadata.drop_all(db)
        run("PostgreSQL", db, args.records, args.month)
    finally:
        Base.metadata.drop_all(db)
        db.dispose()


if __name__ == "__main__":
    main()
