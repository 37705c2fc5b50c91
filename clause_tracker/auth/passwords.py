"""Argon2id password hashes (argon2-cffi); parameters from the config for fast tests."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg.get("ARGON2_TIME_COST", 3),
        memory_cost=cfg.get("ARGON2_MEMORY_COST", 65536),
        parallelism=cfg.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the user does not exist keeps the response time alike.
def dummy_check(password: str) -> None:
    check_password(_dummy_hash(), password)


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    key = current_app.import_name
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-password")
    return _DUMMY[key]
