"""Compliance checks: the schedule (triggers, sweep), reminders (notifications, outbox),
findings, hearings, measures with their four-eyes approval, and complaints.

The routes are imported by create_app, not here: the compliance state reads the models,
and importing a model must not pull in every view.
"""

from flask import Blueprint

# The URLs stay under /compliance/: "Meine Fristen" is bookmarked there.
bp = Blueprint("checks", __name__, url_prefix="/compliance")
