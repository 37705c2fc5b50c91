"""Figures: mail through an SMTP outage and cut connections; files across two nodes.

    python bench/bench_faults_mail_storage.py [--messages 200] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
    (or set CLAUSE_TRACKER_BENCH_DATABASE_URL; without a URL: a SQLite file)

Everything on loopback, in a scratch database (dropped afterwards):
  outage      N messages queued, a real SMTP server (aiosmtpd) DOWN for 10 minutes with a
              dispatch every minute — TIME-TRAVELLED (time-machine), the 10 minutes take a
              second — then up: every message delivered?, how many copies, attempts made;
  cut         N messages while the server cuts every 4th DATA dialogue after keeping the
              message (the reply is lost: the sender must send it again) and every 7th
              before keeping it: every message delivered?, duplicates (by Message-ID)
              against the replies lost, which is the least SMTP allows;
  dead sender N/10 messages claimed by a sender that dies in the dialogue: sent again
              after MAIL_INTERRUPTED_MINUTES (time-travelled);
  downloads   peak Python memory while a 20 MiB stored file is downloaded from the
              database backend (streamed in 1 MiB rows) against the file's size;
  two nodes   the cross-node file tests (tests/test_storage.py) on the same database server.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import time_machine  # noqa: E402  # after the checkout is on sys.path
from aiosmtpd.controller import Controller  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from scratch_database import scratch  # noqa: E402  # bench/ is on sys.path when run as a script

from clause_tracker import create_app  # noqa: E402
from clause_tracker.checks import notifications  # noqa: E402
from clause_tracker.checks.outbox import OutboxMessage  # noqa: E402
from clause_tracker.extensions import db  # noqa: E402
from clause_tracker.storage import DatabaseStorage, send_stored  # noqa: E402
from clause_tracker.transaction import unit_of_work  # noqa: E402

START = datetime(2026, 3, 2, 8, 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """aiosmtpd on loopback; counts what it kept; may cut dialogues in DATA."""

    def __init__(self, port: int) -> None:
        self.port, self.kept, self.controller = port, [], None
        self.lost_every = self.cut_every = 0
        self.dialogues = self.lost = self.cut = 0

    def start(self) -> None:
        server_self = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
                server_self.dialogues += 1
                n = server_self.dialogues
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                if server_self.lost_every and n % server_self.lost_every == 0:
                    server_self.kept.append(message["Message-ID"])
                    server_self.lost += 1
                    server.transport.abort()
                    return "250 OK"
                if server_self.cut_every and n % server_self.cut_every == 0:
                    server_self.cut += 1
                    server.transport.abort()
                    return "451 cut"
                server_self.kept.append(message["Message-ID"])
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def dispatch(at: datetime) -> notifications.DispatchReport:
    with time_machine.travel(at, tick=False):
        return notifications.dispatch(now=at)


def queue(n: int, day: date, tag: str) -> set[str]:
    for i in range(n):
        notifications.queue_prepared(f"{tag}{i}@jena.example", f"{tag} {i}", "Text", day,
                                     now=START)
    db.session.commit()
    return {notifications.message_id_header(m) for m in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.recipient.like(f"{tag}%")))}


def drain(at: datetime, step: timedelta, limit: int = 500) -> datetime:
    for _ in range(limit):
        dispatch(at)
        waiting = db.session.scalar(db.select(db.func.count()).where(
            OutboxMessage.status != "sent"))
        db.session.commit()
        if not waiting:
            return at
        at += step
    raise SystemExit("messages still waiting")


def outage(server: Server, n: int) -> None:
    expected = queue(n, START.date(), "outage")
    at, attempts_down = START, 0
    t0 = time.perf_counter()
    while at < START + timedelta(minutes=10):  # down: nobody listens on the port
        attempts_down += dispatch(at).retried
        at += timedelta(minutes=1)
    server.start()
    done = drain(at, timedelta(minutes=1))
    copies = Counter(mid for mid in server.kept if mid in expected)
    real = time.perf_counter() - t0
    print(f"outage      {n} messages, SMTP down 10 min (time-travelled, {real:.1f} s real): "
          f"{attempts_down} failed attempts while down; all delivered "
          f"{done - START} after the outage began: {set(copies) == expected}; "
          f"copies {sum(copies.values())}, duplicates {sum(copies.values()) - len(copies)}")


def cut(server: Server, n: int) -> None:
    expected = queue(n, START.date() + timedelta(days=1), "cut")
    server.kept.clear()
    server.dialogues = server.lost = server.cut = 0
    server.lost_every, server.cut_every = 4, 7
    at = START + timedelta(days=1)
    drain(at, timedelta(minutes=5))
    copies = Counter(mid for mid in server.kept if mid in expected)
    print(f"cut         {n} messages, {server.dialogues} DATA dialogues, {server.lost} replies "
          f"lost after the server kept the message, {server.cut} cut before: all delivered "
          f"{set(copies) == expected}; duplicates {sum(copies.values()) - len(copies)} "
          f"(= replies lost: {sum(copies.values()) - len(copies) == server.lost}), each with "
          f"its one Message-ID")
    server.lost_every = server.cut_every = 0


def dead_sender(server: Server, n: int) -> None:
    at = START + timedelta(days=2)
    expected = queue(n, at.date(), "dead")
    server.kept.clear()
    for message_id in db.session.scalars(db.select(OutboxMessage.id).where(
            OutboxMessage.recipient.like("dead%"))).all():
        notifications.claim(message_id, at, "a-sender-that-dies")
    early = dispatch(at + timedelta(minutes=5)).sent
    later = dispatch(at + timedelta(minutes=11))
    copies = Counter(mid for mid in server.kept if mid in expected)
    print(f"dead sender {n} messages claimed by a sender that died: {early} sent before the "
          f"lease, {later.interrupted} interrupted and {later.sent} sent again after it; "
          f"all delivered {set(copies) == expected}")


def downloads(app) -> None:
    data = os.urandom(20 * 2**20)
    with unit_of_work():
        key = DatabaseStorage().put(data)
    client = app.test_client()
    with app.test_request_context():
        tracemalloc.start()
        response = send_stored(key, "application/pdf", "x.pdf")
        total = sum(len(piece) for piece in response.response)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert total == len(data) and client
    print(f"downloads   a 20 MiB file from the database backend: peak Python memory while "
          f"streaming {peak / 2**20:.1f} MiB ({peak / len(data):.0%} of the file)")


def two_nodes(url: str | None) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if url:
        env["CLAUSE_TRACKER_TEST_DATABASE_URL"] = url
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p",
                             "no:cacheprovider", "tests/test_storage.py"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    last = (result.stdout.strip().splitlines() or ["?"])[-1]
    print(f"two nodes   tests/test_storage.py (two apps, own empty upload folders, one database): "
          f"{last}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--url", default=os.environ.get("CLAUSE_TRACKER_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url, drop = scratch(args.url)
    server = Server(free_port())
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "STORAGE_BACKEND": "postgres", "MAIL_SERVER": "127.0.0.1",
                          "MAIL_PORT": server.port, "MAIL_TIMEOUT_SECONDS": 5,
                          "MAIL_ALERT_TO": ("bmi@jena.example",)})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            outage(server, args.messages)
            cut(server, args.messages)
            dead_sender(server, max(1, args.messages // 10))
            downloads(app)
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()
        drop()
    two_nodes(args.url)


if __name__ == "__main__":
    main()
