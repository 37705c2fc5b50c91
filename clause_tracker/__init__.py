"""clause_tracker: the anti-racism clause on every municipal contract and grant of Jena."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flask import Flask

try:
    __version__ = version("clause-tracker")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, error pages, headers."""
    config_module = _load_config_module()
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    config_module.configure(app.config)
    if test_config:
        app.config.from_mapping(test_config)
    _finish_configuration(app)

    from clause_tracker import i18n
    from clause_tracker.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    i18n.init_app(app)

    from clause_tracker import audit, auth, clauses, errors, main, security_headers, templating

    # The permission check runs before the CSRF check: a forbidden POST is a 403.
    auth.init_app(app)
    csrf.init_app(app)
    from clause_tracker import agreements, counterparties, declarations, overview
    from clause_tracker.agreements import routes as _agreement_routes  # noqa: F401
    from clause_tracker.compliance import bp as compliance_bp
    from clause_tracker.compliance import routes as _compliance_routes  # noqa: F401
    from clause_tracker.counterparties import routes as _counterparty_routes  # noqa: F401
    from clause_tracker.declarations import routes as _declaration_routes  # noqa: F401
    from clause_tracker.documents import web as documents
    from clause_tracker.overview import routes as _overview_routes  # noqa: F401

    for feature in (auth, audit, clauses, documents, agreements, counterparties, declarations,
                    overview, main):
        app.register_blueprint(feature.bp)
    app.register_blueprint(compliance_bp)
    errors.init_app(app)
    security_headers.init_app(app)
    templating.init_app(app)

    from clause_tracker.cli import register_commands

    register_commands(app)
    return app


def _instance_secret(path: Path) -> str:
    """A random key made once per development instance."""
    import secrets

    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _load_config_module() -> Any:
    """`config.py` sits beside the package (top level of the checkout), not inside it."""
    import importlib.util
    import sys

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
    have plan costs far above `jit_above_cost`, so PostgreSQL compiled them with LLVM on
    every execution — measured at 100,000 agreements, the compilation took longer than the
    query itself (coverage 930 ms with JIT, 450 ms without). The statements are short and
    run many times; JIT never pays off for them. An explicit `options` in the configuration
    wins."""
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("options", "-c jit=off")
    return {**options, "connect_args": connect_args}

