"""Directory fixtures: a real slapd per test process (tests/directory/slapd.py), emptied of
people after each test, and the app's LDAP_* settings pointing at it (direct bind by DN
template, groups from memberOf; tests switch modes by changing `app.config`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.directory.slapd import PEOPLE, Slapd, group_dn, slapd_binary


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    if slapd_binary() is None:
        pytest.skip("slapd is not installed (Debian: slapd, ldap-utils)")
    server = Slapd(Path(tmp_path_factory.mktemp("slapd")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd_server: Slapd) -> Iterator[Slapd]:
    """The running directory; the people a test added are gone afterwards."""
    yield slapd_server
    if slapd_server.process is None:  # a test stopped it: start it again for the next
        slapd_server.start()
    for uid in slapd_server.people():
        slapd_server.delete(uid)


def directory_settings(server: Slapd) -> dict[str, object]:
    return {
        "LDAP_ENABLED": True,
        "LDAP_URL": server.ldap_url,
        "LDAP_CA_FILE": str(server.ca),
        "LDAP_CONNECT_TIMEOUT_SECONDS": 3,
        "LDAP_TIMEOUT_SECONDS": 5,
        "LDAP_BIND_TEMPLATE": f"uid={{username}},{PEOPLE}",
        "LDAP_USER_BASE_DN": PEOPLE,
        "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "LDAP_DISABLED_FILTER": "(pwdAccountLockedTime=*)",
        "LDAP_ROLE_GROUPS": (f"admin={group_dn('ct-admins')}",
                             f"auditor={group_dn('ct-auditors')}",
                             f"procurement_officer={group_dn('ct-procurement')}",
                             f"grant_manager={group_dn('ct-grants')}"),
        "LDAP_UNIT_GROUPS": (f"KIJ={group_dn('ct-unit-kij')}", f"ZVS={group_dn('ct-unit-zvs')}"),
    }


@pytest.fixture(autouse=True)
def _directory_settings(app_config: dict[str, object], slapd_server: Slapd) -> None:
    app_config.update(directory_settings(slapd_server))

