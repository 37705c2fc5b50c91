from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.auth import bp, services, sessions
from clause_tracker.auth.forms import ConfirmForm, LoginForm, UserCreateForm
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.auth.models import User
from clause_tracker.extensions import db
from clause_tracker.i18n import format_moment
from clause_tracker.orgunits.services import all_units
from clause_tracker.permissions import Permission, public, requires
from clause_tracker.redirects import safe_next


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = services.authenticate(form.username.data or "", form.password.data or "")
        if outcome.ok:
            session.clear()
            session.permanent = True
            session[sessions.SESSION_KEY] = outcome.session_key
            login_user(outcome.user)
            return redirect(safe_next(request.args.get("next")))
        if outcome.locked_until:
            flash(_("Too many failed attempts. The account is locked until %(time)s.",
                    time=format_moment(outcome.locked_until)), "error")
        else:
            flash(_("Username or password is wrong."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires(Permission.SIGNED_IN)
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        services.sign_out(current_user, session.get(sessions.SESSION_KEY))
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/admin/users", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def users():
    form = UserCreateForm()
    units = all_units()
    form.org_unit.choices = [SelectChoice("0", _("— none —"))] + [
        SelectChoice(str(u.id), u.name) for u in units
    ]
    if form.validate_on_submit():
        unit = next((u for u in units if u.id == form.org_unit.data), None)
        try:
            user = services.create_user(
                form.username.data or "", form.password.data or "", form.role.data,
                display_name=form.display_name.data or "", org_unit=unit, email=form.email.data,
            )
        except services.UserError as exc:
            flash(str(exc), "error")
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/users.html", form=form, users=services.all_users(),
                           role_labels=ROLE_LABELS, confirm=ConfirmForm())


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def unlock(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        services.unlock(user)
        flash(_("Account %(name)s unlocked.", name=user.username), "success")
    return redirect(url_for("auth.users"))
