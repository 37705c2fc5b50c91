"""Anchors of the audit trail, kept outside the database.

The hash chain shows an edited, removed or reordered event, but not a trail cut off at its
end or emptied (TRUNCATE, or the newest events deleted with the triggers lifted): what is
left is a valid chain. An anchor `ID:HASH` noted outside the database says how long the
chain was and what its newest event was; every check compares the chain with the newest
anchor and fails when the anchored event is gone or has another hash.

The nightly check appends an anchor to the anchor log (`AUDIT_ANCHOR_FILE`, one `ID:HASH`
line each, never rewritten) and, when `AUDIT_ANCHOR_MAIL_TO` is set, mails it to the audit
office, so a copy lives beyond the machine too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import current_app

ANCHOR = re.compile(r"\A(\d{1,18}):([0-9a-f]{64})\Z")
DEFAULT_FILE = "audit_anchors.log"


def parse(anchor: str) -> tuple[int, str]:
    """(event id, hash) of an anchor `ID:HASH`; ValueError for anything else."""
    match = ANCHOR.match(anchor.strip())
    if match is None:
        raise ValueError(f"an anchor looks like 1234:<64 hex digits>, not {anchor!r}")
    return int(match.group(1)), match.group(2)


def log_path() -> Path:
    """The anchor log: `AUDIT_ANCHOR_FILE`, by default in the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / DEFAULT_FILE


class AnchorLogUnreadable(OSError):
    """The anchor log is there but cannot be read: a check must not pass without it."""


def newest(path: Path | None = None) -> str | None:
    """The last anchor in the log (lines that are not anchors are skipped), or None when
    there is no log yet; AnchorLogUnreadable when it cannot be read."""
    target = path or log_path()
    try:
        text = target.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorLogUnreadable(f"the anchor log {target} cannot be read: {exc}") from exc
    for line in reversed(text.splitlines()):
        if ANCHOR.match(line.strip()):
            return line.strip()
    return None


def append(event_id: int, event_hash: str, path: Path | None = None) -> str:
    """Append `ID:HASH` to the log (created readable by its owner and group only), synced to
    disk before returning; returns the line."""
    line = f"{event_id}:{event_hash}"
    parse(line)
    target = path or log_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, f"{line}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return line
