"""Where uploaded and issued files live: outside the web root, named by their SHA-256.

A content address is a generated name that can never overwrite a different file.
The interface is small so that shared or object storage can replace the local
folder when the app runs on several nodes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePath

from flask import Response, abort, current_app, send_file

_KEY = re.compile(r"\A[0-9a-f]{64}\Z")


class StorageKeyError(KeyError):
    """No stored file under that key (or the key is malformed)."""


class LocalStorage:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StorageKeyError(key)
        return self.root / key[:2] / key

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
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise StorageKeyError(key) from exc

    def delete(self, key: str) -> bool:
        """Remove a stored file (after the records naming it were changed); False when it
        was not there."""
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


def storage() -> LocalStorage:
    return LocalStorage(current_app.config["UPLOAD_FOLDER"])


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


def send_stored(key: str, mimetype: str | None, filename: str) -> Response:
    """A stored file as a download (never shown inline, never kept by a cache: the files
    are contracts and signed declarations); 404 when it is not there."""
    try:
        data = storage().get(key)
    except StorageKeyError:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=mimetype or "application/octet-stream",
                         as_attachment=True, download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
