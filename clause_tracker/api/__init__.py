"""The JSON API (/api/v1): machine clients with API tokens, described by OpenAPI 3.1.

- Authentication (`authenticate`, before every request, ahead of the permission check):
  under /api/ only `Authorization: Bearer <token>` counts. The session cookie is ignored
  there, so a browser session never authorises an API call and the API needs no CSRF
  token (it is exempt from Flask-WTF's check for that reason alone). The token's user is
  the request's user: the one permission map and the unit scoping apply unchanged, a
  `read` token is refused every write, and every audit event the request writes names
  the token beside its user.
- The OpenAPI document is built by flask-smorest from the schemas that validate the
  requests (schemas.py) and served at /api/v1/openapi.json; /api/v1/docs is a reference
  page rendered on the server from that document (no script, no CDN).
- Errors under /api/ are RFC 9457 problem details (problems.py), registered with errors.py.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from werkzeug.wrappers import Response

from clause_tracker import errors
from clause_tracker.api import problems, reference, resources, token_routes, tokens
from clause_tracker.audit.services import act_through_token
from clause_tracker.auth import required_permission, second_factor
from clause_tracker.extensions import csrf, login_manager
from clause_tracker.permissions import PUBLIC

PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ProblemApi(Api):
    """flask-smorest with problem details: its error responses are documented as
    `application/problem+json` with ProblemSchema, and it installs no error handler of its
    own (errors.py answers every error, the API's through problems.render)."""

    ERROR_SCHEMA = problems.ProblemSchema
    DEFAULT_ERROR_CONTENT_TYPE = problems.MEDIA_TYPE

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        # The same lazy components as flask-smorest's, with the problem media type.
        saved = Api.DEFAULT_RESPONSE_CONTENT_TYPE
        self.DEFAULT_RESPONSE_CONTENT_TYPE = problems.MEDIA_TYPE
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = saved


def authenticate() -> Response | None:
    """The bearer token of an API request (see the module's docstring)."""
    if not request.path.startswith(PREFIX):
        return None
    # Whatever the cookie says: under /api/ a request is anonymous until its token counts.
    g._login_user = login_manager.anonymous_user()
    needed = required_permission(request.endpoint)
    if request.endpoint is None or needed == PUBLIC:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return problems.unauthorized(str(_l("Send an API token: Authorization: Bearer "
                                            "<token>.")), error="invalid_request")
    token = tokens.authenticate(secret.strip())
    if token is None:
        return problems.unauthorized(str(_l("The API token is unknown, expired or revoked.")))
    user = token.user
    g._login_user = user
    act_through_token(token.id)
    if request.method not in SAFE_METHODS and not token.can_write:
        return problems.problem(403, str(_l("This token may only read (scope read).")),
                                kind="insufficient-scope")
    if user.must_change_password or (not user.has_second_factor
                                     and second_factor.required_for(user)):
        return problems.problem(403, str(_l("The account must first set a new password or "
                                            "a second factor in the browser.")),
                                kind="account-incomplete")
    return None


def init_auth(app: Flask) -> None:
    """Before the permission check (auth.init_app), so it sees the token's user."""
    app.before_request(authenticate)
    errors.register_area(PREFIX, problems.render)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Clause Tracker API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": reference.DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "an API token (My account → API tokens)"}}},
    })
    api = ProblemApi(app)
    api.register_blueprint(resources.blp)
    csrf.exempt(resources.blp)
    app.register_blueprint(reference.bp)
    app.register_blueprint(token_routes.bp)


__all__ = ["authenticate", "init_app", "init_auth"]
