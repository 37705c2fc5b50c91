"""Flask extensions as module globals, bound to the app in `create_app` (init_app pattern)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
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


db = SQLAlchemy(model_class=Base)

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
