"""Flask extensions as module globals, bound to the app in `create_app` (init_app pattern)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

# Named constraints: Alembic can then alter and drop them, on SQLite (batch mode) too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _SQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy, with a session end that cannot fail a finished response.

    Ending the request's session rolls back its connection; when the database dropped that
    connection (a restart, a terminated backend) the rollback raises, after the view has
    answered, and the WSGI server would replace the answer by a bare 500 page. The
    connection is then invalidated by SQLAlchemy already; the session is discarded.
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        try:
            self.session.remove()
        except DBAPIError as error:
            logging.getLogger(__name__).warning("session end failed (connection lost?): %s",
                                                error)
            self.session.registry.clear()


db = _SQLAlchemy(model_class=Base)


def keep_committed_state() -> None:
    """For a web request: what it committed stays readable after the commit without another
    round trip (the new record's id for the redirect, the label in the message), so a
    connection lost right after COMMIT cannot turn a saved change into an error page. Batch
    jobs and the CLI keep expire-on-commit: they change rows set-based and read them again."""
    db.session().expire_on_commit = False

# The base class of every model. At run time it *is* `db.Model` (Flask-SQLAlchemy builds it
# from `Base`: table names, binds, `Model.query`), so the schema is the same whichever name a
# model subclasses. A type checker cannot take a base class from an attribute of an instance
# (`class X(db.Model)` is "Name db.Model is not defined"), so it is shown a class with the
# same make-up instead.
if TYPE_CHECKING:
    from typing import ClassVar

    from flask_sqlalchemy.model import Model as _FlaskModel
    from sqlalchemy import Table

    class Model(_FlaskModel, Base):
        __abstract__ = True
        # Every model here is declared with __tablename__, so its __table__ is a Table (the
        # declarative base allows any FromClause, for classes mapped to a SELECT).
        __table__: ClassVar[Table]

else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Sign-in throttling (auth.routes): counters on the storage RATELIMIT_STORAGE_URI names
# (Redis: shared by every worker and node), only on the routes that declare a limit.
limiter = Limiter(key_func=get_remote_address)
