"""Property-based fuzzing (security finding 16): whatever the query string of any page or
the fields of any form hold, the answer is never a 500.

Hypothesis draws a route of the URL map, path values (the records that exist, or odd
numbers) and parameters by the names the app reads, each with odd values: NUL and control
characters, numbers beyond 64 bits, days at the ends of the calendar, long and non-Latin
texts. GET for every page; POST for every form, as an administrator (who may send most of
them) with CSRF off — CSRF has tests of its own; here the values are on trial. The run is
derandomised, so CI sees the same examples each time; a failure prints the request.
"""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import Form

from clause_tracker.auth import required_permission
from clause_tracker.permissions import PUBLIC
from tests.factories import add_declaration, insert_agreement

_TEXTS = st.one_of(
    st.sampled_from([
        "", "a\x00b", "\x00", "\x01\x02", "\ufeff", "\u202e", "%00", "%", "'", "\"",
        "\\", "' OR 1=1 --", "<script>alert(1)</script>", "{{ 7*7 }}",
        "{{ antirassismusklausel }}", "../../etc/passwd", "//evil.example", "/\t/evil.example",
        "javascript:alert(1)", "x" * 5000, "Ärger über Straße", "🙂", "ADS-2026-0042",
        "csv", "xlsx", "pdf", "de", "en", "procurement", "grant", "contract", "compliant",
        "pending", "non_compliant", "terminated", "active", "awarded", "draft", "-updated",
        "reference", "in_scope", "eigenbetrieb", "findings", "2026-Q4", "9999-Q9",
    ]),
    st.text(max_size=30),
)
_INTS = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", str(2**31), str(2**63), str(2**64), str(2**70),
                     "-" + str(2**70), "1e309", "NaN", "0x1F", "1,5", " 7 ", ""]),
    st.integers().map(str),
)
_DAYS = st.one_of(
    st.sampled_from(["9999-12-31", "0001-01-01", "31.12.9999", "01.01.0001", "00.00.0000",
                     "2026-02-30", "2026-13-01", "1899-12-31", "2200-01-01", "", "x"]),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
)
_AMOUNTS = st.one_of(
    st.sampled_from(["1e309", "NaN", "Infinity", "-5", "1.234,56", "999999999999999,99",
                     "1.000.000.000.000,00", "999.999.999.999,99", "0,001", "1_000", ""]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
)


def _values_for(name: str) -> st.SearchStrategy[str]:
    """Odd values of the kind a parameter or field of that name holds."""
    if name in ("page", "unit", "expiring_within", "clause_version", "version", "breaches",
                "score", "working_days", "record_id") or name.endswith("_id"):
        return st.one_of(_INTS, _TEXTS)
    if name in ("from", "to", "since", "until", "deadline") or "date" in name \
            or name.endswith(("_on", "_from", "_to", "_until")):
        return st.one_of(_DAYS, _TEXTS)
    if name in ("value", "amount", "estimated_value", "vat_rate"):
        return st.one_of(_AMOUNTS, _TEXTS)
    return _TEXTS


# The names the app reads from query strings (request.args, ListFilter, the drill-down
# and the overview's period) and some it never reads.
QUERY_NAMES = ["q", "page", "unit", "kind", "status", "compliance", "sort", "scope",
               "unit_kind", "declaration", "expiring_within", "exemption", "clause_version",
               "clause", "quarter", "decided_from", "decided_to", "check", "measure",
               "complaint", "format", "from", "to", "old", "new", "next", "action", "actor",
               "object_type", "object_id", "since", "until", "lang", "x"]
PATH_INTS = st.one_of(st.just(1), st.just(2), st.integers(min_value=-1, max_value=2**70))
PATH_TEXTS = {"variant": ["procurement", "grant", "x"], "language": ["de", "en", "xx"],
              "version": ["1.0", "9.9", "a\x00"], "fmt": ["csv", "xlsx", "pdf"],
              "status": ["terminated", "revoked", "active", "x"],
              "filename": ["css/app.css", "../x"]}
SKIP = {"static", "auth.logout"}  # signing out would end the fuzzing session
pytestmark = pytest.mark.slow  # some 20 s


def _form_fields() -> list[str]:
    """Every field name of every form class the app defines."""
    names: set[str] = set()
    pending = list(Form.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("clause_tracker."):
            names.update(name for name, _ in getattr(cls, "_unbound_fields", None) or [])
            names.update(name for name in vars(cls) if not name.startswith("_")
                         and hasattr(getattr(cls, name), "field_class"))
    return sorted(names - {"csrf_token"})


def _rules(app: Flask, method: str) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if method in rule.methods and rule.endpoint not in SKIP
                   and required_permission(rule.endpoint) is not None),
                  key=lambda rule: rule.rule)


@st.composite
def _requests(draw, rules: list, names: list[str]) -> tuple[str, dict[str, str]]:
    rule = draw(st.sampled_from(rules))
    values = {}
    for name in sorted(rule.arguments):
        choices = PATH_TEXTS.get(name)
        values[name] = draw(st.sampled_from(choices) if choices else PATH_INTS)
    # Each name present or not; many at once, so that every example tries many.
    picked = [name for name in names if draw(st.booleans())]
    return rule.endpoint, values, {name: draw(_values_for(name)) for name in picked}


@pytest.fixture
def fuzz_client(app, client, signed_in, published_clauses):
    contract = insert_agreement(status="active")
    insert_agreement(kind="grant", code="FDJB", status="awarded")
    add_declaration(contract, "accepted")
    signed_in("admin")
    app.config["WTF_CSRF_ENABLED"] = False
    return client


def _url(app: Flask, endpoint: str, values: dict, query: dict) -> str | None:
    with app.test_request_context():
        try:
            return url_for(endpoint, **values, **{k: v for k, v in query.items()
                                                  if k not in values})
        except Exception:  # a converter refused the value (a negative <int:…>): no route
            return None


def _check(response, method: str, url: str, data: dict | None = None) -> None:
    assert response.status_code < 500, (method, url, data, response.status_code,
                                        response.get_data(as_text=True)[:300])


def test_no_query_string_makes_a_page_fail(app, fuzz_client) -> None:
    rules = [rule for rule in _rules(app, "GET") if required_permission(rule.endpoint)]
    assert len(rules) > 30

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(_requests(rules, QUERY_NAMES))
    def fuzz(request) -> None:
        endpoint, values, query = request
        url = _url(app, endpoint, values, query)
        if url is not None:
            _check(fuzz_client.get(url), "GET", url)

    fuzz()


def test_no_form_value_makes_a_form_fail(app, fuzz_client) -> None:
    rules = [rule for rule in _rules(app, "POST") if required_permission(rule.endpoint)
             != PUBLIC or rule.endpoint in ("auth.login", "main.set_language")]
    names = _form_fields()
    assert len(rules) > 30 and len(names) > 40

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(_requests(rules, names))
    def fuzz(request) -> None:
        endpoint, values, form = request
        url = _url(app, endpoint, values, {})
        if url is not None:
            _check(fuzz_client.post(url, data=form), "POST", url, form)

    fuzz()
