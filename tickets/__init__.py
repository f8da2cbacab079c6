"""Datadesk: intake, triage and delivery of a data team's requests."""
import math
import os
import time
from pathlib import Path

from flask import Flask, render_template, request, session
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS

from .extensions import bootstrap, cache, csrf, db, limiter_of, login_manager, migrate, new_limiter

# Rules that react to another's signal (signals.py) connect when their module is imported:
# importing them connects them wherever the domain runs (app, CLI, tests); attachments too.
from . import attachments, budget, notifications, outcomes, search, sla_clocks  # noqa: F401
from . import webhooks  # noqa: F401  (queues deliveries on the domain's signals)

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name=None, overrides=None):
    """Build the Flask app for ``config_name`` (default: $DATADESK_ENV or development)."""
    config_name = config_name or os.environ.get("DATADESK_ENV", "development")
    config = CONFIGS[config_name]()
    if hasattr(config, "check"):
        config.check()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config)
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    trusted = app.config["TRUSTED_PROXIES"]
    if trusted > 0:
        # Believe the X-Forwarded-* headers the nearest ``trusted`` proxies add, and no more:
        # the log-in throttle counts attempts per client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)

    # An address with "//" in it is no page: a 404, not a redirect that merges the slashes
    # (an unsubscribe token "%2Fpreferences" was sent on to /unsubscribe/preferences).
    app.url_map.merge_slashes = False
    register_extensions(app)
    register_blueprints(app)
    register_rate_limits(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security_headers(app)
    return app


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app):
    """Send headers that stop framing, MIME sniffing, referrer leaks and injected scripts, keep
    browsers on HTTPS once cookies need it, and keep logged-in pages out of every cache."""

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # A shared computer's back button must not show a logged-in person's pages (the
        # session is read only when it is not a static file, whose caching stays allowed).
        if (request.endpoint or "").rpartition(".")[2] != "static" and "_user_id" in session:
            response.headers["Cache-Control"] = "no-store"
        return response


def _cache_config(config):
    """Flask-Caching's settings for the charts' figures (reports.computed): none kept with
    REPORT_CACHE_SECONDS 0, else in Redis at REPORT_CACHE_URL, or in each process."""
    seconds = config.get("REPORT_CACHE_SECONDS") or 0
    if seconds <= 0:
        return {"CACHE_TYPE": "NullCache"}
    url = config.get("REPORT_CACHE_URL") or ""
    if url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                "CACHE_DEFAULT_TIMEOUT": seconds,
                "CACHE_KEY_PREFIX": config.get("REPORT_CACHE_PREFIX") or "datadesk:",
                "CACHE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": seconds,
            "CACHE_THRESHOLD": 500}


def register_extensions(app):
    """Bind the extension objects of extensions.py to ``app``."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    cache.init_app(app, config=_cache_config(app.config))
    new_limiter().init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"

    from . import models, sessions

    @login_manager.user_loader
    def load_user(session_id):
        return sessions.load_user(session_id, models.utcnow())


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, use WAL, and wait for a lock instead of failing at once.
    PostgreSQL: turn JIT compilation off."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        # PostgreSQL: no JIT compilation. The report charts' statements are estimated costly
        # enough to be compiled, which takes longer than running them (about 2 s per chart at
        # 100,000 requests, bench/bench_reports.py).
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()  # a rolled-back SET would not last


def register_blueprints(app):
    """Mount one blueprint per area, every ``<int:...>`` in their routes bounded to an id."""
    from .views import admin, auth, mail, queue, requests, settings, sla, triage
    from .views.helpers import IdConverter

    # Before any route is added: each rule takes its converter when it is registered.
    app.url_map.converters["int"] = IdConverter

    app.register_blueprint(auth.bp)
    app.register_blueprint(requests.bp)
    app.register_blueprint(triage.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(mail.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(sla.bp)
    from .views import reports as reports_views
    app.register_blueprint(reports_views.bp)
    from .views import forecast as forecast_views
    app.register_blueprint(forecast_views.bp)
    from .views import gaps as gaps_views
    app.register_blueprint(gaps_views.bp)
    from .views import impact as impact_views
    app.register_blueprint(impact_views.bp)
    from .views import catalogue as catalogue_views
    app.register_blueprint(catalogue_views.bp)
    from .views import search as search_views
    app.register_blueprint(search_views.bp)
    from .views import outcomes as outcomes_views
    app.register_blueprint(outcomes_views.bp)
    from .views import attachments as attachments_views
    app.register_blueprint(attachments_views.bp)
    from .views import notifications as notifications_views
    app.register_blueprint(notifications_views.bp)
    from .views import imports as imports_views
    app.register_blueprint(imports_views.bp)
    from .views import tokens as tokens_views
    app.register_blueprint(tokens_views.bp)
    from .views import webhooks as webhooks_views
    app.register_blueprint(webhooks_views.bp)
    from .api import bp as api_bp
    app.register_blueprint(api_bp)


def register_rate_limits(app):
    """Bind the views' rate limits to this app's own limiter."""
    from .api import views as api_views
    from .views import auth

    auth.register_login_limits(app, limiter_of(app))
    api_views.register_limits(app, limiter_of(app))


# What a database that cannot be reached raises: a refused or lost connection, a file that
# cannot be opened, no connection left in the pool. Users get a 503 page that needs none.
DATABASE_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
RETRY_AFTER_SECONDS = 30


def register_errorhandlers(app):
    """Render friendly pages for the errors a user can meet.

    Every handler first rolls the session back: an error after a failed flush would
    otherwise fail again on the broken transaction while the page loads the user. With the
    database unreachable, the answer is a 503 page that needs no database.
    """
    from flask_wtf.csrf import CSRFError

    from .api import problems

    messages = {
        400: ("Something in that request was not right", "Go back, check the form and try again."),
        403: ("You may not do that", "Your role does not allow this action on this page."),
        404: ("Not found", "This page does not exist, or you do not have access to it."),
        405: ("Not allowed", "That page cannot be used this way."),
        409: ("Someone else got there first", "The request changed while you were looking at it."),
        429: ("Too many attempts", "Wait a minute before trying again."),
        500: ("Something went wrong on our side", "Nothing you did caused this. Try again later."),
    }

    def render_error(error, code=None, title=None, detail=None):
        _roll_back(app)
        # A 500 handler is given the uncaught exception as ``original_exception``.
        if isinstance(getattr(error, "original_exception", None), DATABASE_UNAVAILABLE):
            return database_unavailable(error.original_exception)
        code = code or getattr(error, "code", 500) or 500
        if problems.is_api_request():  # the API's answers are problem documents
            if code == getattr(error, "code", None):
                return problems.from_exception(error)
            return problems.problem_response(code, detail)
        default_title, default_detail = messages.get(code, messages[500])
        try:
            return render_template("error.html", code=code, title=title or default_title,
                                   detail=detail or default_detail), code
        except DATABASE_UNAVAILABLE as problem:  # the page reads the user from the database
            return database_unavailable(problem)

    # 500 included: Flask gives it every exception no other handler takes.
    for code in messages:
        app.register_error_handler(code, render_error)

    @app.errorhandler(429)
    def too_many_attempts(error):
        wait = _seconds_until_retry(app)
        if problems.is_api_request():
            return problems.problem_response(
                429, f"This token made too many calls: wait {_duration(wait)}.",
                headers={"Retry-After": str(wait)})
        title, _ = messages[429]
        detail = f"For your security, wait {_duration(wait)} before trying again."
        return render_template("error.html", code=429, title=title, detail=detail), 429, {
            "Retry-After": str(wait)}

    @app.errorhandler(413)
    def too_large(error):
        # The body was refused before it was read: nothing of the form can be shown again.
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        return render_error(
            error, 413, "That was too much to send at once",
            f"Everything sent together must stay under {max(1, limit // (1024 * 1024))} MB, "
            "so nothing was saved. Go back, and attach fewer or smaller files (the form says "
            "the limit of each file); a link to where a large file lives works too.")

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            error, 400, "This form has expired",
            "For your security the form could not be accepted. Reload the page and send it again.")

    @app.errorhandler(exc.OperationalError)
    @app.errorhandler(exc.InterfaceError)
    @app.errorhandler(exc.TimeoutError)
    def database_unavailable(error):
        _roll_back(app)
        app.logger.error("The database cannot be reached: %s", error)
        if problems.is_api_request():
            return problems.problem_response(503, "The database cannot be reached: try again "
                                                  "shortly.",
                                             headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        # Rendered without the context processors, which read the user from the database.
        page = app.jinja_env.get_template("unavailable.html").render(
            retry_after=RETRY_AFTER_SECONDS)
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _roll_back(app):
    """Roll the session back so an error page can query again; with the database gone, the
    rollback may fail too, which the page does not need to know."""
    try:
        db.session.rollback()
    except exc.SQLAlchemyError as problem:
        app.logger.warning("Rolling back before an error page failed: %s", problem)


def _seconds_until_retry(app):
    """Seconds until the limit this request broke lets attempts through again (60 if unknown)."""
    broken = limiter_of(app).current_limit
    if broken is None or not broken.breached:
        return 60
    return max(1, math.ceil(broken.window.reset_time - time.time()))


def _duration(seconds):
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"about {round(seconds / 60)} minutes"


def register_template_helpers(app):
    """Expose the vocabulary and small formatting helpers to templates."""
    from flask_login import current_user

    from . import lifecycle, localtime, models, policy
    from .views.helpers import as_choices, format_date, format_datetime, format_moment, url_with

    @app.context_processor
    def vocabulary():
        return {
            "STATES": models.STATES, "KINDS": models.KINDS, "FORMATS": models.FORMATS,
            "IMPACTS": models.IMPACTS, "SIZES": models.SIZES, "ROLES": models.ROLES,
            "DECLINE_REASONS": models.DECLINE_REASONS, "DONE": lifecycle.DONE, "NEXT_STEP": lifecycle.NEXT_STEP, "url_with": url_with,
            "OUTCOMES": models.OUTCOMES, "NOT_USED_REASONS": models.NOT_USED_REASONS,
            "can": policy.can,
        }

    @app.context_processor
    def viewer():
        # Who reads the page, for its times: their zone is looked up only if one is shown.
        person = current_user._get_current_object() if current_user.is_authenticated else None
        return {"viewer": localtime.Viewer(person, models.utcnow())}

    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.filters["choices"] = as_choices


def register_commands(app):
    """Add the ``flask`` commands of cli.py."""
    from .cli import register

    register(app)
