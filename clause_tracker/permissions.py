"""The one permission map: which role may do what. Every route names what it needs.

Routes declare a permission with `@requires(...)`; `check_request` runs before every
request and denies by default, so an endpoint that forgot to declare one answers 403
(and the route-coverage test fails).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


class Role(enum.StrEnum):
    PROCUREMENT_OFFICER = "procurement_officer"
    GRANT_MANAGER = "grant_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    SIGNED_IN = "signed_in"  # any signed-in user: home page, own account
    CLAUSES_READ = "clauses_read"
    AUDIT_READ = "audit_read"
    USERS_MANAGE = "users_manage"
    DOCUMENTS_PREPARE = "documents_prepare"  # insert the clause, generate documents
    DOCUMENTS_VERIFY = "documents_verify"  # check a returned document, record the result
    DOCUMENTS_READ = "documents_read"  # see issued and checked documents (own unit, or all)
    ALL_UNITS = "all_units"  # not limited to the user's own unit
    REGISTRY_READ = "registry_read"  # see contracts, grants, counterparties, declarations
    RECORDS_WORK = "records_work"  # work on awards at all; the kind decides the rest:
    CONTRACTS_MANAGE = "contracts_manage"  # record and change contracts and their declarations
    GRANTS_MANAGE = "grants_manage"  # record and change grants, declarations, self-commitments
    EXEMPTIONS_APPROVE = "exemptions_approve"  # second pair of eyes on an exemption
    THRESHOLDS_MANAGE = "thresholds_manage"  # per-unit value thresholds
    OVERVIEW_READ = "overview_read"  # figures and exports (own unit, or all with ALL_UNITS)
    ECCAR_REPORT = "eccar_report"  # the biennial report of all units
    CHECKS_WORK = "checks_work"  # carry out compliance checks: outcome, hearing, propose measures
    # Second pair of eyes on a measure: officers of the agreement's unit and kind, or an
    # administrator — never the person who proposed it (enforced in compliance.services).
    MEASURES_APPROVE = "measures_approve"
    COMPLIANCE_ADMIN = "compliance_admin"  # scheduler status, outbox, retention and erasure
    EFORMS_BUYERS_MANAGE = "eforms_buyers_manage"  # which unit an eForms notice's buyer is
    UNITS_MANAGE = "units_manage"  # each unit's name and address on the documents it issues
    ECCAR_NARRATIVE = "eccar_narrative"  # the steering group's texts in the ECCAR report


# Who handles which kind of agreement: procurement officers contracts, grant managers grants.
MANAGE_KIND: dict[str, Permission] = {"contract": Permission.CONTRACTS_MANAGE,
                                      "grant": Permission.GRANTS_MANAGE}


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PROCUREMENT_OFFICER: frozenset({
        Permission.SIGNED_IN, Permission.CLAUSES_READ,
        Permission.DOCUMENTS_PREPARE, Permission.DOCUMENTS_VERIFY, Permission.DOCUMENTS_READ,
        Permission.REGISTRY_READ, Permission.RECORDS_WORK, Permission.CONTRACTS_MANAGE,
        Permission.CHECKS_WORK, Permission.MEASURES_APPROVE, Permission.OVERVIEW_READ,
    }),
    Role.GRANT_MANAGER: frozenset({
        Permission.SIGNED_IN, Permission.CLAUSES_READ,
        Permission.DOCUMENTS_PREPARE, Permission.DOCUMENTS_VERIFY, Permission.DOCUMENTS_READ,
        Permission.REGISTRY_READ, Permission.RECORDS_WORK, Permission.GRANTS_MANAGE,
        Permission.CHECKS_WORK, Permission.MEASURES_APPROVE, Permission.OVERVIEW_READ,
    }),
    # Auditors read everything and change nothing.
    Role.AUDITOR: frozenset({
        Permission.SIGNED_IN, Permission.CLAUSES_READ, Permission.AUDIT_READ,
        Permission.DOCUMENTS_READ, Permission.ALL_UNITS, Permission.REGISTRY_READ,
        Permission.OVERVIEW_READ, Permission.ECCAR_REPORT,
    }),
    Role.ADMIN: frozenset({
        Permission.SIGNED_IN, Permission.CLAUSES_READ, Permission.AUDIT_READ,
        Permission.USERS_MANAGE, Permission.ALL_UNITS, Permission.REGISTRY_READ,
        Permission.EXEMPTIONS_APPROVE, Permission.THRESHOLDS_MANAGE,
        Permission.MEASURES_APPROVE, Permission.COMPLIANCE_ADMIN,
        Permission.OVERVIEW_READ, Permission.ECCAR_REPORT, Permission.EFORMS_BUYERS_MANAGE,
        Permission.UNITS_MANAGE, Permission.ECCAR_NARRATIVE,
    }),
}

# Reachable without signing in.
PUBLIC = "public"


def requires(permission: Permission | str) -> Callable[[F], F]:
    """Declare what a view needs; enforced centrally by `check_request`."""

    def mark(view: F) -> F:
        view.required_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    return requires(PUBLIC)(view)


def role_has(role: str, permission: Permission | str) -> bool:
    try:
        return Permission(permission) in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_for(kind: str) -> list[str]:
    """The roles that handle agreements of `kind` (whom its checks are for)."""
    return sorted(role.value for role, perms in ROLE_PERMISSIONS.items()
                  if MANAGE_KIND[kind] in perms)
