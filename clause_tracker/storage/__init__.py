"""Where uploaded and issued files live: outside the web root, named by their SHA-256.

A content address is a generated name that can never overwrite a different file. Two
backends behind one small interface (`storage()`):

- `local`: a folder (`UPLOAD_FOLDER`), the default on SQLite. A file is written when it is
  put and removed after the commit that releases it; it is seen only by the machine whose
  folder it is.
- `postgres`: the database itself, the default on PostgreSQL: one `stored_files` row per
  content and its bytes in chunks of 1 MiB, written in the transaction of the record that
  names them. Every node sees the same files, a rolled-back request leaves none behind, and
  an erasure removes its files in its own transaction.

`STORAGE_BACKEND` chooses explicitly; `clause-tracker storage migrate` moves the files from
one backend to the other, checking every SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath
from typing import BinaryIO, Protocol
from urllib.parse import quote

from flask import Flask, Response, abort, current_app
from sqlalchemy import delete, event, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.sql import dialect_insert
from clause_tracker.storage.models import CHUNK_BYTES, StoredFile, StoredFileChunk

_KEY = re.compile(r"\A[0-9a-f]{64}\Z")
LOCAL, DATABASE = "local", "postgres"
BACKENDS = (LOCAL, DATABASE)


class StorageKeyError(KeyError):
    """No stored file under that key (or the key is malformed)."""


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise StorageKeyError(key)
    return key


class Storage(Protocol):
    name: str

    def put(self, data: bytes) -> str:
        """Store `data` (in the current transaction where the backend has one); its key."""

    def get(self, key: str) -> bytes: ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The content piece by piece (StorageKeyError at once when it is not there)."""

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool:
        """Remove a stored file now; False when it was not there."""

    def lock(self, keys: Iterable[str]) -> None:
        """Hold `keys` against a concurrent `put` of the same content until the transaction
        ends: call before checking that no record names them any more."""

    def release(self, keys: Iterable[str]) -> None:
        """Remove files no record names any more, with the current transaction: at its
        commit, never when it rolls back."""

    def keys(self) -> Iterator[str]: ...


class LocalStorage:
    name = LOCAL

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / _checked(key)

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o600)
            os.link(tmp, path)  # fails rather than replace an existing file
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StorageKeyError(key) from exc

    def chunks(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageKeyError(key) from exc
        return _read_blocks(handle)

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise StorageKeyError(key) from exc

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).exists()
        except StorageKeyError:
            return False

    def lock(self, keys: Iterable[str]) -> None:
        """A folder has no transaction to hold anything in."""

    def release(self, keys: Iterable[str]) -> None:
        pending = db.session.info.setdefault(_RELEASE, [])
        pending.extend((self, _checked(key)) for key in keys)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*")):
            if _KEY.match(path.name) and path.parent.name == path.name[:2]:
                yield path.name


def _read_blocks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while block := handle.read(CHUNK_BYTES):
            yield block


# Files of the local folder released by a transaction: removed after its commit only.
_RELEASE = "clause_tracker.storage_release"


@event.listens_for(Session, "after_commit")
def _remove_released(session: Session) -> None:
    for store, key in session.info.pop(_RELEASE, ()):
        try:
            store.delete(key)
        except OSError as exc:  # stays unnamed; the records are erased already
            current_app.logger.error("stored file %s not removed: %s", key, exc)


@event.listens_for(Session, "after_rollback")
def _keep_released(session: Session) -> None:
    session.info.pop(_RELEASE, None)


class DatabaseStorage:
    """Files as rows of the database, in the session's current transaction."""

    name = DATABASE

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        session = db.session
        count = -(-len(data) // CHUNK_BYTES)
        for _attempt in range(2):
            # PostgreSQL: a concurrent put of the same content waits here for the other
            # transaction and inserts nothing if that one commits.
            inserted = session.execute(dialect_insert(StoredFile).values(
                sha256=key, size=len(data), chunks=count, created_at=utcnow())
                .on_conflict_do_nothing()).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
            if inserted:
                if count:
                    session.execute(insert(StoredFileChunk.__table__), [
                        {"sha256": key, "seq": seq,
                         "data": data[seq * CHUNK_BYTES:(seq + 1) * CHUNK_BYTES]}
                        for seq in range(count)])
                return key
            # Stored already: hold it (a share lock) so that an erasure releasing it now
            # waits for this transaction, whose record will name it again.
            if session.execute(select(StoredFile.sha256).where(StoredFile.sha256 == key)
                               .with_for_update(read=True)).first() is not None:
                return key
        raise RuntimeError(f"stored file {key} could not be written")  # pragma: no cover

    def _count(self, key: str) -> int:
        count = db.session.scalar(select(StoredFile.chunks).where(
            StoredFile.sha256 == _checked(key)))
        if count is None:
            raise StorageKeyError(key)
        return count

    def get(self, key: str) -> bytes:
        count = self._count(key)
        parts = list(db.session.scalars(select(StoredFileChunk.data).where(
            StoredFileChunk.sha256 == key).order_by(StoredFileChunk.seq)))
        if len(parts) != count:
            raise StorageKeyError(key)
        return b"".join(parts)

    def chunks(self, key: str) -> Iterator[bytes]:
        """Read while the response is sent, after the request has ended: each piece in an
        app context (and database session) of its own, ended before the piece is handed on."""
        count = self._count(key)
        return self._chunks(current_app._get_current_object(), key, count)  # type: ignore[attr-defined]  # the LocalProxy's

    @staticmethod
    def _chunks(app: Flask, key: str, count: int) -> Iterator[bytes]:
        for seq in range(count):  # one row at a time: a large file never sits in memory
            with app.app_context():
                part = db.session.scalar(select(StoredFileChunk.data).where(
                    StoredFileChunk.sha256 == key, StoredFileChunk.seq == seq))
            if part is None:
                raise StorageKeyError(key)
            yield part

    def size(self, key: str) -> int:
        size = db.session.scalar(select(StoredFile.size).where(
            StoredFile.sha256 == _checked(key)))
        if size is None:
            raise StorageKeyError(key)
        return size

    def exists(self, key: str) -> bool:
        if not _KEY.match(key):
            return False
        return db.session.scalar(select(StoredFile.sha256).where(
            StoredFile.sha256 == key)) is not None

    def delete(self, key: str) -> bool:
        db.session.execute(delete(StoredFileChunk).where(
            StoredFileChunk.sha256 == _checked(key)))
        return bool(db.session.execute(delete(StoredFile).where(  # type: ignore[attr-defined]  # DML: a CursorResult
            StoredFile.sha256 == key)).rowcount)

    def lock(self, keys: Iterable[str]) -> None:
        wanted = sorted({_checked(key) for key in keys})
        if wanted:
            db.session.execute(select(StoredFile.sha256).where(StoredFile.sha256.in_(wanted))
                               .order_by(StoredFile.sha256).with_for_update())

    def release(self, keys: Iterable[str]) -> None:
        for key in sorted(set(keys)):
            self.delete(key)

    def keys(self) -> Iterator[str]:
        last = ""
        while True:  # in pages, not one result held open across the caller's commits
            page = list(db.session.scalars(select(StoredFile.sha256).where(
                StoredFile.sha256 > last).order_by(StoredFile.sha256).limit(500)))
            yield from page
            if len(page) < 500:
                return
            last = page[-1]


def backend_name() -> str:
    """The configured backend, or the default for the database in use."""
    configured = str(current_app.config.get("STORAGE_BACKEND") or "").strip().lower()
    if configured:
        if configured not in BACKENDS:
            raise RuntimeError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, "
                               f"not {configured!r}")
        return configured
    url = current_app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    return DATABASE if make_url(url).get_backend_name() == "postgresql" else LOCAL


def backend(name: str) -> Storage:
    if name == DATABASE:
        return DatabaseStorage()
    return LocalStorage(current_app.config["UPLOAD_FOLDER"])


def storage() -> Storage:
    return backend(backend_name())


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]+')


def safe_filename(filename: str, default: str = "document.docx") -> str:
    """The user's file name for display and download: no path, no control or shell
    characters, umlauts kept (Content-Disposition carries them as filename*)."""
    name = PurePath(filename.replace("\\", "/")).name
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    return name[:200] or default


def with_extension(filename: str, extension: str) -> str:
    """`filename` ending in `.extension` (the type the content shows), whatever ending the
    uploader gave it: "x.html" holding a PDF becomes "x.pdf"."""
    stem, dot, _old = filename.rpartition(".")
    if dot and stem:
        filename = stem
    return f"{filename.strip(' .') or 'document'}.{extension}"


def _attachment(filename: str) -> dict[str, str]:
    """Content-Disposition parameters as Flask's send_file writes them."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple, "filename*": f"UTF-8''{quote(filename, safe='!#$&+^`|~')}"}
    return {"filename": filename}


def send_stored(key: str, mimetype: str | None, filename: str) -> Response:
    """A stored file as a download (never shown inline, never kept by a cache: the files
    are contracts and signed declarations), streamed piece by piece; 404 when it is not
    there."""
    store = storage()
    try:
        size = store.size(key)
        pieces = store.chunks(key)
    except StorageKeyError:
        abort(404)
    response = Response(pieces,
                        mimetype=mimetype or "application/octet-stream")
    response.content_length = size
    response.headers.set("Content-Disposition", "attachment", **_attachment(filename))
    response.headers["Cache-Control"] = "no-store"
    return response
