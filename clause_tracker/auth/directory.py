"""The city's directory over LDAP (OpenLDAP, Active Directory): who a person is, whether the
password is theirs, and which of the configured groups they are in.

Two ways to find the person, by configuration (LDAP_* settings, see README "Directory
sign-in (LDAP)"):

- direct bind: `LDAP_BIND_TEMPLATE` makes the bind name from the name typed, a DN
  (`uid={username},ou=people,dc=jena,dc=de`) or an Active Directory UPN
  (`{username}@jena.de`); the entry is then read with the person's own rights;
- search: a service account (`LDAP_BIND_DN`, `LDAP_BIND_PASSWORD`) searches
  `LDAP_USER_BASE_DN` with `LDAP_USER_FILTER`, then the entry found binds with the password.

Every value typed by a person is escaped before it goes into a filter (RFC 4515) or a DN
(RFC 4514); an empty password is refused here, before any bind (an LDAP simple bind with an
empty password is an anonymous bind, which a server accepts). Nothing here writes to the
database: `directory_accounts` turns what the directory says into accounts.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app
from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException, LDAPInvalidDnError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from clause_tracker.permissions import Role

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = 49  # RFC 4511 resultCode; AD also answers it for disabled accounts
NO_SUCH_OBJECT = 32
MAX_USERNAME_LENGTH = 80  # as users.username
ROLES_NEEDING_UNIT = frozenset({Role.PROCUREMENT_OFFICER, Role.GRANT_MANAGER})


class DirectoryUnavailable(Exception):
    """The directory cannot be reached, refused TLS, timed out or refused the service
    account: nothing can be said about the person (never "wrong password")."""


class DirectoryMisconfigured(DirectoryUnavailable):
    """The LDAP_* settings do not make a working configuration (said at first use)."""


@dataclass(frozen=True)
class DirectoryEntry:
    dn: str
    username: str
    display_name: str
    email: str | None
    disabled: bool
    groups: frozenset[str]  # normalised DNs (normalise_dn) of the groups the person is in


@dataclass(frozen=True)
class Access:
    """What the configured group mapping grants: a role (None: no access) and a unit code."""

    role: str | None
    unit_code: str | None
    reason: str = ""  # why there is no access: "disabled", "no_group", "no_unit"


def enabled() -> bool:
    return bool(current_app.config.get("LDAP_ENABLED"))


def normalise_dn(dn: str) -> str:
    """A DN compared case-insensitively and without the spaces around its separators."""
    try:
        parts = parse_dn(dn.strip(), escape=False, strip=True)
    except LDAPInvalidDnError:
        return ",".join(part.strip() for part in dn.strip().lower().split(","))
    return ",".join(f"{attr.strip().lower()}={value.strip().lower()}"
                    for attr, value, _sep in parts)


def group_mapping(entries: Iterable[str]) -> list[tuple[str, str]]:
    """Settings like `admin=cn=ct-admins,ou=groups,dc=jena,dc=de` (the name before the
    first "=", then the group's DN), in the order configured: the first match wins."""
    mapping = []
    for entry in entries:
        name, sep, dn = entry.partition("=")
        if not sep or not name.strip() or not dn.strip():
            raise DirectoryMisconfigured(f"a group mapping must read NAME=GROUP-DN, not {entry!r}")
        mapping.append((name.strip(), normalise_dn(dn)))
    return mapping


def access(entry: DirectoryEntry, config: Mapping[str, Any] | None = None) -> Access:
    """The role and unit the directory's groups grant (LDAP_ROLE_GROUPS, LDAP_UNIT_GROUPS);
    a disabled entry, or one in no role group, gets none."""
    cfg = config if config is not None else current_app.config
    if entry.disabled:
        return Access(None, None, "disabled")
    roles = group_mapping(cfg.get("LDAP_ROLE_GROUPS", ()))
    for name, _dn in roles:
        if name not in set(Role):
            raise DirectoryMisconfigured(f"LDAP_ROLE_GROUPS names an unknown role {name!r}")
    role: str | None = next((name for name, dn in roles if dn in entry.groups), None)
    unit = next((name for name, dn in group_mapping(cfg.get("LDAP_UNIT_GROUPS", ()))
                 if dn in entry.groups), None)
    if role is None:
        return Access(None, None, "no_group")
    if role in ROLES_NEEDING_UNIT and unit is None:
        return Access(None, None, "no_unit")
    return Access(role, unit)


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start with LDAP_* settings that cannot work (said at start, not at the first
    sign-in): RuntimeError naming the setting."""
    if not config.get("LDAP_ENABLED"):
        return
    problems = []
    if not str(config.get("LDAP_URL") or "").startswith(("ldap://", "ldaps://")):
        problems.append("LDAP_URL must start with ldap:// or ldaps://")
    template = str(config.get("LDAP_BIND_TEMPLATE") or "")
    if template and "{username}" not in template:
        problems.append("LDAP_BIND_TEMPLATE must contain {username}")
    if template and "=" not in template and not config.get("LDAP_USER_BASE_DN"):
        problems.append("a UPN LDAP_BIND_TEMPLATE needs LDAP_USER_BASE_DN to find the entry")
    if not template and not config.get("LDAP_USER_BASE_DN"):
        problems.append("without LDAP_BIND_TEMPLATE, LDAP_USER_BASE_DN is needed (search mode)")
    if "{username}" not in str(config.get("LDAP_USER_FILTER") or "{username}"):
        problems.append("LDAP_USER_FILTER must contain {username}")
    if not config.get("LDAP_ROLE_GROUPS"):
        problems.append("LDAP_ROLE_GROUPS maps no group to a role: nobody could sign in")
    try:
        for name, _dn in group_mapping(config.get("LDAP_ROLE_GROUPS", ())):
            if name not in set(Role):
                problems.append(f"LDAP_ROLE_GROUPS names an unknown role {name!r}")
        group_mapping(config.get("LDAP_UNIT_GROUPS", ()))
    except DirectoryMisconfigured as exc:
        problems.append(str(exc))
    if problems:
        raise RuntimeError("directory sign-in (LDAP_*): " + "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Talking to the server


def _server() -> Server:
    cfg = current_app.config
    url = str(cfg.get("LDAP_URL") or "").strip()
    if not url.startswith(("ldap://", "ldaps://")):
        raise DirectoryMisconfigured("LDAP_URL must start with ldap:// or ldaps://")
    ca_file = cfg.get("LDAP_CA_FILE") or None
    # The server's certificate is always checked (against LDAP_CA_FILE, else the system's
    # CAs), and its name against the URL's host.
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file,
              version=ssl.PROTOCOL_TLS_CLIENT)
    return Server(url, get_info=NONE, tls=tls,
                  connect_timeout=float(cfg.get("LDAP_CONNECT_TIMEOUT_SECONDS", 5)))


def _connect(user: str | None, password: str | None) -> Connection | None:
    """An open, bound connection (StartTLS first when configured); None when the server
    says the credentials are wrong. Anything else that goes wrong: DirectoryUnavailable."""
    cfg = current_app.config
    conn = Connection(_server(), user=user, password=password, auto_bind=False,
                      read_only=True, raise_exceptions=False, auto_referrals=False,
                      # whole seconds: ldap3 packs it into SO_RCVTIMEO
                      receive_timeout=max(1, int(cfg.get("LDAP_TIMEOUT_SECONDS", 10))))
    try:
        conn.open()
        if cfg.get("LDAP_START_TLS") and not conn.server.ssl and not conn.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused: {conn.result}")
        if conn.bind():
            return conn
        code = (conn.result or {}).get("result")
    except (LDAPException, OSError) as exc:
        _close(conn)
        raise DirectoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except DirectoryUnavailable:
        _close(conn)
        raise
    _close(conn)
    if code == INVALID_CREDENTIALS:
        return None
    raise DirectoryUnavailable(f"bind refused with result {code}: {conn.result}")


def _close(conn: Connection) -> None:
    try:
        conn.unbind()
    except (LDAPException, OSError):
        log.debug("closing the directory connection failed", exc_info=True)


def _service() -> Connection:
    """The service account's connection; the account refused is a configuration fault."""
    cfg = current_app.config
    bind_dn = cfg.get("LDAP_BIND_DN") or None
    password = (cfg.get("LDAP_BIND_PASSWORD") or None) if bind_dn else None
    conn = _connect(bind_dn, password)  # no service account: an anonymous bind
    if conn is None:
        raise DirectoryUnavailable("the directory refused the service account (LDAP_BIND_DN)")
    return conn


Scope = Literal["BASE", "LEVEL", "SUBTREE"]


def _search(conn: Connection, base: str, scope: Scope, search_filter: str,
            attributes: list[str], size_limit: int = 0) -> list[dict[str, Any]] | None:
    """The entries found; None when the base does not exist."""
    try:
        conn.search(base, search_filter, search_scope=scope, attributes=attributes,
                    size_limit=size_limit,
                    time_limit=int(current_app.config.get("LDAP_TIMEOUT_SECONDS", 10)))
    except (LDAPException, OSError) as exc:
        raise DirectoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
    code = (conn.result or {}).get("result")
    if code == NO_SUCH_OBJECT:
        return None
    if code not in (0, 4):  # success, sizeLimitExceeded (the entries so far are there)
        raise DirectoryUnavailable(f"search refused with result {code}: {conn.result}")
    return [item for item in conn.response or [] if item.get("type") == "searchResEntry"]


def _filter(template: str, **values: str) -> str:
    """A configured filter with the person's values put in, each escaped (RFC 4515)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", escape_filter_chars(value))
    return template


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    if not name:
        return None
    value = attributes.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    return str(value)


def _attributes() -> list[str]:
    cfg = current_app.config
    names = [cfg.get("LDAP_USERNAME_ATTRIBUTE"), cfg.get("LDAP_NAME_ATTRIBUTE"),
             cfg.get("LDAP_EMAIL_ATTRIBUTE"), cfg.get("LDAP_MEMBER_OF_ATTRIBUTE")]
    return [str(name) for name in names if name]


def _entry(conn: Connection, dn: str, attributes: Mapping[str, Any],
           typed: str) -> DirectoryEntry:
    """The person's entry with their groups and disabled flag, read on `conn`."""
    cfg = current_app.config
    groups: set[str] = set()
    member_of = cfg.get("LDAP_MEMBER_OF_ATTRIBUTE")
    if member_of:
        values = attributes.get(member_of) or []
        groups.update(normalise_dn(str(v)) for v in (values if isinstance(values, list)
                                                     else [values]))
    username = _first(attributes, str(cfg.get("LDAP_USERNAME_ATTRIBUTE") or "")) or typed
    group_base = cfg.get("LDAP_GROUP_BASE_DN")
    group_filter = cfg.get("LDAP_GROUP_FILTER")
    if group_base and group_filter:
        found = _search(conn, str(group_base), SUBTREE,
                        _filter(str(group_filter), dn=dn, username=username), ["1.1"])
        groups.update(normalise_dn(item["dn"]) for item in found or [])
    disabled = False
    disabled_filter = cfg.get("LDAP_DISABLED_FILTER")
    if disabled_filter:
        disabled = bool(_search(conn, dn, BASE, str(disabled_filter), ["1.1"]))
    return DirectoryEntry(
        dn=dn, username=username[:MAX_USERNAME_LENGTH],
        display_name=(_first(attributes, str(cfg.get("LDAP_NAME_ATTRIBUTE") or ""))
                      or username)[:120],
        email=(_first(attributes, str(cfg.get("LDAP_EMAIL_ATTRIBUTE") or "")) or "")[:200]
        or None,
        disabled=disabled, groups=frozenset(groups))


def _bind_name(username: str) -> str:
    template = str(current_app.config["LDAP_BIND_TEMPLATE"])
    # In a DN the name is an attribute value (RFC 4514 escaping); a UPN is taken as typed.
    value = escape_rdn(username) if "=" in template else username
    return template.replace("{username}", value)


def _user_filter(username: str) -> str:
    return _filter(str(current_app.config.get("LDAP_USER_FILTER") or "(uid={username})"),
                   username=username)


def authenticate(username: str, password: str) -> DirectoryEntry | None:
    """The person's entry if the directory accepts the password; None for an unknown name
    or a wrong password (alike). DirectoryUnavailable when the directory cannot answer."""
    cfg = current_app.config
    username = username.strip()
    if not password or not username or len(username) > MAX_USERNAME_LENGTH \
            or any(ord(ch) < 32 for ch in username):
        return None
    base = str(cfg.get("LDAP_USER_BASE_DN") or "")
    if cfg.get("LDAP_BIND_TEMPLATE"):
        conn = _connect(_bind_name(username), password)
        if conn is None:
            return None
        try:
            if base:
                found = _search(conn, base, SUBTREE, _user_filter(username), _attributes(),
                                size_limit=2)
            else:
                found = _search(conn, _bind_name(username), BASE, "(objectClass=*)",
                                _attributes())
            if not found or len(found) != 1:
                log.warning("directory: bound as %r but found %d entries",
                            username, len(found or []))
                return None
            return _entry(conn, found[0]["dn"], found[0]["attributes"], username)
        finally:
            _close(conn)
    if not base:
        raise DirectoryMisconfigured("LDAP_USER_BASE_DN is needed without LDAP_BIND_TEMPLATE")
    service = _service()
    try:
        found = _search(service, base, SUBTREE, _user_filter(username), _attributes(),
                        size_limit=2)
        if not found:
            return None
        if len(found) > 1:
            log.warning("directory: %d entries match %r; sign-in refused", len(found), username)
            return None
        own = _connect(found[0]["dn"], password)
        if own is None:
            return None
        _close(own)
        return _entry(service, found[0]["dn"], found[0]["attributes"], username)
    finally:
        _close(service)


def check_password(dn: str, password: str) -> bool:
    """Whether the password binds as this entry (confirming a change on one's own account)."""
    if not password:
        return False
    conn = _connect(dn, password)
    if conn is None:
        return False
    _close(conn)
    return True


class Lookup:
    """The service account's view of the directory for the synchronisation: one connection
    for many entries. Needs LDAP_BIND_DN: anonymous reads may see nothing, and nothing
    seen must never mean "everybody is gone"."""

    def __init__(self) -> None:
        cfg = current_app.config
        if not cfg.get("LDAP_BIND_DN"):
            raise DirectoryMisconfigured("the synchronisation needs a service account "
                                         "(LDAP_BIND_DN, LDAP_BIND_PASSWORD)")
        base = str(cfg.get("LDAP_USER_BASE_DN") or "")
        if not base:
            raise DirectoryMisconfigured("the synchronisation needs LDAP_USER_BASE_DN")
        self.conn = _service()
        # The service account must see the users' base, or every entry would look gone.
        if not _search(self.conn, base, BASE, "(objectClass=*)", ["1.1"]):
            _close(self.conn)
            raise DirectoryUnavailable(f"the service account cannot read {base}")

    def entry(self, dn: str, username: str) -> DirectoryEntry | None:
        """The entry as it is now; None when it is gone (or no longer a user of the filter)."""
        cfg = current_app.config
        search_filter = _user_filter(username) if cfg.get("LDAP_USER_FILTER") \
            else "(objectClass=*)"
        found = _search(self.conn, dn, BASE, search_filter, _attributes())
        if not found:
            return None
        return _entry(self.conn, found[0]["dn"], found[0]["attributes"], username)

    def close(self) -> None:
        _close(self.conn)
