from __future__ import annotations

from datetime import date

from flask import current_app, jsonify, redirect, render_template, send_from_directory
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




@bp.route("/barrierefreiheit")
@public
def accessibility():
    """The accessibility statement (EU model, Implementing Decision (EU) 2018/1523), for
    everyone, signed in or not."""
    cfg = current_app.config
    try:
        prepared = date.fromisoformat(str(cfg["ACCESSIBILITY_STATEMENT_DATE"]))
    except ValueError:
        prepared = None
    address = [line.strip() for line in str(cfg["ACCESSIBILITY_ENFORCEMENT_ADDRESS"] or "")
               .split("|") if line.strip()]
    return render_template("main/accessibility.html", prepared=prepared,
                           contact=cfg["ACCESSIBILITY_CONTACT_EMAIL"],
                           body_name=cfg["ACCESSIBILITY_ENFORCEMENT_NAME"],
                           body_url=cfg["ACCESSIBILITY_ENFORCEMENT_URL"], body_address=address)


@bp.route("/favicon.ico")
@public
def favicon():
    # Browsers ask for it at the root whatever the page links.
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
