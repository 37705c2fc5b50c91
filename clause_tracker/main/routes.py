from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template
from flask_login import current_user

from clause_tracker.auth.services import set_locale
from clause_tracker.i18n import LANGUAGE_COOKIE
from clause_tracker.main import bp
from clause_tracker.main.forms import LanguageForm
from clause_tracker.main.health import health
from clause_tracker.permissions import Permission, public, requires
from clause_tracker.redirects import safe_next

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
@requires(Permission.SIGNED_IN)
def index():
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    response = redirect(safe_next(form.next.data))
    if form.validate_on_submit():
        language = form.language.data
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
        if current_user.is_authenticated:
            set_locale(current_user, language)
    return response


@bp.route("/healthz")
@public
def healthz():
    report = health()
    return jsonify(report), 200 if report["status"] == "ok" else 503


