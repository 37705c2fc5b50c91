"""Fixtures of the API tests: tokens made through the service, and a client that sends one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from clause_tracker.api import tokens
from clause_tracker.auth.models import User
from tests.factories import new_user


class Bearer:
    """A test client that sends `Authorization: Bearer <secret>` with every request."""

    def __init__(self, client: FlaskClient, secret: str, user: User, token_id: int) -> None:
        self.client, self.secret, self.user, self.token_id = client, secret, user, token_id

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **(headers or {})}

    def get(self, url: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.post(url, headers=self._headers(headers), **kw)

    def patch(self, url: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.patch(url, headers=self._headers(headers), **kw)


@pytest.fixture
def token_for(app: Flask) -> Callable[..., tuple[str, int]]:
    """token_for(user, write=True, days=30) → (secret, token id), issued by the user."""

    def make(user: User, write: bool = True, days: int = 30) -> tuple[str, int]:
        token, secret = tokens.issue(user, "test client", write, days, user)
        return secret, token.id

    return make


@pytest.fixture
def bearer(app: Flask, client: FlaskClient, token_for) -> Callable[..., Bearer]:
    """bearer("procurement_officer", "ZVS", write=True) → a client with a new user's token."""

    def make(role: str = "procurement_officer", unit: str | None = None,
             write: bool = True) -> Bearer:
        user = new_user(role, unit)
        secret, token_id = token_for(user, write)
        return Bearer(client, secret, user, token_id)

    return make
