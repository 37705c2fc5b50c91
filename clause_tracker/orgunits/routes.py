"""Administrators' pages of the units: how each names itself on its documents, its address."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from clause_tracker.extensions import db
from clause_tracker.orgunits import services
from clause_tracker.orgunits.models import CITY_ADDRESS, OrgUnit
from clause_tracker.permissions import Permission, requires

bp = Blueprint("orgunits", __name__, url_prefix="/admin/units")


class UnitForm(FlaskForm):
    document_name = StringField(
        _l("Name on documents"), validators=[Optional(), Length(max=200)],
        description=_l("Empty: “Stadt Jena – ” and the unit's name."))
    address = TextAreaField(
        _l("Postal address"), validators=[Optional(), Length(max=500)],
        description=_l("One line each: street and number, postcode and town. Empty: the "
                       "city hall's address."), render_kw={"rows": 4})


@bp.route("/")
@requires(Permission.UNITS_MANAGE)
def index():
    return render_template("orgunits/index.html", units=services.all_units())


@bp.route("/<int:unit_id>", methods=["GET", "POST"])
@requires(Permission.UNITS_MANAGE)
def edit(unit_id: int):
    unit = db.session.get(OrgUnit, unit_id) or abort(404)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        if services.update_unit(unit, form.document_name.data, form.address.data):
            flash(_("The unit %(name)s was saved.", name=unit.name), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("orgunits.index"))
    return render_template("orgunits/edit.html", unit=unit, form=form,
                           city_address=CITY_ADDRESS), 400 if form.errors else 200
