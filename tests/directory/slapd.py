"""A real OpenLDAP server for the tests: Debian's slapd on free loopback ports, configured from
a generated slapd.conf in a temporary folder (mdb backend), with a test CA and a server
certificate for StartTLS and LDAPS, and a small directory of people and groups.

The directory, as a city's might be:

    dc=jena,dc=test
      ou=people      inetOrgPerson entries (uid, cn, mail, userPassword)
      ou=groups      groupOfNames ct-admins, ct-auditors, ct-procurement, ct-unit-kij,
                     ct-unit-zvs (memberOf kept by the memberof overlay, references removed
                     on delete by refint); posixGroup ct-grants (memberUid)
      ou=system      cn=ct-service, the service account

ACLs as a real server has them: passwords only for binding, everything else readable by
authenticated clients only (anonymous sees nothing). A person is disabled by
`pwdAccountLockedTime` (the ppolicy module's attribute; the overlay itself is not active, so
the bind still succeeds and the product has to notice the flag itself).
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, Connection, Server
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

BASE = "dc=jena,dc=test"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret-of-the-test"
SERVICE_DN = f"cn=ct-service,ou=system,{BASE}"
SERVICE_PASSWORD = "service-secret-of-the-test"
GROUP_NAMES = ("ct-admins", "ct-auditors", "ct-procurement", "ct-unit-kij", "ct-unit-zvs",
               "ct-unused")
POSIX_GROUPS = ("ct-grants",)
LOCKED = "000001010000Z"  # pwdAccountLockedTime: locked for good


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS}"


def person_dn(uid: str) -> str:
    return f"uid={escape_rdn(uid)},{PEOPLE}"


def slapd_binary() -> str | None:
    return shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_test_ca(folder: Path) -> tuple[Path, Path, Path, Path]:
    """A CA, a server certificate for 127.0.0.1/localhost signed by it, and a second CA that
    signed nothing (a client trusting only that one must refuse the server)."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(name(common))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = ca("clause_tracker test CA")
    _other_key, other_cert = ca("some other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca_cert.subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(ca_key, hashes.SHA256()))
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key",
             folder / "other-ca.pem")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    paths[3].write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
    return paths


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload refint
moduleload ppolicy
pidfile {folder}/slapd.pid
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}

database mdb
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/data
maxsize 104857600
access to attrs=userPassword by anonymous auth by self auth by * none
access to * by users read by * none

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay refint
refint_attributes member
"""


class Slapd:
    """One slapd process on 127.0.0.1; `ldap_url` (plain, StartTLS) and `ldaps_url` name it
    as its certificate does ("localhost": ldap3 checks names, not addresses, on Python 3.12+)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.ca, self.cert, self.key, self.other_ca = _write_test_ca(folder)
        self.port = 0
        self.tls_port = 0
        self.populated = False

    @property
    def ldap_url(self) -> str:
        return f"ldap://localhost:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    def start(self) -> None:
        binary = slapd_binary()
        assert binary, "slapd is not installed"
        (self.folder / "data").mkdir(exist_ok=True)
        conf = self.folder / "slapd.conf"
        conf.write_text(SLAPD_CONF.format(
            folder=self.folder, ca=self.ca, cert=self.cert, key=self.key, base=BASE,
            root_dn=ROOT_DN, root_password=ROOT_PASSWORD))
        for _ in range(5):  # a free port may be taken between looking and binding
            self.port, self.tls_port = free_port(), free_port()
            log = (self.folder / "slapd.log").open("wb")
            self.process = subprocess.Popen(
                [binary, "-f", str(conf), "-h",
                 f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/",
                 "-d", "0"], stdout=log, stderr=subprocess.STDOUT)
            if self._wait_until_up():
                if not self.populated:
                    self._populate()
                    self.populated = True
                return
            self.stop()
        raise RuntimeError("slapd did not start: "
                           + (self.folder / "slapd.log").read_text(errors="replace")[-2000:])

    def _wait_until_up(self, seconds: float = 20) -> bool:
        deadline = time.monotonic() + seconds
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5), \
                        socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    # -- the directory's contents, changed as its administrators would (as the root DN) --

    def admin(self) -> Connection:
        return Connection(Server(self.ldap_url, connect_timeout=5), ROOT_DN, ROOT_PASSWORD,
                          auto_bind=True, raise_exceptions=True)

    def _populate(self) -> None:
        with self.admin() as conn:
            conn.add(BASE, ["dcObject", "organization"], {"o": "Stadt Jena", "dc": "jena"})
            for ou in ("people", "groups", "system"):
                conn.add(f"ou={ou},{BASE}", ["organizationalUnit"], {"ou": ou})
            conn.add(SERVICE_DN, ["organizationalRole", "simpleSecurityObject"],
                     {"cn": "ct-service", "userPassword": SERVICE_PASSWORD})
            for group in GROUP_NAMES:
                # groupOfNames needs a member: the root DN stands in, as is usual.
                conn.add(group_dn(group), ["groupOfNames"], {"cn": group, "member": ROOT_DN})
            for gid, group in enumerate(POSIX_GROUPS, start=5000):
                conn.add(group_dn(group), ["posixGroup"], {"cn": group, "gidNumber": gid})

    def add_person(self, uid: str, password: str, groups: tuple[str, ...] = (),
                   cn: str | None = None, mail: str | None = None) -> str:
        dn = person_dn(uid)
        attributes: dict[str, object] = {"uid": uid, "cn": cn or uid.title(), "sn": uid,
                                         "userPassword": password}
        if mail:
            attributes["mail"] = mail
        with self.admin() as conn:
            conn.add(dn, ["inetOrgPerson"], attributes)
        self.set_groups(uid, groups)
        return dn

    def set_groups(self, uid: str, groups: tuple[str, ...]) -> None:
        """Exactly these groups (groupOfNames by member, posixGroup by memberUid)."""
        dn = person_dn(uid)
        with self.admin() as conn:
            for group in GROUP_NAMES:
                conn.search(group_dn(group), f"(member={escape_filter_chars(dn)})",
                            attributes=["1.1"])
                inside = bool(conn.entries)
                if group in groups and not inside:
                    conn.modify(group_dn(group), {"member": [(MODIFY_ADD, [dn])]})
                elif group not in groups and inside:
                    conn.modify(group_dn(group), {"member": [(MODIFY_DELETE, [dn])]})
            for group in POSIX_GROUPS:
                conn.search(group_dn(group), f"(memberUid={escape_filter_chars(uid)})",
                            attributes=["1.1"])
                inside = bool(conn.entries)
                if group in groups and not inside:
                    conn.modify(group_dn(group), {"memberUid": [(MODIFY_ADD, [uid])]})
                elif group not in groups and inside:
                    conn.modify(group_dn(group), {"memberUid": [(MODIFY_DELETE, [uid])]})

    def modify(self, uid: str, **values: str) -> None:
        with self.admin() as conn:
            conn.modify(person_dn(uid), {name: [(MODIFY_REPLACE, [value])]
                                         for name, value in values.items()})

    def disable(self, uid: str) -> None:
        self.modify(uid, pwdAccountLockedTime=LOCKED)

    def delete(self, uid: str) -> None:
        self.set_groups(uid, ())  # posixGroup's memberUid is no reference refint follows
        with self.admin() as conn:
            conn.delete(person_dn(uid))

    def people(self) -> list[str]:
        with self.admin() as conn:
            conn.search(PEOPLE, "(objectClass=inetOrgPerson)", attributes=["uid"])
            return [str(entry.uid) for entry in conn.entries]
