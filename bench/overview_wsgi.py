"""gunicorn entry for bench_overview.py: the app plus one minimal route for comparison.

    BENCH_DATABASE_URL=… gunicorn -w 2 bench.overview_wsgi:app
"""

import os

from clause_tracker import create_app
from clause_tracker.permissions import Permission, public, requires

app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
                  "SECRET_KEY": "bench-only", "SESSION_COOKIE_SECURE": False,
                  "REMEMBER_COOKIE_SECURE": False})


@public
def minimal() -> str:
    return "ok"


@requires(Permission.OVERVIEW_READ)
def signed_in() -> str:
    """What any page for a signed-in user costs before it does anything: the session,
    the user loaded and checked, a database transaction."""
    return "ok"


app.add_url_rule("/bench-minimal", "bench_minimal", minimal)
app.add_url_rule("/bench-signed-in", "bench_signed_in", signed_in)
