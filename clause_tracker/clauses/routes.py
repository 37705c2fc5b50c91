from __future__ import annotations

from flask import abort, render_template, request

from clause_tracker.clauses import bp, services
from clause_tracker.clauses.texts import LANGUAGES, VARIANTS
from clause_tracker.permissions import Permission, requires


@bp.route("/")
@requires(Permission.CLAUSES_READ)
def library():
    return render_template("clauses/library.html", rows=services.library_overview())


@bp.route("/<variant>/<language>/<version>")
@requires(Permission.CLAUSES_READ)
def show(variant: str, language: str, version: str):
    clause = services.get_version(variant, language, version) or abort(404)
    history = services.versions(variant, language)
    return render_template("clauses/show.html", clause=clause, history=history)


@bp.route("/<variant>/<language>/diff")
@requires(Permission.CLAUSES_READ)
def diff(variant: str, language: str):
    if variant not in VARIANTS or language not in LANGUAGES:
        abort(404)
    history = services.versions(variant, language)
    if not history:
        abort(404)
    old = services.get_version(variant, language, request.args.get("old", history[0].version))
    new = services.get_version(variant, language, request.args.get("new", history[-1].version))
    if old is None or new is None:
        abort(404)
    return render_template("clauses/diff.html", old=old, new=new, history=history,
                           rows=services.side_by_side(old, new))
