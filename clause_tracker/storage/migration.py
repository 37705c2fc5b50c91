"""Moving the stored files from one backend to the other (`clause-tracker storage migrate`).

Each file is read whole, its SHA-256 checked against its name, written to the target and
read back and checked there, in a transaction of its own: the command can be stopped and run
again, and copies only what is missing. A file whose content does not match its name is
refused (never copied, never removed) and reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from clause_tracker.audit.services import SYSTEM, record
from clause_tracker.storage import BACKENDS, DATABASE, LOCAL, StorageKeyError, backend
from clause_tracker.transaction import unit_of_work


@dataclass
class MigrationReport:
    source: str
    target: str
    examined: int = 0
    copied: int = 0
    present: int = 0  # in the target already, content verified
    removed: int = 0  # from the source, after the target's copy was verified
    bytes_copied: int = 0
    corrupt: list[str] = field(default_factory=list)  # "key: what is wrong"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def migrate(to: str, remove_source: bool = False) -> MigrationReport:
    if to not in BACKENDS:
        raise ValueError(f"unknown storage backend {to!r}")
    source, target = backend(LOCAL if to == DATABASE else DATABASE), backend(to)
    report = MigrationReport(source.name, target.name)
    with unit_of_work():
        keys = list(source.keys())
    for key in keys:
        report.examined += 1
        with unit_of_work():
            data = source.get(key)
            actual = _digest(data)
            if actual != key:
                report.corrupt.append(f"{key}: the {source.name} copy's SHA-256 is {actual}")
                continue
            if target.exists(key):
                try:
                    intact = _digest(target.get(key)) == key
                except StorageKeyError:
                    intact = False
                if intact:
                    report.present += 1
                else:  # a damaged copy in the target: replaced by the verified one
                    target.delete(key)
                    target.put(data)
                    report.copied += 1
                    report.bytes_copied += len(data)
            else:
                target.put(data)
                report.copied += 1
                report.bytes_copied += len(data)
        with unit_of_work():  # read back what was committed
            if _digest(target.get(key)) != key:
                report.corrupt.append(f"{key}: the {target.name} copy does not verify")
                continue
        if remove_source:
            with unit_of_work():
                source.delete(key)
            report.removed += 1
    with unit_of_work():
        record("storage.migrate", "StoredFiles", None,
               f"Stored files moved from {source.name} to {target.name}: {report.copied} "
               f"copied, {report.present} present, {len(report.corrupt)} refused",
               {"source": source.name, "target": target.name, "examined": report.examined,
                "copied": report.copied, "present": report.present,
                "removed": report.removed, "bytes": report.bytes_copied,
                "corrupt": report.corrupt[:100]},
               actor=SYSTEM, changes_records=False)
    return report
