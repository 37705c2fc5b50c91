from __future__ import annotations

import segno
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.auth import bp, directory_accounts, second_factor, services, sessions
from clause_tracker.auth.forms import (
    ConfirmForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SecondFactorDisableForm,
    SecondFactorForm,
    UserCreateForm,
    UserRoleForm,
)
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db, limiter
from clause_tracker.orgunits.services import all_units
from clause_tracker.permissions import Permission, public, requires
from clause_tracker.redirects import safe_next


def _address_key() -> str:
    """The per-address throttle's key: the client's address (the proxy's X-Forwarded-For
    with PROXY_FIX_X_FOR). Each key carries the app's RATELIMIT_KEY_PREFIX itself: the one
    Limiter of the process keeps the prefix of the first app it was bound to."""
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:address:{get_remote_address()}"


PENDING = "second_factor_pending"  # the session key of a sign-in awaiting its code


def _account_key() -> str:
    """The per-account throttle's key: the name as typed, known or not (so the answer is
    the same either way), normalised as `find_user` reads it."""
    name = str(request.form.get("username", "")).strip().lower()[:80]
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:account:{name}"


def _failed(response: Response) -> bool:
    """A sign-in step counts against the throttles unless it succeeded (a redirect) or the
    directory could not be asked (503: no password was checked)."""
    return response.status_code not in (302, 503)


def _address_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_ADDRESS"])


def _account_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"])


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"], deduct_when=_failed,
               scope="login-address")
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed,
               scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = directory_accounts.sign_in(form.username.data or "",
                                             form.password.data or "")
        if outcome.ok:
            return _finish_sign_in(outcome, request.args.get("next"))
        if outcome.second_factor_user:
            user = db.session.get(User, outcome.second_factor_user)
            assert user is not None
            session.clear()
            session[PENDING] = {"user": user.id, "token": user.session_token,
                                "name": user.username.lower(), "at": utcnow().timestamp(),
                                "next": request.args.get("next") or ""}
            return redirect(url_for("auth.login_second_factor"))
        if outcome.unavailable:
            # Only names that are no local account get here: says nothing of the person.
            flash(_("The city's directory cannot be reached just now, so your sign-in cannot "
                    "be checked. Please try again in a few minutes; if it persists, tell the "
                    "IT service desk. Administrators can sign in with their local account."),
                  "error")
            return render_template("auth/login.html", form=form), 503
        # One answer for a wrong password, an unknown and a locked account alike: it must
        # not tell anyone which accounts exist or are locked.
        flash(_("Username or password is wrong, or the account is locked for a while "
                "after repeated failed sign-ins."), "error")
    return render_template("auth/login.html", form=form)


def _finish_sign_in(outcome: services.LoginOutcome, target: str | None):
    """A new session cookie (nothing of the one before it is kept: no fixation)."""
    session.clear()
    session.permanent = True
    session[sessions.SESSION_KEY] = outcome.session_key
    login_user(outcome.user)
    return redirect(safe_next(target))


def _pending() -> dict | None:
    """The half-finished sign-in (password right, code awaited), while it is fresh. It is
    no sign-in: nothing but this step is open to it."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    age = utcnow().timestamp() - float(pending.get("at") or 0)
    if not 0 <= age <= current_app.config["SECOND_FACTOR_PENDING_SECONDS"]:
        return None
    return pending


def _pending_key() -> str:
    pending = session.get(PENDING)
    name = pending.get("name", "") if isinstance(pending, dict) else ""
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:account:{name}"


@bp.route("/login/second-factor", methods=["GET", "POST"])
@public
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"], deduct_when=_failed,
               scope="login-address")
@limiter.limit(_account_limit, key_func=_pending_key, methods=["POST"], deduct_when=_failed,
               scope="login-account")
def login_second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    pending = _pending()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        outcome = services.complete_second_factor(pending["user"], str(pending.get("token")),
                                                  form.code.data or "")
        if outcome.ok:
            return _finish_sign_in(outcome, pending.get("next"))
        flash(_("The code is not right, or the account is locked for a while after "
                "repeated failed sign-ins."), "error")
    return render_template("auth/second_factor_login.html", form=form)


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
    form.org_unit.choices = _unit_choices(units)
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


def _unit_choices(units: list) -> list[SelectChoice]:
    return [SelectChoice("0", _("— none —"))] + [SelectChoice(str(u.id), u.name) for u in units]


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/admin/users/<int:user_id>")
@requires(Permission.USERS_MANAGE)
def user_detail(user_id: int):
    user = _account(user_id)
    role_form = UserRoleForm(formdata=None, role=user.role, org_unit=user.org_unit_id or 0)
    role_form.org_unit.choices = _unit_choices(all_units())
    return render_template("auth/user.html", user=user, role_form=role_form,
                           reset_form=PasswordResetForm(formdata=None), confirm=ConfirmForm(),
                           role_labels=ROLE_LABELS, open_sessions=sessions.open_sessions(user.id),
                           is_self=user.id == current_user.id)


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_role(user_id: int):
    user = _account(user_id)
    form = UserRoleForm()
    units = all_units()
    form.org_unit.choices = _unit_choices(units)
    if form.validate_on_submit():
        unit = next((u for u in units if u.id == form.org_unit.data), None)
        try:
            services.change_role(user, form.role.data, unit)
        except services.UserError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Role and unit of %(name)s saved.", name=user.username), "success")
    else:
        flash(_("Please choose a role and a unit from the lists."), "error")
    return redirect(url_for("auth.user_detail", user_id=user_id), 303)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_password_reset(user_id: int):
    user = _account(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data or "")
        except services.UserError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Password of %(name)s reset: a new one is due at the next sign-in.",
                    name=user.username), "success")
    else:
        for error in form.password.errors:
            flash(str(error), "error")
    return redirect(url_for("auth.user_detail", user_id=user_id), 303)


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_activate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    user = _account(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.set_active(user, active)
        except services.UserError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Account %(name)s reactivated.", name=user.username) if active else
                  _("Account %(name)s deactivated; its sessions have ended.",
                    name=user.username), "success")
    return redirect(url_for("auth.user_detail", user_id=user_id), 303)


@bp.route("/admin/users/<int:user_id>/sessions/end", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_end_sessions(user_id: int):
    user = _account(user_id)
    if ConfirmForm().validate_on_submit():
        ended = services.end_sessions(user)
        flash(_("Sessions of %(name)s ended: %(count)d.", name=user.username, count=ended),
              "success")
    return redirect(url_for("auth.user_detail", user_id=user_id), 303)


@bp.route("/account")
@requires(Permission.SIGNED_IN)
def account():
    return render_template("auth/account.html", role_labels=ROLE_LABELS)


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            key = services.change_own_password(user, form.current_password.data or "",
                                               form.new_password.data or "")
        except services.WrongPassword as exc:
            form.current_password.errors = [*form.current_password.errors, str(exc)]
        except services.UserError as exc:
            form.new_password.errors = [*form.new_password.errors, str(exc)]
        else:
            session[sessions.SESSION_KEY] = key
            login_user(user)
            flash(_("Your password has been changed. Other sessions have ended."), "success")
            return redirect(url_for("auth.account"), 303)
    return render_template("auth/password.html", form=form)


@bp.route("/account/second-factor")
@requires(Permission.SIGNED_IN)
def second_factor_page():
    user = current_user._get_current_object()
    qr = None
    if user.totp_secret and not user.has_second_factor:
        qr = segno.make(second_factor.provisioning_uri(user), error="m").svg_inline(
            scale=4, dark="#000", light="#fff", omitsize=False)
    return render_template(
        "auth/second_factor.html", user=user, confirm=ConfirmForm(),
        code_form=SecondFactorForm(formdata=None), disable_form=SecondFactorDisableForm(
            formdata=None), qr=Markup(qr) if qr else None,  # noqa: S704  # segno's own SVG
        uri=second_factor.provisioning_uri(user) if qr else None,
        grouped=second_factor.grouped_secret(user) if qr else None,
        required=second_factor.required_for(user),
        codes_left=second_factor.recovery_codes_left(user) if user.has_second_factor else 0)


@bp.route("/account/second-factor/start", methods=["POST"])
@requires(Permission.SIGNED_IN)
def second_factor_start():
    if ConfirmForm().validate_on_submit():
        second_factor.begin_setup(current_user._get_current_object())
    return redirect(url_for("auth.second_factor_page"), 303)


@bp.route("/account/second-factor/confirm", methods=["POST"])
@requires(Permission.SIGNED_IN)
def second_factor_confirm():
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_setup(current_user._get_current_object(),
                                                form.code.data or "")
        except second_factor.SecondFactorError as exc:
            flash(str(exc), "error")
        else:
            # Shown once, on this page: never in a redirect's flash (the cookie is readable).
            return render_template("auth/recovery_codes.html", codes=codes)
    return redirect(url_for("auth.second_factor_page"), 303)


@bp.route("/account/second-factor/disable", methods=["POST"])
@requires(Permission.SIGNED_IN)
def second_factor_disable():
    form = SecondFactorDisableForm()
    if form.validate_on_submit():
        try:
            second_factor.disable(current_user._get_current_object(), form.password.data or "")
        except second_factor.SecondFactorError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The second factor has been removed."), "success")
    return redirect(url_for("auth.second_factor_page"), 303)


@bp.route("/admin/users/<int:user_id>/second-factor/reset", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def user_second_factor_reset(user_id: int):
    user = _account(user_id)
    if ConfirmForm().validate_on_submit():
        second_factor.reset_by_admin(user)
        flash(_("Second factor of %(name)s removed.", name=user.username), "success")
    return redirect(url_for("auth.user_detail", user_id=user_id), 303)
