from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired

from clause_tracker.auth.permissions import Permission, public, requires
from clause_tracker.auth.services import set_locale
from clause_tracker.i18n import LANGUAGE_COOKIE
from clause_tracker.main import bp
from clause_tracker.main.health import health

ONE_YEAR = 365 * 24 * 3600


class LanguageForm(FlaskForm):
    language = SelectField(choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
                           validators=[DataRequired()])
    next = HiddenField()


@bp.app_context_processor
def inject_language_form() -> dict[str, object]:
    return {"language_form": LanguageForm}


@bp.route("/")
@requires(Permission.SIGNED_IN)
def index():
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    target = form.next.data or ""
    if not target.startswith("/"):
        target = url_for("main.index")
    if target.startswith("//"):
        target = url_for("main.index")
    response = redirect(target)
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


