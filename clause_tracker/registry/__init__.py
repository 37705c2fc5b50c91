"""The register of contracts and grants as people use it: the lists with their filters and
drill-down vocabulary (shared with the overview), the agreement's pages and actions, its
history, the import and the thresholds page.

The routes are imported by create_app, not here: the overview imports the list queries and
must not pull in the views.
"""

from flask import Blueprint

bp = Blueprint("registry", __name__, url_prefix="/agreements")
