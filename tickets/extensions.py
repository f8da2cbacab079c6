"""Extension objects, created without an app and bound in ``create_app``."""
from flask_bootstrap import Bootstrap5
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so migrations can alter them on every database (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
# Figures worth keeping a minute (charts): each app process has its own store (Flask-Caching
# keeps a backend per app), set up in create_app from REPORT_CACHE_SECONDS.
cache = Cache()


def new_limiter():
    """A rate limiter for one app (create_app makes one per app).

    Flask-Limiter keeps its storage on the extension object: one object bound to several apps
    in a process (a command beside the server, a test's second app) would count every app's
    attempts in the store of the app bound last.
    """
    return Limiter(key_func=get_remote_address, default_limits=[])


def limiter_of(app):
    """The rate limiter bound to ``app``."""
    (limiter,) = app.extensions["limiter"]
    return limiter
