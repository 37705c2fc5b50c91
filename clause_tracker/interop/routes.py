"""The eForms import page (beside the CSV import) and the administrators' buyer table."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs

from clause_tracker.agreements.importing import ImportFileError
from clause_tracker.errors import returns_to
from clause_tracker.interop import bp, buyers
from clause_tracker.interop.eforms import EformsReport, import_notice
from clause_tracker.interop.forms import BuyerForm, EformsImportForm, RemoveBuyerForm
from clause_tracker.orgunits.services import all_units
from clause_tracker.permissions import Permission, requires


@bp.route("/eforms", methods=["GET", "POST"])
@requires(Permission.CONTRACTS_MANAGE)
def import_eforms():
    form = EformsImportForm()
    result: EformsReport | None = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        try:
            result = import_notice(data, upload.filename or "notice.xml",
                                   dry_run=form.dry_run.data, unit=current_user.org_unit,
                                   restrict_unit=True, user=current_user)
        except ImportFileError as exc:
            form.file.errors.append(str(exc))
            status = 422
        else:
            status = 422 if result.report.errors else 200
    elif form.errors:
        status = 400
    return render_template("interop/eforms.html", form=form, result=result,
                           report=result.report if result else None), status


@bp.route("/buyers", methods=["GET", "POST"], endpoint="buyers")
@requires(Permission.EFORMS_BUYERS_MANAGE)
def buyers_page():
    returns_to(url_for("interop.buyers"))
    form = BuyerForm()
    form.org_unit_id.choices = [SelectChoice(u.id, f"{u.code} – {u.name}")
                                for u in all_units()]
    if form.validate_on_submit():
        buyers.add_buyer(form.company_id.data or "", form.name.data or "",
                         form.org_unit_id.data)
        flash(_("The buyer was mapped."), "success")
        return redirect(url_for("interop.buyers"))
    return render_template("interop/buyers.html", form=form, rows=buyers.all_buyers(),
                           remove=RemoveBuyerForm()), 400 if form.errors else 200


@bp.route("/buyers/<int:buyer_id>/remove", methods=["POST"])
@requires(Permission.EFORMS_BUYERS_MANAGE)
def remove_buyer(buyer_id: int):
    returns_to(url_for("interop.buyers"))
    if RemoveBuyerForm().validate_on_submit():
        buyers.remove_buyer(buyer_id)
        flash(_("The mapping was removed."), "success")
    return redirect(url_for("interop.buyers"))
