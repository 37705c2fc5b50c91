"""Labels of the roles."""

from flask_babel import lazy_gettext as _l

from clause_tracker.permissions import Role

ROLE_LABELS = {
    Role.PROCUREMENT_OFFICER: _l("Procurement officer"),
    Role.GRANT_MANAGER: _l("Grant manager"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("Administrator"),
}
