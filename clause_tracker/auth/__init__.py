"""Signing in, users and roles, and the permission check that runs before every request."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from clause_tracker.auth import directory, second_factor, sessions
from clause_tracker.extensions import login_manager
from clause_tracker.permissions import PUBLIC

bp = Blueprint("auth", __name__)

# Served by Flask itself; nothing secret there.
BUILTIN_PUBLIC_ENDPOINTS = frozenset({"static"})
# What an account whose password was reset by an administrator may open before it has
# chosen a new one: that page, and signing out.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout"})
# What an administrator without a second factor may open while REQUIRE_2FA_ADMIN is on.
SECOND_FACTOR_SETUP_ENDPOINTS = frozenset({"auth.second_factor_page", "auth.second_factor_start",
                                           "auth.second_factor_confirm", "auth.logout"})


def required_permission(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "required_permission", None)


def check_request() -> Response | None:
    """Deny by default: unknown permission → 403; not signed in → sign-in page; lacking → 403."""
    if request.endpoint is None:  # 404/405: the error handlers answer
        return None
    needed = required_permission(request.endpoint)
    if needed == PUBLIC:
        return None
    if needed is None:
        current_app.logger.error("Endpoint %s declares no permission", request.endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    if (not current_user.has_second_factor and second_factor.required_for(current_user)
            and request.endpoint not in SECOND_FACTOR_SETUP_ENDPOINTS):
        return redirect(url_for("auth.second_factor_page"))
    if not current_user.can(needed):
        abort(403)
    return None


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in user: only while the cookie's server-side session is current."""
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or len(ident) > 18:
        return None
    return sessions.load(int(ident), token, session.get(sessions.SESSION_KEY))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    directory.check_settings(app.config)
    app.before_request(check_request)
