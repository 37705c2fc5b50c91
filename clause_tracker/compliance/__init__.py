"""Compliance: THE compliance state of agreements (state.py), and issue 5's checks —
schedule (triggers, sweep), reminders (notifications), findings, hearings, measures,
complaints, retention, and the scheduler process that drives them.

The routes are imported by create_app, not here: state.py is imported by the registry's
queries, and importing it must not pull in every view.
"""

from flask import Blueprint

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
