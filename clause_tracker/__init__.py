"""clause_tracker: the anti-racism clause on every municipal contract and grant of Jena."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flask import Flask

try:
    __version__ = version("clause-tracker")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory (clause_tracker.app.create_app)."""
    # Imported here, not at the top: this __init__ runs before any module of the package,
    # and the app imports every feature; `import clause_tracker.clock` must not load them all.
    from clause_tracker.app import create_app as build

    return build(test_config)
