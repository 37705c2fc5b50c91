"""Labels of the documents desk's codes."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "verbatim": _l("Clause present, word for word"),
    "formatting_only": _l("Clause present, word for word; only the formatting differs"),
    "deviation": _l("The clause text was changed"),
    "tracked_changes": _l("Tracked changes in the clause are not yet accepted or rejected"),
    "missing": _l("No clause found"),
    "manual": _l("Checked by hand (paper copy)"),
}
