"""Sign-in through the city's directory, against a real OpenLDAP server (tests/directory/
slapd.py): accounts made, updated and deactivated as the directory says, lockout and the one
answer, service-account search, StartTLS and LDAPS, an unreachable directory, injection."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from clause_tracker import create_app
from clause_tracker.audit.models import AuditEvent, AuditPersonal
from clause_tracker.auth import directory as ldap_directory
from clause_tracker.auth import directory_accounts, second_factor, services
from clause_tracker.auth.directory_accounts import NO_LOCAL_PASSWORD
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.i18n import LANGUAGE_COOKIE
from tests.conftest import _csrf_token as csrf_token
from tests.directory.slapd import GROUPS, SERVICE_DN, SERVICE_PASSWORD, person_dn
from tests.factories import unit
from tests.helpers import PASSWORD

SECRET = "Directory-Password-1"  # the people's password in the directory
ONE_ANSWER = "Username or password is wrong"
UNREACHABLE = "directory cannot be reached"


def account(username: str) -> User | None:
    db.session.expire_all()
    user = services.find_user(username)
    if user is not None:
        db.session.refresh(user)
        db.session.expunge(user)
    db.session.commit()  # no transaction left open while the app writes (SQLite)
    return user


def events(action: str) -> list[tuple[AuditEvent, dict]]:
    """The events of this action, each with its details read."""
    db.session.expire_all()
    found = [(event, json.loads(event.details)) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]
    db.session.commit()  # no transaction left open while the app writes (SQLite)
    return found


def english(client):
    client.set_cookie(LANGUAGE_COOKIE, "en")
    return client


def sign_in(client, login, username: str, password: str = SECRET):
    db.session.commit()  # what the test set up is there for the app, and no lock is held
    response = login(client, username, password)
    return response.status_code, response.get_data(as_text=True)


def signed_in_user(client) -> str | None:
    page = client.get("/account")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True)


def test_first_sign_in_creates_the_account_with_role_and_unit(app, client, login, directory):
    unit("KIJ")
    directory.add_person("mara", SECRET, ("ct-procurement", "ct-unit-kij"), cn="Mara Muster",
                         mail="mara@jena.de")
    assert account("mara") is None

    status, _ = sign_in(client, login, "mara")

    assert status == 302
    user = account("mara")
    assert user is not None and user.active
    assert (user.role, user.org_unit.code if user.org_unit else None) == (
        "procurement_officer", "KIJ")
    assert (user.display_name, user.email) == ("Mara Muster", "mara@jena.de")
    assert user.directory_dn == person_dn("mara")
    # No password of the person is kept, hashed or not.
    assert user.password_hash == NO_LOCAL_PASSWORD
    assert SECRET not in user.password_hash
    created = events("user.directory_create")
    assert [e.object_id for e, _ in created] == [str(user.id)]
    assert created[0][1]["role"] == "procurement_officer"
    assert "Mara Muster" not in created[0][0].summary  # names: in the erasable personal part
    personal = db.session.scalar(select(AuditPersonal).where(
        AuditPersonal.event_id == created[0][0].id))
    assert personal is not None and "Mara Muster" in (personal.content or "")
    assert "Mara Muster" in (signed_in_user(client) or "")


def test_a_group_change_updates_role_and_unit_at_the_next_sign_in(app, client, login,
                                                                   directory, csrf):
    unit("KIJ")
    unit("ZVS")
    directory.add_person("mara", SECRET, ("ct-procurement", "ct-unit-kij"))
    assert sign_in(client, login, "mara")[0] == 302
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})

    directory.set_groups("mara", ("ct-procurement", "ct-unit-zvs"))
    directory.modify("mara", cn="Mara Neu", mail="mara.neu@jena.de")
    assert sign_in(client, login, "mara")[0] == 302
    user = account("mara")
    assert user is not None and user.org_unit is not None and user.org_unit.code == "ZVS"
    assert (user.display_name, user.email) == ("Mara Neu", "mara.neu@jena.de")

    directory.set_groups("mara", ("ct-auditors", "ct-unit-zvs"))
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    assert sign_in(client, login, "mara")[0] == 302
    user = account("mara")
    assert user is not None and user.role == "auditor"
    updates = events("user.directory_update")
    assert [d["after"]["role"] for _, d in updates] == ["procurement_officer", "auditor"]
    assert updates[0][1]["before"]["unit"] == "KIJ"


def test_the_first_role_group_configured_wins(app, client, login, directory):
    directory.add_person("boss", SECRET, ("ct-auditors", "ct-admins"))
    assert sign_in(client, login, "boss")[0] == 302
    user = account("boss")
    assert user is not None and user.role == "admin"


def test_removed_from_every_mapped_group_the_account_is_deactivated_and_comes_back(
        app, client, login, directory):
    directory.add_person("olaf", SECRET, ("ct-auditors",))
    assert sign_in(client, login, "olaf")[0] == 302
    assert signed_in_user(client) is not None

    directory.set_groups("olaf", ("ct-unused",))
    other = english(app.test_client())
    status, page = sign_in(other, login, "olaf")

    assert status == 200 and ONE_ANSWER in page
    user = account("olaf")
    assert user is not None and not user.active and user.directory_deactivated
    deactivated = events("user.directory_deactivate")
    assert [(e.object_id, d["reason"]) for e, d in deactivated] == [(str(user.id), "no_group")]
    assert deactivated[0][1]["sessions_ended"] == 1
    assert signed_in_user(client) is None  # the open session ended with it

    directory.set_groups("olaf", ("ct-auditors",))
    assert sign_in(other, login, "olaf")[0] == 302
    user = account("olaf")
    assert user is not None and user.active and not user.directory_deactivated
    assert len(events("user.directory_activate")) == 1


def test_a_disabled_entry_cannot_sign_in_and_its_account_is_deactivated(app, client, login,
                                                                         directory):
    directory.add_person("dora", SECRET, ("ct-auditors",))
    assert sign_in(client, login, "dora")[0] == 302
    directory.disable("dora")

    status, page = sign_in(english(app.test_client()), login, "dora")

    assert status == 200 and ONE_ANSWER in page
    user = account("dora")
    assert user is not None and not user.active
    assert [d["reason"] for _, d in events("user.directory_deactivate")] == ["disabled"]


def test_a_new_person_without_a_mapped_group_gets_no_account(app, login, directory):
    directory.add_person("nina", SECRET, ("ct-unused",))
    status, page = sign_in(english(app.test_client()), login, "nina")
    assert status == 200 and ONE_ANSWER in page
    assert account("nina") is None
    refused = events("auth.directory_refused")
    assert [d["reason"] for _, d in refused] == ["no_group"]


def test_an_officer_without_a_unit_group_gets_no_account(app, login, directory):
    directory.add_person("ulla", SECRET, ("ct-procurement",))
    assert sign_in(english(app.test_client()), login, "ulla")[0] == 200
    assert account("ulla") is None
    assert [d["reason"] for _, d in events("auth.directory_refused")] == ["no_unit"]


def test_one_answer_for_wrong_password_unknown_name_and_lock(app, login, directory):
    app.config["LOGIN_MAX_FAILURES"] = 3
    directory.add_person("wolf", SECRET, ("ct-auditors",))
    client = english(app.test_client())
    assert sign_in(client, login, "wolf")[0] == 302  # known to the product from now on
    client = english(app.test_client())

    answers = [sign_in(client, login, "wolf", "wrong password")[1] for _ in range(3)]
    answers.append(sign_in(client, login, "nobody-here")[1])

    for page in answers:
        assert ONE_ANSWER in page
    user = account("wolf")
    assert user is not None and user.locked_until is not None and user.locked_until > utcnow()
    assert len(events("auth.locked")) == 1
    # Locked: the right password does not sign in, and the directory is not even asked.
    status, page = sign_in(client, login, "wolf")
    assert status == 200 and ONE_ANSWER in page
    assert len(events("auth.login_refused_locked")) == 1


def test_the_second_factor_still_applies(app, client, login, directory):
    directory.add_person("tina", SECRET, ("ct-auditors",))
    assert sign_in(client, login, "tina")[0] == 302
    known = account("tina")
    assert known is not None
    user = db.session.get(User, known.id)
    assert user is not None
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    user.totp_confirmed_at = utcnow()
    db.session.commit()

    response = login(english(app.test_client()), "tina", SECRET)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/second-factor")


def test_a_directory_account_has_no_local_password_to_change(app, client, login, directory):
    directory.add_person("pia", SECRET, ("ct-auditors",))
    assert sign_in(client, login, "pia")[0] == 302
    user = account("pia")
    assert user is not None
    with pytest.raises(services.UserError, match="directory"):
        services.change_own_password(user, SECRET, "another-password-42")
    with pytest.raises(services.UserError, match="directory"):
        services.set_password(user, "another-password-42")


def test_a_local_account_is_never_taken_over_by_the_directory(app, make_user, login,
                                                              directory):
    local = make_user("admin", username="root-admin")
    directory.add_person("root-admin", SECRET, ("ct-auditors",))

    status, _ = sign_in(english(app.test_client()), login, "root-admin", SECRET)
    assert status == 200  # the directory's password is not the local account's
    assert sign_in(app.test_client(), login, "root-admin", PASSWORD)[0] == 302
    user = account("root-admin")
    assert user is not None and user.id == local.id
    assert (user.directory_dn, user.role) == (None, "admin")


def test_service_account_search_with_posix_groups(app, client, login, directory):
    unit("ZVS")
    app.config.update(
        LDAP_BIND_TEMPLATE="", LDAP_BIND_DN=SERVICE_DN, LDAP_BIND_PASSWORD=SERVICE_PASSWORD,
        LDAP_MEMBER_OF_ATTRIBUTE="", LDAP_GROUP_BASE_DN=GROUPS,
        LDAP_GROUP_FILTER="(|(member={dn})(memberUid={username}))")
    directory.add_person("gero", SECRET, ("ct-grants", "ct-unit-zvs"), cn="Gero Grant")

    assert sign_in(client, login, "gero", "wrong")[0] == 200
    assert sign_in(client, login, "gero")[0] == 302

    user = account("gero")
    assert user is not None
    assert (user.role, user.org_unit.code if user.org_unit else None) == ("grant_manager", "ZVS")
    assert user.directory_dn == person_dn("gero")


def test_a_refused_service_account_is_a_clear_message_not_a_wrong_password(app, login,
                                                                          directory):
    app.config.update(LDAP_BIND_TEMPLATE="", LDAP_BIND_DN=SERVICE_DN,
                      LDAP_BIND_PASSWORD="not the service password")
    directory.add_person("gero", SECRET, ("ct-auditors",))
    status, page = sign_in(english(app.test_client()), login, "gero")
    assert status == 503 and UNREACHABLE in page
    assert account("gero") is None


@pytest.mark.parametrize("mode", ["direct", "search"])
def test_filter_and_dn_values_are_escaped(app, login, directory, mode):
    """A pattern typed as the name matches nobody; a name full of LDAP's special characters
    is only itself."""
    if mode == "search":
        app.config.update(LDAP_BIND_TEMPLATE="", LDAP_BIND_DN=SERVICE_DN,
                          LDAP_BIND_PASSWORD=SERVICE_PASSWORD)
    directory.add_person("mara", SECRET, ("ct-auditors",))
    odd = "o(b)*r\\i,e=n"
    directory.add_person(odd, SECRET, ("ct-auditors",))

    for attempt in ("mar*", "*", "mara)(uid=*", "*)(|(uid=*", "mara*)(objectClass=*"):
        status, page = sign_in(english(app.test_client()), login, attempt)
        assert status == 200 and ONE_ANSWER in page, attempt
    assert account("mara") is None
    assert sign_in(app.test_client(), login, odd)[0] == 302
    user = account(odd)
    assert user is not None and user.username == odd


def test_an_empty_password_never_binds(app, directory):
    """A simple bind without a password is an anonymous bind, which the server accepts."""
    directory.add_person("mara", SECRET, ("ct-auditors",))
    assert directory_authenticates("mara", "") is None
    assert directory_authenticates("mara", SECRET) is not None


def directory_authenticates(username: str, password: str):
    return ldap_directory.authenticate(username, password)


def test_starttls_with_the_city_ca(app, login, directory):
    app.config["LDAP_START_TLS"] = True
    directory.add_person("tls", SECRET, ("ct-auditors",))
    assert sign_in(app.test_client(), login, "tls")[0] == 302

    app.config["LDAP_CA_FILE"] = str(directory.other_ca)  # a server we cannot trust
    status, page = sign_in(english(app.test_client()), login, "tls")
    assert status == 503 and UNREACHABLE in page


def test_ldaps_with_the_city_ca(app, login, directory):
    app.config["LDAP_URL"] = directory.ldaps_url
    directory.add_person("tls", SECRET, ("ct-auditors",))
    assert sign_in(app.test_client(), login, "tls")[0] == 302

    app.config["LDAP_CA_FILE"] = str(directory.other_ca)
    status, page = sign_in(english(app.test_client()), login, "tls")
    assert status == 503 and UNREACHABLE in page


def test_directory_down_clear_message_and_the_local_admin_still_signs_in(
        app, make_user, login, directory):
    directory.add_person("mara", SECRET, ("ct-auditors",))
    assert sign_in(app.test_client(), login, "mara")[0] == 302
    admin = make_user("admin", username="break-glass")
    directory.stop()

    status, page = sign_in(english(app.test_client()), login, "mara")

    assert status == 503 and UNREACHABLE in page
    user = account("mara")
    assert user is not None and user.failed_logins == 0  # not held against the person
    assert len(events("auth.directory_unavailable")) == 1
    assert sign_in(app.test_client(), login, admin.username, PASSWORD)[0] == 302


def test_a_directory_that_never_answers_times_out(app, login, directory):
    """A server that takes the connection and says nothing: the answer comes after the
    timeout, not never."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    app.config.update(LDAP_URL=f"ldap://127.0.0.1:{silent.getsockname()[1]}",
                      LDAP_TIMEOUT_SECONDS=1)
    try:
        started = time.monotonic()
        status, page = sign_in(english(app.test_client()), login, "mara")
        took = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        silent.close()
    assert status == 503 and UNREACHABLE in page
    assert took < 10


def test_unreachable_attempts_do_not_use_up_the_throttle(app, login, directory):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per hour"
    directory.add_person("mara", SECRET, ("ct-auditors",))
    app.config["LDAP_URL"] = "ldap://127.0.0.1:9"  # nothing listens on discard
    for _ in range(3):
        assert sign_in(app.test_client(), login, "mara")[0] == 503
    app.config["LDAP_URL"] = directory.ldap_url
    assert sign_in(app.test_client(), login, "mara")[0] == 302


def test_removing_the_second_factor_is_confirmed_with_the_directory_password(app, client,
                                                                             login, directory):
    directory.add_person("tina", SECRET, ("ct-auditors",))
    assert sign_in(client, login, "tina")[0] == 302
    known = account("tina")
    assert known is not None
    user = db.session.get(User, known.id)
    assert user is not None
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    user.totp_confirmed_at = utcnow()
    db.session.commit()

    with pytest.raises(second_factor.SecondFactorError, match="password is wrong"):
        second_factor.disable(user, "not the directory password")
    second_factor.disable(user, SECRET)

    assert account("tina").has_second_factor is False  # type: ignore[union-attr]


def test_a_configuration_that_cannot_work_stops_the_start(app_config):
    app_config.update(LDAP_URL="ldap.jena.de", LDAP_ROLE_GROUPS=("boss=cn=x,dc=jena,dc=test",))
    with pytest.raises(RuntimeError, match=r"LDAP_URL must start .*unknown role 'boss'"):
        create_app(app_config)


def test_parallel_first_sign_ins_make_one_account(app, login, directory, monkeypatch):
    """On PostgreSQL the sign-ins run at once (one of them meets the other's new account);
    SQLite has one writer, so there they run one after another."""
    directory.add_person("rush", SECRET, ("ct-auditors",))
    if db.engine.dialect.name == "sqlite":
        gate = threading.Lock()
        original = directory_accounts.sign_in

        def one_at_a_time(*args, **kwargs):
            with gate:
                return original(*args, **kwargs)

        monkeypatch.setattr(directory_accounts, "sign_in", one_at_a_time)
    db.session.commit()
    clients = [app.test_client() for _ in range(4)]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(len(clients))

    def attempt(index: int) -> int:
        start.wait(timeout=30)
        return clients[index].post("/login", data={
            "username": "rush", "password": SECRET, "csrf_token": tokens[index]}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(attempt, range(len(clients))))

    assert statuses == [302] * len(clients)
    assert len(events("user.directory_create")) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_the_sign_in_throttles_count_directory_names_too(app, login, directory):
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per hour"
    directory.add_person("mara", SECRET, ("ct-auditors",))
    statuses = [sign_in(app.test_client(), login, "mara", "wrong")[0] for _ in range(2)]
    statuses.append(sign_in(app.test_client(), login, "mara")[0])  # the right one, too late
    assert statuses == [200, 200, 429]
    assert account("mara") is None  # refused before the directory was asked
