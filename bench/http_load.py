"""Doorstep over HTTP: gunicorn with 2 workers on a scratch database, driven by closed-loop clients.

The 5-call workload of one case (reception, answered on the spot: start → user task → script → user task → end):
  1. POST /api/v1/cases                      the duty secretary registers a visit (start; 登记来访 completed)
  2. GET  /api/v1/tasks?case=N               the township cadre finds the case's task
  3. POST /api/v1/tasks/<id>/complete        the cadre answers on the spot (接谈研判 → script → 记录当场答复)
  4. GET  /api/v1/tasks/<id>                 the secretary reads the next task's form (its link in the answer)
  5. POST /api/v1/tasks/<id>/complete        the secretary records the answer; the case ends
Submissions are the three POSTs. Each run uses 1, then 4 clients (each waits for its answer before the next
call; the five calls of a case on one kept-alive connection, each case on a new one), and prints submissions/s,
instances/s, median and p95 submission latency (and the median of each kind); then statements per call (counted
in-process on the same database with an SQLAlchemy listener) and the ratio of a submission over HTTP
to the in-process engine step. At the end `doorstep audit verify --all` must pass on every case (exit 1 if not).

Run: python bench/http_load.py [--cases N] [--database postgresql+psycopg://…] [--threads T] [--pg-threads T]
(SQLite unless --no-sqlite; PostgreSQL when given — its schema is dropped and recreated, so give a scratch
database; `--threads`/`--pg-threads` are `doorstep serve --threads` for each)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scratch import doorstep, scratch_deployment

CLOCK = "2026-03-02T09:00:00+08:00"  # a Monday morning, Xupu time: the demo rota has someone on duty
SECRETARY, CADRE = "t01v01.secretary", "t01.cadre"
VISIT = {"headcount": 1, "village": "t01v01", "category": "social_security", "claim": "低保资格复核进度",
         "petitioners": [{"petitioner_name": "王桂英", "id_number": "431224196802150021", "phone": "13807451234"}]}
HEAR = {"data": {"disposition": "answer", "note": "当场答复"}}
ANSWER = {"data": {"answer": "按政策答复", "outcome": "explain"}}
# The three submissions of a case: the start (with its first task), the completion that reaches the next user task,
# the completion that ends the case.
SUBMISSIONS = ("start", "complete", "complete_end")


def prepare(url: str, folder: Path) -> dict[str, str]:
    """A scratch deployment: schema, diagrams, the demo county on a simulated clock; its environment."""
    return scratch_deployment(url, folder, "--demo", "--simulated-clock", CLOCK)


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, threads: int = 1) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "doorstep.cli", "serve", "--workers", str(workers),
                               "--threads", str(threads), "--no-timers", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class Client:
    """One closed-loop HTTP client: the calls of a case on one connection, kept open between them (HTTP/1.1
    keep-alive; opened again when the server closes it), each case on a new one; records submission latencies."""

    def __init__(self, base: str, tokens: dict[str, str]):
        self.tokens = tokens
        self.connection = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=60)
        self.latencies: dict[str, list[float]] = {kind: [] for kind in SUBMISSIONS}

    def call(self, who: str, method: str, path: str, body: Any = None, kind: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"}
        began = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        answer = self.connection.getresponse()
        result = json.loads(answer.read())
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {result}")
        if kind:
            self.latencies[kind].append(time.perf_counter() - began)
        return result

    def one_case(self) -> None:
        started = self.call(SECRETARY, "POST", "/api/v1/cases", {"process_id": "reception", "data": VISIT}, "start")
        [hear] = self.call(CADRE, "GET", f"/api/v1/tasks?case={started['id']}")["items"]
        heard = self.call(CADRE, "POST", f"/api/v1/tasks/{hear['id']}/complete", HEAR, "complete")
        [record] = heard["next_tasks"]
        self.call(SECRETARY, "GET", record["links"]["self"])
        done = self.call(SECRETARY, "POST", record["links"]["complete"], ANSWER, "complete_end")
        assert done["case_status"] == "completed", done
        # The next case on a new connection, as the next visitor's would be: gunicorn hands a kept-alive connection
        # to the worker that accepted it, so four clients each on one connection for the whole run may sit three on
        # one worker and one on the other (measured: 1.3 of the 2 cores busy, no gain over one client).
        self.connection.close()


def drive(base: str, tokens: dict[str, str], clients: int, cases: int) -> dict[str, float]:
    """`clients` threads, each doing `cases` cases back to back; rates over the wall time of the whole run."""
    workers = [Client(base, tokens) for _ in range(clients)]
    errors: list[BaseException] = []

    def run(client: Client) -> None:
        try:
            for _ in range(cases):
                client.one_case()
        except BaseException as error:  # noqa: BLE001 - reported after the run
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in workers]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for client in workers:
        client.connection.close()
    if errors:
        raise SystemExit(f"a client failed: {errors[0]!r}")
    latencies = sorted(x for c in workers for kind in SUBMISSIONS for x in c.latencies[kind])
    return {"submissions_per_s": len(latencies) / elapsed, "instances_per_s": clients * cases / elapsed,
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
            **{f"{kind}_ms": statistics.median(x for c in workers for x in c.latencies[kind]) * 1000
               for kind in SUBMISSIONS}}


def in_process(env: dict[str, str], cases: int) -> tuple[dict[str, float], float, float]:
    """Statements per call (the app in this process, same database) and the median engine step (seconds) and
    median submission through the app without HTTP (seconds)."""
    from sqlalchemy import event

    from doorstep.config import Settings
    from engine import Engine
    from web import create_app
    from web.extensions import db

    os.environ.update({k: v for k, v in env.items() if k.startswith("DOORSTEP_")})
    app = create_app(Settings.from_environment())
    with app.app_context():
        engine = db.engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    steps: list[float] = []
    original: Callable[..., Any] = Engine.complete_task

    def timed(self: Engine, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            steps.append(time.perf_counter() - began)

    Engine.complete_task = timed  # type: ignore[method-assign]
    client = app.test_client()
    with app.app_context():
        tokens = {who: issue(who) for who in (SECRETARY, CADRE)}
    counts: dict[str, list[int]] = {}
    submissions: list[float] = []

    def call(name: str, who: str, method: str, path: str, body: Any = None) -> Any:
        seen.clear()
        began = time.perf_counter()
        answer = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
        if method == "POST":
            submissions.append(time.perf_counter() - began)
        counts.setdefault(name, []).append(len(seen))
        assert answer.status_code < 300, answer.get_json()
        return answer.get_json()

    try:
        for _ in range(cases):
            started = call("start", SECRETARY, "POST", "/api/v1/cases", {"process_id": "reception", "data": VISIT})
            [hear] = call("list", CADRE, "GET", f"/api/v1/tasks?case={started['id']}")["items"]
            heard = call("complete", CADRE, "POST", f"/api/v1/tasks/{hear['id']}/complete", HEAR)
            [record] = heard["next_tasks"]
            call("read", SECRETARY, "GET", record["links"]["self"])
            call("complete_end", SECRETARY, "POST", record["links"]["complete"], ANSWER)
    finally:
        Engine.complete_task = original  # type: ignore[method-assign]
    per_call = {name: statistics.median(values[1:] or values) for name, values in counts.items()}  # warm
    return per_call, statistics.median(steps[2:] or steps), statistics.median(submissions[3:] or submissions)


def issue(username: str) -> str:
    from web.extensions import db
    from workflows.org.accounts import issue_api_token

    token = issue_api_token(db.session, username)
    db.session.commit()
    return token


def measure(name: str, url: str, cases: int, threads: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        env = prepare(url, Path(folder))
        tokens = {who: doorstep(env, "token", "issue", who).strip() for who in (SECRETARY, CADRE)}
        results = {}
        with gunicorn(env, threads=threads) as base:
            drive(base, tokens, 1, 2)  # warm both workers' caches
            for clients in (1, 4):
                results[clients] = drive(base, tokens, clients, cases if clients == 1 else max(1, cases // 2))
        statements, engine_step, app_submission = in_process(env, 6)
        print(f"\n{name}: gunicorn, 2 workers × {threads} thread{'s' if threads > 1 else ''}, closed-loop clients on "
              "a kept-alive connection per case (the machine is shared with them)")
        for clients, r in results.items():
            print(f"  {clients} client{'s' if clients > 1 else ' '}: {r['submissions_per_s']:6.1f} submissions/s  "
                  f"{r['instances_per_s']:5.1f} instances/s  median {r['median_ms']:5.1f} ms  "
                  f"p95 {r['p95_ms']:6.1f} ms  (medians: "
                  + ", ".join(f"{kind} {r[kind + '_ms']:.1f}" for kind in SUBMISSIONS) + " ms)")
        print("  statements per call: " + ", ".join(f"{k} {v:g}" for k, v in statements.items()))
        one = results[1]["median_ms"] / 1000
        print(f"  median submission over HTTP ÷ in-process engine step: {one / engine_step:.1f} "
              f"({one * 1000:.1f} ms ÷ {engine_step * 1000:.1f} ms; through the app without HTTP "
              f"{app_submission * 1000:.1f} ms)")
        print(f"  4 clients ÷ 1 client throughput: "
              f"{results[4]['submissions_per_s'] / results[1]['submissions_per_s']:.2f}")
        verified = subprocess.run([sys.executable, "-m", "doorstep.cli", "audit", "verify", "--all"], env=env,
                                  capture_output=True, text=True, check=False)
        last = (verified.stdout.strip().splitlines() or [verified.stderr.strip()])[-1]
        print(f"  audit verify --all: {'ok' if verified.returncode == 0 else 'FAILED'} — {last}")
        return verified.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per client with one client (half with four)")
    parser.add_argument("--database", help="also run on this PostgreSQL URL (its schema is recreated)")
    parser.add_argument("--threads", type=int, default=1, help="requests each web worker serves at once (SQLite)")
    parser.add_argument("--pg-threads", type=int, default=4,
                        help="the same on PostgreSQL, where a request mostly waits for the commit to reach the disk")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            ok &= measure("SQLite", f"sqlite:///{Path(folder) / 'http.db'}", args.cases, args.threads)
    if args.database:
        ok &= measure("PostgreSQL", args.database, args.cases, args.pg_threads)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
