"""Meine Aufgaben: everything that waits on a user, across checks, declarations, signed
copies, action plans and the proposals a second person must decide on.

Read-only: every task links to the page where it is done, and that page's service decides
(and audits). The routes are imported by create_app.
"""

from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/tasks")
