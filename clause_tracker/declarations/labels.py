"""Labels of the declarations' codes."""

from flask_babel import lazy_gettext as _l

PARTY_LABELS = {"main": _l("The contractor (best bidder)"),
                "subcontractor": _l("A subcontractor working on the contract")}
# A grant has no bidders: its applicant, once granted its grantee (Zuwendungsempfänger).
GRANT_PARTY_LABELS = {"main": _l("The applicant or grantee")}


def party_label(code: str | None, kind: str | None = None) -> str:
    if kind == "grant" and code in GRANT_PARTY_LABELS:
        return str(GRANT_PARTY_LABELS[code])
    return str(PARTY_LABELS.get(code or "", code or ""))
