"""gunicorn entry for bench_overview.py: the app plus one minimal route for comparison.

    BENCH_DATABASE_URL=… gunicorn -w 2 bench.overview_wsgi:app
"""

import os

from clause_tracker import create_app
from clause_tracker.auth.permissions import public

app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
                  "SECRET_KEY": "bench-only", "SESSION_COOKIE_SECURE": False,
                  "REMEMBER_COOKIE_SECURE": False})


@public
def minimal() -> str:
    return "ok"


app.add_url_rule("/bench-minimal", "bench_minimal", minimal)
