"""Datadesk settings: one Config read from the environment, subclassed per environment.

Pick one with ``DATADESK_ENV`` (development, testing, production); development is the default.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'datadesk.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = _bool("SQLALCHEMY_RECORD_QUERIES")

    # Cookies: HttpOnly and SameSite everywhere, Secure where served over HTTPS.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14

    WTF_CSRF_TIME_LIMIT = None  # a long-open intake form must still submit

    BOOTSTRAP_SERVE_LOCAL = True  # no CDN: Bootstrap is served from the installed package

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")

    # The public address of the app, used for links in e-mails.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Datadesk <datadesk@example.com>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))  # seconds; a dead server never hangs a sender
    # One drain sends until nothing is due or this many seconds passed (under the scheduler's
    # one-minute interval); the SMTP server sets the rate, unless a provider imposes one.
    MAIL_DRAIN_SECONDS = float(os.environ.get("MAIL_DRAIN_SECONDS", "50"))
    MAIL_MAX_PER_MINUTE = int(os.environ["MAIL_MAX_PER_MINUTE"]) if os.environ.get(
        "MAIL_MAX_PER_MINUTE") else None

    PAGE_SIZE = 25

    # werkzeug's strong default; tests use a cheap salted hash so thousands of logins stay fast.
    PASSWORD_HASH_METHOD = "scrypt"


class DevelopmentConfig(Config):
    """Local use on the embedded SQLite database."""

    DEBUG = False


class TestingConfig(Config):
    """The test suite: its own database, given by TEST_DATABASE_URL or a temporary SQLite file."""

    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or os.environ.get(
        "DATABASE_URL", "sqlite://"
    )
    SQLALCHEMY_RECORD_QUERIES = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    RATELIMIT_LOGIN = "1000 per minute"  # tests log in often; the limit itself is tested


class ProductionConfig(Config):
    """A real deployment: PostgreSQL and a real secret key are required."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def check(cls):
        """Refuse to start without the settings production cannot guess."""
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"Production needs these environment variables: {', '.join(missing)}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
