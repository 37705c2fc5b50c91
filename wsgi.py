"""WSGI entry point: `gunicorn wsgi:app`."""

from clause_tracker import create_app

app = create_app()
