"""Error pages in the user's language, never with internals."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from clause_tracker.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Access denied"), _l("Your role does not allow this page or action.")),
    404: (_l("Not found"), _l("This page does not exist (any more).")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("File too large"),
          _l("The upload is larger than allowed. Please choose a smaller file.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred. Nothing was saved. Please try again later.")),
}


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if request.accept_mimetypes.best == "application/json":
        return {"error": str(title), "message": str(detail or message)}, code
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code


def handle_http(error: HTTPException):
    return _render(error.code or 500)


def handle_csrf(error: CSRFError):
    return _render(400, str(_l("The form had expired or was sent from elsewhere. "
                               "Please reload the page and try again.")))


def handle_unexpected(error: Exception):
    db.session.rollback()
    original = getattr(error, "original_exception", error)
    from flask import current_app

    current_app.logger.exception("Unhandled error", exc_info=original)
    return _render(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
