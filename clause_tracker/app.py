"""The composition root: configuration, extensions, every feature's blueprint, error pages,
headers, templates and commands. Nothing in the package imports this module."""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from clause_tracker import (
    ROOT,
    api,
    auth,
    errors,
    i18n,
    request_args,
    security_headers,
    storage,
    templating,
)
from clause_tracker.agreements import lifecycle as agreement_lifecycle
from clause_tracker.audit import routes as audit_routes
from clause_tracker.auth import routes as auth_routes
from clause_tracker.checks import notifications
from clause_tracker.checks import routes as check_routes
from clause_tracker.clauses import routes as clause_routes
from clause_tracker.commands import register_commands
from clause_tracker.counterparties import routes as counterparty_routes
from clause_tracker.declarations import routes as declaration_routes
from clause_tracker.declarations.services import award_blockers, void_not_required
from clause_tracker.documents.web import routes as document_routes
from clause_tracker.extensions import csrf, db, limiter, login_manager, migrate
from clause_tracker.inbox import digest
from clause_tracker.inbox import routes as inbox_routes
from clause_tracker.interop import routes as interop_routes
from clause_tracker.jobs import routes as job_routes
from clause_tracker.main import routes as main_routes
from clause_tracker.orgunits import routes as orgunit_routes
from clause_tracker.overview import routes as overview_routes
from clause_tracker.registry import routes as registry_routes

BLUEPRINTS = (auth_routes, audit_routes, clause_routes, document_routes, registry_routes,
              counterparty_routes, declaration_routes, check_routes, overview_routes,
              job_routes, inbox_routes, interop_routes, orgunit_routes, main_routes)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask("clause_tracker", instance_relative_config=True,
                template_folder=str(ROOT / "templates"))
    _load_config_module().configure(app.config)
    if test_config:
        app.config.from_mapping(test_config)
    _finish_configuration(app)
    if app.config.get("PROXY_FIX_X_FOR"):
        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    i18n.init_app(app)
    # The API's bearer token is read before the permission check, which then sees its user
    # (and under /api/ never the session's).
    api.init_auth(app)
    # The permission check runs before the CSRF check: a forbidden POST is a 403.
    auth.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # Before any route is added: ids in paths are bounded to what the database holds.
    app.url_map.converters["int"] = request_args.DatabaseInt
    for routes in BLUEPRINTS:
        app.register_blueprint(routes.bp)
    api.init_app(app)
    # Awarding asks the declarations (a layer above the agreements) whether one is in place.
    agreement_lifecycle.init_app(app, award_guards=[award_blockers],
                                 basis_listeners=[void_not_required])
    # The daily message lists Meine Aufgaben too (the inbox is a layer above the outbox).
    notifications.init_app(app, sections=[digest.lines])
    errors.init_app(app)
    app.wsgi_app = errors.RetryReads(app.wsgi_app)  # type: ignore[method-assign]
    request_args.init_app(app)
    security_headers.init_app(app)
    templating.init_app(app)
    register_commands(app)
    return app


def _instance_secret(path: Path) -> str:
    """A random key made once per development instance."""
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _load_config_module() -> ModuleType:
    """`config.py` sits beside the package (top level of the checkout), not inside it."""
    if "clause_tracker_config" not in sys.modules:
        spec = importlib.util.spec_from_file_location("clause_tracker_config", ROOT / "config.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["clause_tracker_config"] = module
        spec.loader.exec_module(module)
    return sys.modules["clause_tracker_config"]


def _finish_configuration(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'clause_tracker.db'}"
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _postgres_engine_options(
            app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    backend = str(app.config.get("STORAGE_BACKEND") or "").strip().lower()
    if backend and backend not in storage.BACKENDS:
        raise RuntimeError(f"CLAUSE_TRACKER_STORAGE_BACKEND must be one of "
                           f"{', '.join(storage.BACKENDS)}, not {backend!r}.")
    if not app.config.get("SECRET_KEY") and app.config.get("GENERATE_SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "No secret key: set CLAUSE_TRACKER_SECRET_KEY to a long random value "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def _postgres_engine_options(options: dict[str, Any]) -> dict[str, Any]:
    """Session settings for every PostgreSQL connection of the app.

    JIT off: the overview's and the lists' queries (compliance state over every agreement)
    have plan costs far above `jit_above_cost`, so PostgreSQL would compile them with LLVM
    on every execution, which takes longer than running them (bench/bench_overview.py shows
    it). The statements are short and run many times; JIT never pays off for them. An
    explicit `options` in the configuration wins."""
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("options", "-c jit=off")
    return {**options, "connect_args": connect_args}

