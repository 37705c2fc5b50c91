"""Faults on loopback, measured: `python bench/bench_faults.py --url postgresql+psycopg://…`.

1. Two gunicorn nodes (2 workers each) on one fresh PostgreSQL database; `--clients` (16)
   clients read counterparties, edit them (all the same few, so edits conflict) and record
   new ones, on either node at random, for `--seconds` (30), while `--kills` (30) of the web
   nodes' database connections are terminated with pg_terminate_backend, evenly spread.
   Counted: answers by status (reads: the pages and the forms fetched before each write),
   500s, and every write's answer against the database — a write answered "saved"
   (302/303) must be in the database (its audit event, or its row), one answered "nothing
   saved" (409, 503, and the 500 page, which says so) must not; an answer that says "could
   not be confirmed" counts as unknown, not as a lie. Run it on a checkout without the
   fault handling for the baseline.
2. Two scheduler processes and a real SMTP server (aiosmtpd) on loopback, with reminders
   due for three officers: the leader SIGKILLed — seconds until the standby's heartbeat —
   then all the leader's connections terminated — seconds until a heartbeat again; every
   reminder mailed exactly once across both switches.

The database is dropped at the end (`--keep` keeps it).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from scratch_database import scratch  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105  # the throw-away users of the scratch database
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FIELD = re.compile(r'name="(once|version)"[^>]*value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(url: str, tmp: Path, **extra: object) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CLAUSE_TRACKER_CONFIG": "testing", "CLAUSE_TRACKER_DATABASE_URL": url,
        "CLAUSE_TRACKER_UPLOAD_FOLDER": str(tmp / "uploads"),
        "CLAUSE_TRACKER_RATELIMIT_STORAGE_URI": "memory://",
        "CLAUSE_TRACKER_COMPLIANCE_SAMPLE_SHARE": "0",
        "CLAUSE_TRACKER_COMPLIANCE_SPREAD_FIRST_CHECKS": "false",
        "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
    })
    env.update({f"CLAUSE_TRACKER_{k}": str(v) for k, v in extra.items()})
    return env


def prepare(url: str, clients: int, tmp: Path) -> list[str]:
    """Migrate, publish the clauses, one officer per client, twenty counterparties."""
    from flask_migrate import upgrade

    from clause_tracker import create_app
    from clause_tracker.auth.services import create_user
    from clause_tracker.bootstrap import DEMO_UNITS
    from clause_tracker.clauses.services import sync
    from clause_tracker.counterparties import services as counterparties
    from clause_tracker.extensions import db
    from clause_tracker.orgunits.services import ensure_unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "UPLOAD_FOLDER": str(tmp / "uploads"), "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        sync()
        db.session.commit()
        units = {code: ensure_unit(code, name, kind) for code, name, kind in DEMO_UNITS}
        names = []
        for n in range(clients):
            user = create_user(f"bench{n}", PASSWORD, "procurement_officer",
                               org_unit=units["ZVS"], email=f"bench{n}@jena.example")
            names.append(user.username)
        for n in range(20):
            counterparties.create({"name": f"Firma {n} GmbH", "legal_form": "GmbH",
                                   "address": "Jena", "register_number": "", "vat_id": ""})
        db.session.remove()
        db.engine.dispose()
    return names


class Client:
    def __init__(self, nodes: list[str], username: str) -> None:
        self.nodes, self.http = nodes, requests.Session()
        self.username = username

    def url(self, path: str) -> str:
        return random.choice(self.nodes) + path

    def form(self, path: str, seen: collections.Counter | None = None
             ) -> dict[str, str] | None:
        page = self.http.get(self.url(path), timeout=30)
        if seen is not None:
            seen[page.status_code] += 1
        if page.status_code != 200:
            return None
        fields = dict(FIELD.findall(page.text))
        token = CSRF.search(page.text)
        return {**fields, "csrf_token": token.group(1)} if token else None

    def login(self) -> None:
        for _ in range(20):
            form = self.form("/login")
            if form:
                answer = self.http.post(self.url("/login"), data={
                    "csrf_token": form["csrf_token"], "username": self.username,
                    "password": PASSWORD}, allow_redirects=False, timeout=30)
                if answer.status_code == 302:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.username} could not sign in")


def claim(answer: requests.Response) -> str:
    """What the answer tells the user about the write: saved, not_saved or unknown."""
    if answer.status_code in (302, 303):
        return "saved"
    if answer.status_code in (200, 400, 409):
        return "not_saved"  # the form again, with its errors or the conflict message
    if answer.status_code in (500, 503) and "could not be confirmed" not in answer.text \
            and "ließ sich nicht feststellen" not in answer.text:
        return "not_saved"  # the error pages say "Nothing was saved"
    return "unknown"


def web_faults(url: str, clients: int, seconds: float, kills: int, tmp: Path) -> dict:
    users = prepare(url, clients, tmp)
    ports = [free_port(), free_port()]
    nodes = [f"http://127.0.0.1:{port}" for port in ports]
    env = env_for(url, tmp)
    env["PGAPPNAME"] = "clause-tracker web"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "wsgi:app"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"gunicorn-{port}.log", "w")) for port in ports]  # noqa: SIM115
    try:
        for node in nodes:
            for _ in range(300):
                try:
                    if requests.get(node + "/healthz", timeout=30).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
        return _drive(url, nodes, users, seconds, kills)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def _drive(url: str, nodes: list[str], users: list[str], seconds: float, kills: int) -> dict:
    results: list[tuple[str, str, int, str]] = []  # (kind, unique value, status, claim)
    reads: collections.Counter = collections.Counter()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def work(username: str) -> None:
        client = Client(nodes, username)
        client.login()
        seq = 0
        while time.monotonic() < end:
            seq += 1
            party = random.randint(1, 5)  # few, so that edits conflict
            roll = random.random()
            try:
                if roll < 0.4:
                    answer = client.http.get(client.url(f"/counterparties/{party}"), timeout=30)
                    with lock:
                        reads[answer.status_code] += 1
                    continue
                kind = "edit" if roll < 0.7 else "create"
                path = f"/counterparties/{party}/edit" if kind == "edit" else "/counterparties/new"
                form = client.form(path, reads)
                if form is None:
                    continue
                value = f"{kind}-{username}-{seq}"
                answer = client.http.post(client.url(path), data={
                    **form, "name": value, "legal_form": "GmbH", "address": "Jena"},
                    allow_redirects=False, timeout=30)
            except requests.RequestException as exc:
                with lock:
                    reads[f"transport:{type(exc).__name__}"] += 1
                continue
            with lock:
                results.append((kind, value, answer.status_code, claim(answer)))

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    terminated = 0

    def terminator() -> None:
        nonlocal terminated
        gap = seconds / max(kills, 1)
        for _ in range(kills):
            time.sleep(gap * random.uniform(0.5, 1.5))
            with admin.connect() as conn:
                pids = list(conn.scalars(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'clause-tracker web' AND state <> 'idle'")))
                if not pids:
                    pids = list(conn.scalars(text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = 'clause-tracker web'")))
                if pids:
                    terminated += conn.scalar(text("SELECT count(pg_terminate_backend(:p))"),
                                              {"p": random.choice(pids)}) or 0

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    threads.append(threading.Thread(target=terminator))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # What the database holds: a created counterparty by its row, an edit by its audit event.
    with admin.connect() as conn:
        names = set(conn.scalars(text("SELECT name FROM counterparties")))
        details = "\n".join(conn.scalars(text(
            "SELECT details FROM audit_events WHERE action = 'counterparty.update'")))
    admin.dispose()
    lies, unknown, saved_500 = [], 0, 0
    statuses: collections.Counter = collections.Counter()
    for kind, value, status, said in results:
        statuses[status] += 1
        held = value in names if kind == "create" else json.dumps(value) in details
        if status >= 500 and held:
            saved_500 += 1
        if said == "unknown":
            unknown += 1
        elif (said == "saved") != held:
            lies.append((kind, value, status, said, held))
    return {"writes": len(results), "write_statuses": dict(sorted(statuses.items())),
            "reads": dict(reads), "terminated": terminated,
            "500s": sum(n for s, n in statuses.items() if s == 500) + reads.get(500, 0),
            "500s_for_saved_writes": saved_500, "unknown": unknown,
            "untruthful": len(lies), "untruthful_examples": lies[:5]}


def scheduler_faults(url: str, tmp: Path) -> dict:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from clause_tracker import create_app
    from clause_tracker.clock import utcnow
    from clause_tracker.extensions import db
    from clause_tracker.jobs.heartbeat import SchedulerHeartbeat
    from tests.factories import insert_agreement, new_user

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:
            received.append(message["To"])

    port = free_port()
    smtp = Controller(Keep(), hostname="127.0.0.1", port=port)
    smtp.start()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "UPLOAD_FOLDER": str(tmp / "uploads"), "RATELIMIT_STORAGE_URI": "memory://",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                      "ARGON2_PARALLELISM": 1})
    env = env_for(url, tmp, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                  SCHEDULER_DISPATCH_SECONDS=2)
    procs: list[subprocess.Popen] = []
    try:
        with app.app_context():
            start = utcnow().date() - timedelta(days=800)
            officers = [new_user("procurement_officer", code, f"sched-{code}",
                                 email=f"sched-{code}@jena.example") for code in ("KIJ", "JK")]
            for code in ("KIJ", "JK"):
                for _ in range(3):
                    insert_agreement(code=code, start_date=start)

            def heartbeat() -> SchedulerHeartbeat | None:
                db.session.rollback()
                db.session.expire_all()
                return db.session.get(SchedulerHeartbeat, "scheduler")

            def wait(condition, limit: float = 120) -> float:
                began = time.monotonic()
                while time.monotonic() - began < limit:
                    if condition():
                        return time.monotonic() - began
                    time.sleep(0.1)
                raise RuntimeError("condition not met in time")

            for _ in range(2):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "clause_tracker", "scheduler", "run"], cwd=REPO,
                    env=env, stdout=subprocess.DEVNULL,
                    stderr=open(tmp / f"scheduler-{len(procs)}.log", "w")))  # noqa: SIM115
            wait(lambda: len(received) >= len(officers))
            leader = heartbeat()
            assert leader is not None
            pid = int(leader.holder.rsplit(":", 1)[1])
            standby = next(p for p in procs if p.pid != pid)
            os.kill(pid, signal.SIGKILL)
            failover = wait(lambda: (hb := heartbeat()) is not None
                            and hb.holder.endswith(f":{standby.pid}"))
            cut = utcnow()
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                cut_count = conn.scalar(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() "
                    "AND application_name = 'clause-tracker scheduler'"))
            admin.dispose()
            relead = wait(lambda: (hb := heartbeat()) is not None and hb.beat_at > cut
                          and hb.holder.endswith(f":{standby.pid}"))
            settle = utcnow()
            wait(lambda: (hb := heartbeat()) is not None and hb.last_dispatch_at is not None
                 and hb.last_dispatch_at > settle + timedelta(seconds=4))
            return {"failover_after_sigkill_s": round(failover, 1),
                    "connections_terminated": cut_count,
                    "leading_again_after_termination_s": round(relead, 1),
                    "standby_still_running": standby.poll() is None,
                    "reminder_mails": len(received), "recipients": len(officers),
                    "duplicates": len(received) - len(set(received))}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        smtp.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server (a database is made)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    url, drop = scratch(args.url)
    tmp = Path(__import__("tempfile").mkdtemp(prefix="bench-faults-"))
    try:
        print(json.dumps({"web": web_faults(url, args.clients, args.seconds, args.kills, tmp)},
                         indent=1, default=str))
        print(json.dumps({"scheduler": scheduler_faults(url, tmp)}, indent=1, default=str))
    finally:
        print(f"logs: {tmp}")
        if args.keep:
            print(f"database kept: {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
