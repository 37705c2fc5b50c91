from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from clause_tracker import idempotency
from clause_tracker.counterparties import bp, services
from clause_tracker.counterparties.forms import ContactForm, CounterpartyForm
from clause_tracker.idempotency import AlreadySubmitted
from clause_tracker.pagination import page_count
from clause_tracker.permissions import Permission, requires
from clause_tracker.request_args import page_number


def _duplicate(token: str):
    done = idempotency.already_done(token)
    flash(_("This form was already sent; it was saved once."), "info")
    if done and done.object_type == "Counterparty":
        return redirect(url_for("counterparties.show", counterparty_id=int(done.object_id)))
    return redirect(url_for("counterparties.index"))


@bp.route("/")
@requires(Permission.REGISTRY_READ)
def index():
    search = request.args.get("q", "").strip()
    number = request.args.get("page", 1, type=page_number)
    rows, total, number = services.page(search, number)
    pages = page_count(total, services.PAGE_SIZE)
    return render_template("counterparties/index.html", rows=rows, total=total, q=search,
                           number=number, pages=pages)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def create():
    form = CounterpartyForm()
    if form.validate_on_submit():
        token = form.once.data
        assert token is not None  # DataRequired
        if idempotency.already_done(token):
            return _duplicate(token)
        try:
            party = services.create(form.values(), token)
        except AlreadySubmitted:
            return _duplicate(token)
        flash(_("The counterparty was recorded."), "success")
        return redirect(url_for("counterparties.show", counterparty_id=party.id))
    return render_template("counterparties/form.html", form=form, party=None), \
        400 if form.errors else 200


@bp.route("/<int:counterparty_id>")
@requires(Permission.REGISTRY_READ)
def show(counterparty_id: int):
    party = services.get(counterparty_id) or abort(404)
    return render_template("counterparties/show.html", party=party,
                           contact_form=ContactForm(formdata=None))


@bp.route("/<int:counterparty_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_WORK)
def edit(counterparty_id: int):
    party = services.get(counterparty_id) or abort(404)
    form = CounterpartyForm(obj=party)
    if request.method == "GET":
        form.version.data = party.version_id
    if form.validate_on_submit():
        try:
            services.update(party, form.values(), form.version.data or 0)
        except services.EditConflict as exc:
            flash(str(exc), "error")
            return render_template("counterparties/form.html", form=form, party=party), 409
        flash(_("The changes were saved."), "success")
        return redirect(url_for("counterparties.show", counterparty_id=party.id))
    return render_template("counterparties/form.html", form=form, party=party), \
        400 if form.errors else 200


@bp.route("/<int:counterparty_id>/contacts", methods=["POST"])
@requires(Permission.RECORDS_WORK)
def add_contact(counterparty_id: int):
    party = services.get(counterparty_id) or abort(404)
    form = ContactForm()
    if not form.validate_on_submit():
        return render_template("counterparties/show.html", party=party,
                               contact_form=form), 400
    try:
        services.add_contact(party, form.name.data or "", form.function.data or "",
                             form.email.data or "", form.once.data or "")
    except AlreadySubmitted:
        flash(_("This form was already sent; it was saved once."), "info")
    else:
        flash(_("The contact person was added."), "success")
    return redirect(url_for("counterparties.show", counterparty_id=party.id))
