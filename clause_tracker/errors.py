"""Error pages in the user's language, never with internals; and the one answer to a
refused change: its reason flashed on the page the form was sent from."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from clause_tracker.extensions import db
from clause_tracker.versioning import RefusedChange

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
}


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
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code


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
    db.session.rollback()  # a route may have loaded or changed something before the refusal
    if request.method == "GET" or _area() is not None:
        return _render(409, str(error), error)
    flash(str(error), "error")
    return redirect(g.get("refusal_target") or _referring_page() or url_for("main.index"), 303)


def _referring_page() -> str | None:
    """The same-site page the form was sent from (the Referer is sent same-origin only)."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None


def handle_unexpected(error: Exception):
    db.session.rollback()
    original = getattr(error, "original_exception", error)
    current_app.logger.exception("Unhandled error", exc_info=original)
    return _render(500, error=error)


def init_app(app: Flask) -> None:
    app.register_error_handler(RefusedChange, handle_refused)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
