"""Stored files in the database: one row per content (its SHA-256) and its bytes in chunks.

Written with the record that names the file, in the same transaction: a rolled-back request
leaves no content behind, and the erasure of a record's files commits with the erasure.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.extensions import Model

CHUNK_BYTES = 1024 * 1024  # rows of 1 MiB: a download reads one at a time


class StoredFile(Model):
    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class StoredFileChunk(Model):
    __tablename__ = "stored_file_chunks"

    sha256: Mapped[str] = mapped_column(
        String(64), ForeignKey("stored_files.sha256", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
