"""The kinds and methods of funding a grant notice names: codes, labels for the pages and
the words of the (German) notice. Here, below the records, because the documents desk's own
form offers them too; the grant record (agreements) stores the codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FUNDING_KINDS = ("project", "institutional")
FUNDING_METHODS = ("deficit", "share", "fixed", "full")
FUNDING_KIND_LABELS = {
    "project": _l("Project funding"),
    "institutional": _l("Institutional funding"),
}
FUNDING_METHOD_LABELS = {
    "deficit": _l("Deficit financing (Fehlbedarfsfinanzierung)"),
    "share": _l("Proportional financing (Anteilfinanzierung)"),
    "fixed": _l("Fixed-amount financing (Festbetragsfinanzierung)"),
    "full": _l("Full financing (Vollfinanzierung)"),
}
# The same in the words of a German grant notice ("… als Projektförderung im Wege der
# Fehlbedarfsfinanzierung …").
FUNDING_KIND_NOTICE = {"project": "Projektförderung", "institutional": "institutionelle Förderung"}
FUNDING_METHOD_NOTICE = {"deficit": "Fehlbedarfsfinanzierung", "share": "Anteilfinanzierung",
                         "fixed": "Festbetragsfinanzierung", "full": "Vollfinanzierung"}
