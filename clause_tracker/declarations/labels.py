"""Labels of the declarations' codes."""

from flask_babel import lazy_gettext as _l

PARTY_LABELS = {"main": _l("The contractor or grantee (best bidder)"),
                "subcontractor": _l("A subcontractor working on the contract")}
