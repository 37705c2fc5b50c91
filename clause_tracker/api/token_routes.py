"""The pages for API tokens: a user's own (My account → API tokens) and the
administrators' (service accounts and every token). A new token's secret is shown once,
on the answer to the form that made it, and never again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.api import tokens
from clause_tracker.api.forms import RevokeForm, ServiceAccountForm, ServiceTokenForm, TokenForm
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.extensions import db
from clause_tracker.orgunits.services import all_units
from clause_tracker.permissions import Permission, requires

bp = Blueprint("api_tokens", __name__)


def _shown_once(secret: str, token: tokens.ApiToken, back: str):
    response = render_template("api/token_created.html", secret=secret, token=token, back=back)
    return response, 201


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def mine():
    form = TokenForm()
    if form.validate_on_submit():
        token, secret = tokens.issue(current_user, form.name.data or "", form.write.data,
                                     form.days.data or tokens.DEFAULT_DAYS, current_user)
        return _shown_once(secret, token, url_for("api_tokens.mine"))
    return render_template("api/my_tokens.html", form=form, revoke=RevokeForm(),
                           tokens=tokens.of_user(current_user.id),
                           max_days=tokens.max_days()), 400 if form.errors else 200


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@requires(Permission.SIGNED_IN)
def revoke_mine(token_id: int):
    token = tokens.get(token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    tokens.revoke(token, current_user)
    flash(_("The token was revoked; it works no more."), "success")
    return redirect(url_for("api_tokens.mine"))


def _admin_page(account_form: ServiceAccountForm, token_form: ServiceTokenForm, status: int):
    return render_template("api/admin_tokens.html", account_form=account_form,
                           token_form=token_form, revoke=RevokeForm(),
                           tokens=tokens.everyone(), accounts=tokens.service_accounts(),
                           role_labels=ROLE_LABELS, max_days=tokens.max_days()), status


def _forms() -> tuple[ServiceAccountForm, ServiceTokenForm]:
    account_form = ServiceAccountForm(prefix="account")
    account_form.org_unit.choices = [SelectChoice(0, _("— none —")),
                                     *(SelectChoice(u.id, u.name) for u in all_units())]
    token_form = ServiceTokenForm(prefix="token")
    token_form.account.choices = [SelectChoice(u.id, f"{u.username} – {u.display_name}")
                                  for u in tokens.service_accounts()]
    return account_form, token_form


@bp.route("/admin/api-tokens")
@requires(Permission.USERS_MANAGE)
def admin():
    account_form, token_form = _forms()
    return _admin_page(account_form, token_form, 200)


@bp.route("/admin/api-tokens/accounts", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def create_account():
    account_form, token_form = _forms()
    if not account_form.validate_on_submit():
        return _admin_page(account_form, token_form, 400)
    unit = next((u for u in all_units() if u.id == account_form.org_unit.data), None)
    user = tokens.create_service_account(account_form.username.data or "",
                                         account_form.display_name.data or "",
                                         account_form.role.data, unit)
    flash(_("Service account %(name)s created; now create a token for it.",
            name=user.username), "success")
    return redirect(url_for("api_tokens.admin"))


@bp.route("/admin/api-tokens/tokens", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def create_token():
    account_form, token_form = _forms()
    if not token_form.validate_on_submit():
        return _admin_page(account_form, token_form, 400)
    owner = next((u for u in tokens.service_accounts() if u.id == token_form.account.data),
                 None) or abort(400)
    token, secret = tokens.issue(owner, token_form.name.data or "", token_form.write.data,
                                 token_form.days.data or tokens.DEFAULT_DAYS, current_user)
    return _shown_once(secret, token, url_for("api_tokens.admin"))


@bp.route("/admin/api-tokens/<int:token_id>/revoke", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def revoke_any(token_id: int):
    token = db.session.get(tokens.ApiToken, token_id) or abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    tokens.revoke(token, current_user)
    flash(_("The token was revoked; it works no more."), "success")
    return redirect(url_for("api_tokens.admin"))
