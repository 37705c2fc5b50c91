"""Error pages in the user's language, never with internals; the one answer to a
refused change: its reason flashed on the page the form was sent from; and a truthful
answer when the database connection breaks: "saved" when the database holds the change
(the commit went through, or the unit of work found its audit event after the break),
"nothing was saved" (503) when it does not — never a 500 that says nothing was saved
about a change that was."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from clause_tracker.extensions import db, keep_committed_state
from clause_tracker.transaction import (
    COMMITTED,
    ConnectionLost,
    is_conflict,
    is_disconnect,
)
from clause_tracker.versioning import CONFLICT_MESSAGE, EditConflict, RefusedChange

# Set in the WSGI environ when a request failed on a lost connection before it changed
# anything: a GET or HEAD is then answered by running it again (see RetryReads).
RETRY_READ = "clause_tracker.retry_read"

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Access denied"), _l("Your role does not allow this page or action.")),
    404: (_l("Not found"), _l("This page does not exist (any more).")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("File too large"),
          _l("The upload is larger than allowed. Please choose a smaller file.")),
    429: (_l("Too many attempts"),
          _l("Too many attempts in a short time. Please wait a few minutes and try again.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred. Nothing was saved. Please try again later.")),
    503: (_l("Database connection lost"),
          _l("The connection to the database broke. Nothing was saved. Please try again.")),
}
SAVED_CONNECTION_LOST = _l("Your change was saved. The connection to the database broke "
                           "afterwards; this page shows the saved state.")
UNKNOWN_CONNECTION_LOST = _l("The connection to the database broke while saving, and it could "
                             "not be confirmed whether your change was saved. Please check "
                             "the record before trying again.")


# Parts of the site that answer errors in a format of their own (the JSON API: RFC 9457
# problem details), by path prefix: registered by the composition root, so this core module
# knows no feature. The renderer gets the status, the message for people and the error.
AreaRenderer = Callable[[int, str, Exception | None], object]
_AREAS: dict[str, AreaRenderer] = {}


def register_area(prefix: str, render: AreaRenderer) -> None:
    _AREAS[prefix] = render


def _area() -> AreaRenderer | None:
    return next((render for prefix, render in _AREAS.items()
                 if request.path.startswith(prefix)), None)


def _render(code: int, detail: str | None = None, error: Exception | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    area = _area()
    if area is not None:
        return area(code, str(detail or message), error)
    if request.accept_mimetypes.best == "application/json":
        return {"error": str(title), "message": str(detail or message)}, code
    try:
        return render_template("errors/error.html", code=code, title=title,
                               message=detail or message), code
    except DBAPIError:  # the page's navigation reads the user, on a connection just lost
        _rollback_quietly()
        return _bare(code, detail)


def handle_http(error: HTTPException):
    return _render(error.code or 500, getattr(error, "user_message", None), error)


def handle_csrf(error: CSRFError):
    return _render(400, str(_l("The form had expired or was sent from elsewhere. "
                               "Please reload the page and try again.")))


def returns_to(url: str) -> None:
    """Where this request's form came from: a refused change returns there (see below)."""
    g.refusal_target = url


def handle_refused(error: RefusedChange):
    """A change the service refused (its unit of work rolled back): the reason is flashed
    where the form came from — the page the route named with `returns_to`, else the form's
    own page. Answered 303 so the browser fetches that page with GET."""
    _rollback_quietly()  # a route may have loaded or changed something before the refusal
    if request.method == "GET" or _area() is not None:
        return _render(409, str(error), error)
    flash(str(error), "error")
    return redirect(g.get("refusal_target") or _referring_page() or url_for("main.index"), 303)


def _referring_page() -> str | None:
    """The same-site page the form was sent from (the Referer is sent same-origin only)."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def _rollback_quietly() -> None:
    with suppress(DBAPIError):  # the connection is gone; SQLAlchemy invalidated it already
        db.session.rollback()


def _committed() -> bool:
    return bool(db.session.info.get(COMMITTED))


def _saved_answer():
    """The request's change is in the database, whatever broke afterwards: say so, on the
    page the form came from (read again on a new connection)."""
    flash(str(SAVED_CONNECTION_LOST), "success")
    return redirect(g.get("refusal_target") or _referring_page() or url_for("main.index"), 303)


def handle_connection_lost(error: ConnectionLost):
    _rollback_quietly()
    current_app.logger.warning("database connection lost at commit: saved=%s", error.saved)
    if error.saved:
        return _saved_answer()
    if error.saved is None:
        return _render(503, str(UNKNOWN_CONNECTION_LOST))
    return _render(503)


def handle_database_error(error: DBAPIError | StaleDataError):
    """A database error no service turned into an answer: a lost race is the conflict
    message; a lost connection is told as it is (saved or not); anything else a 500."""
    _rollback_quietly()
    if is_conflict(error):
        return handle_refused(EditConflict(CONFLICT_MESSAGE))
    if not is_disconnect(error):
        return handle_unexpected(error)
    current_app.logger.warning("database connection lost: %s", error)
    if request.method in ("GET", "HEAD"):  # a read: run it once more on a new connection
        request.environ[RETRY_READ] = True
    elif _committed():
        return _saved_answer()
    return _render(503)


def handle_unexpected(error: Exception):
    _rollback_quietly()
    original = getattr(error, "original_exception", error)
    if isinstance(original, ConnectionLost):
        return handle_connection_lost(original)
    if isinstance(original, DBAPIError | StaleDataError) and (
            is_conflict(original) or is_disconnect(original)):
        return handle_database_error(original)
    current_app.logger.exception("Unhandled error", exc_info=original)
    if request.method not in ("GET", "HEAD") and _committed() and _area() is None:
        return _saved_answer()  # the change is saved; only the page after it failed
    return _render(500, error=error)


def _bare(code: int, detail: str | None = None):
    """The error page without the layout: nothing in it reads the database."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    return (f"<!doctype html><title>{escape(str(title))}</title><h1>{escape(str(title))}</h1>"
            f"<p>{escape(str(detail or message))}</p>"), code


class RetryReads:
    """WSGI middleware: a GET or HEAD that failed on a lost database connection before it
    read or wrote anything certain (RETRY_READ) runs once more, on a new connection; the
    first answer is dropped unread. Other answers pass through unbuffered (streams stay
    streams)."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        started: list[tuple] = []

        def deferred(status, headers, exc_info=None):
            started.append((status, headers, exc_info))
            return lambda data: None  # the legacy write() callable: nothing writes through it

        body = self.wsgi_app(environ, deferred)
        if environ.pop(RETRY_READ, False):
            if hasattr(body, "close"):
                body.close()
            return self.wsgi_app(environ, start_response)
        if started:
            start_response(*started[-1])
        return body


def init_app(app: Flask) -> None:
    app.before_request(keep_committed_state)
    app.register_error_handler(RefusedChange, handle_refused)
    app.register_error_handler(ConnectionLost, handle_connection_lost)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(StaleDataError, handle_database_error)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
