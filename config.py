"""Datadesk settings: one Config read from the environment, subclassed per environment.

Pick one with ``DATADESK_ENV`` (development, testing, production); development is the default.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# The key development runs with when SECRET_KEY is unset: anyone can read it here, so anyone could
# sign a session with it; production refuses it (ProductionConfig.check).
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"
MIN_SECRET_KEY_BYTES = 32
MAKE_A_SECRET_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
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
    # A log-in without "keep me signed in" stops working this long after it, even if its cookie
    # is replayed (OWASP ASVS 3.3.2); with it, after REMEMBER_COOKIE_DURATION (tickets/sessions.py).
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "12"))

    WTF_CSRF_TIME_LIMIT = None  # a long-open intake form must still submit

    BOOTSTRAP_SERVE_LOCAL = True  # no CDN: Bootstrap is served from the installed package

    # Failed log-ins are counted per address and per account. memory:// counts in each worker
    # process apart: with several workers, use a shared store such as redis://host:6379/0.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "datadesk")
    # While that store is unreachable, each worker counts in its own memory (and tries the store
    # again now and then) rather than failing every log-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute")
    # Calls of the REST API per access token (issue 16).
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "600 per minute")
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute; 20 per hour")
    # "Forgot your password?": every request counts, per address and per account (issue 14).
    RATELIMIT_PASSWORD_RESET = os.environ.get("RATELIMIT_PASSWORD_RESET", "5 per minute; 30 per hour")
    RATELIMIT_PASSWORD_RESET_ACCOUNT = os.environ.get("RATELIMIT_PASSWORD_RESET_ACCOUNT",
                                                      "3 per hour; 10 per day")
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (0: none,
    # so a client cannot pick the address its attempts are counted under).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

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

    # Webhooks (tickets/webhooks.py): each POST's timeout in seconds, the attempts of one
    # delivery before it fails, the failed attempts in a row that pause an endpoint, and how
    # many endpoints are sent to at once (each endpoint's deliveries go one at a time).
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "5"))
    WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "10"))
    WEBHOOK_PAUSE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_PAUSE_AFTER_FAILURES", "15"))
    WEBHOOK_SENDERS = int(os.environ.get("WEBHOOK_SENDERS", "4"))

    PAGE_SIZE = 25
    # Each process keeps the ranking of every queue (queues.current_ranking) until a change to
    # what it ranks, or at most this many seconds: SLA statuses and the oldest-first moment move
    # with the clock. 0 ranks on every page.
    RANKING_CACHE_SECONDS = float(os.environ.get("RANKING_CACHE_SECONDS", "60"))
    # Each process keeps a chart's figures for the same filters this many seconds (dashboards
    # refresh on minutes: a chart of days or weeks barely moves in one). 0 computes every time.
    REPORT_CACHE_SECONDS = int(os.environ.get("REPORT_CACHE_SECONDS", "60"))
    # Where: each process apart (empty), or one store for every worker (redis://host:6379/1),
    # so a chart is computed once a minute for all of them.
    REPORT_CACHE_URL = os.environ.get("REPORT_CACHE_URL", "")
    REPORT_CACHE_PREFIX = os.environ.get("REPORT_CACHE_PREFIX", "datadesk:")  # one per install

    # Links by mail with which people set their own password (tickets/invitations.py).
    INVITATION_DAYS = int(os.environ.get("INVITATION_DAYS", "7"))
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
    # "Forgot your password?" answers no sooner than this, whether the address has an account
    # or not: queueing the mail commits a row, which on a busy PostgreSQL takes milliseconds
    # that checking an unknown address does not.
    PASSWORD_RESET_ANSWER_SECONDS = float(os.environ.get("PASSWORD_RESET_ANSWER_SECONDS", "0.2"))

    # Attachments (issue 14): the folder their files are kept in (default: instance/attachments;
    # back it up with the database), and the largest request body the app reads at all. A body
    # past it is refused before it is read, with a page that says so; each file's own limit and
    # the types allowed are settings a lead changes on /settings, within this bound.
    ATTACHMENTS_FOLDER = os.environ.get("ATTACHMENTS_FOLDER") or None
    MAX_CONTENT_LENGTH = int(float(os.environ.get("MAX_UPLOAD_MB", "64")) * 1024 * 1024)

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
    RATELIMIT_LOGIN = "1000 per minute"  # tests log in often; the limits themselves are tested
    RATELIMIT_LOGIN_ACCOUNT = "1000 per minute"
    RATELIMIT_PASSWORD_RESET = "1000 per minute"
    RATELIMIT_PASSWORD_RESET_ACCOUNT = "1000 per minute"


class ProductionConfig(Config):
    """A real deployment: a real secret key, PostgreSQL (or SQLite by explicit choice) and the
    public address are required."""

    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    def __init__(self):
        # What start-up checks is read when the app is created, not when this module was imported.
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "")
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", Config.SQLALCHEMY_DATABASE_URI)
        self.BASE_URL = os.environ.get("BASE_URL", "").strip()

    def check(self):
        """Refuse to start on settings that are unsafe or that production cannot guess, saying
        what to do about each."""
        problems = []
        key = self.SECRET_KEY
        if not key or key == DEVELOPMENT_SECRET_KEY or len(key.encode()) < MIN_SECRET_KEY_BYTES:
            why = ("is unset" if not key else "is the development key, which anyone can read"
                   if key == DEVELOPMENT_SECRET_KEY else f"is shorter than {MIN_SECRET_KEY_BYTES} bytes")
            problems.append(f"SECRET_KEY {why}: set it to a random key of at least "
                            f"{MIN_SECRET_KEY_BYTES} bytes, made with: {MAKE_A_SECRET_KEY}")
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite") and not _bool("DATADESK_ALLOW_SQLITE"):
            problems.append("The database is SQLite: set DATABASE_URL to a PostgreSQL database "
                            "(postgresql+psycopg://user:password@host:5432/datadesk), or set "
                            "DATADESK_ALLOW_SQLITE=1 to run on SQLite on purpose.")
        if not self.BASE_URL:
            problems.append("BASE_URL is unset: set it to the address people open the app at "
                            "(e.g. https://datadesk.example.com), or links in e-mails point "
                            "at 127.0.0.1.")
        if problems:
            raise RuntimeError("Datadesk will not start in production:\n- " + "\n- ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
