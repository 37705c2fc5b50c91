"""The `clause-tracker` command: Flask's CLI (run, shell, db …) on the app, which brings the
project's commands (commands.py)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from clause_tracker import create_app


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """clause_tracker: the anti-racism clause for Jena's contracts and grants."""
