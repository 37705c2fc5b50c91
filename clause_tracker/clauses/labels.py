"""Labels of the clause library's codes: variants and languages."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

VARIANT_LABELS = {
    "procurement": _l("Contracts (supplies, services, works)"),
    "grant": _l("Grants (condition in the grant notice)"),
    "subcontract": _l("Subcontracts (passed on by contractors)"),
    "self_commitment": _l("Voluntary self-commitment of grantees"),
}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}
_KEY = re.compile(r"^(?P<variant>[a-z_]+) (?P<version>\S+) \((?P<language>[a-z]{2})\)$")


def version_label(variant: str, version: str, language: str) -> str:
    """"Grants (condition in the grant notice), version 1.0, German"."""
    return str(_l("%(variant)s, version %(version)s, %(language)s",
                  variant=VARIANT_LABELS.get(variant, variant), version=version,
                  language=LANGUAGE_LABELS.get(language, language)))


def key_label(key: str) -> str:
    """A version's short key ("grant 1.0 (de)") as the reader reads it."""
    found = _KEY.match(key)
    return version_label(**found.groupdict()) if found else key
