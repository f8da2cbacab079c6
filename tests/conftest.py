"""Fixtures: one migrated database per test session, emptied after every test, and factories.

The database is a temporary SQLite file, or PostgreSQL when TEST_DATABASE_URL is set (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test). Under pytest-xdist (``python3 app.py test``
runs a worker per core) each worker has its own: its own temporary file, or the database
``test_gw0``, ``test_gw1``... beside TEST_DATABASE_URL's, created when missing. The schema is
built by the real migrations.

No app context stays pushed during a test: each test client request gets its own, as in
production. Factories open a short context of their own and return ids.
"""
import os
import re
import tempfile
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from flask import request_finished
from flask_sqlalchemy.record_queries import get_recorded_queries
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ProgrammingError

from tickets import create_app, intake, lifecycle, people, queues, settings
from tickets.extensions import cache, db
from tickets.models import RankingVersion, Request, SearchDocument, User, utcnow

PASSWORD = "correct-horse-9"
# The Redis of the tests that need one (a shared store, as production's workers use): database
# 15 of the local server unless TEST_REDIS_URL says otherwise; .ci/run starts it.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_configure(config):
    """Warnings are errors: a deprecation today is a failure tomorrow."""
    config.addinivalue_line("filterwarnings", "error")
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


def _database_url(tmp_dir):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir}/datadesk-test.db"
    url = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1...; unset in a single process
    if worker:
        url = _worker_database(url, worker)
    if url.get_backend_name() == "postgresql":
        # A commit need not wait for the disk: a test database need not survive a crash, and on a
        # busy machine that wait took a third of the suite's time and spoilt timed tests.
        options = " ".join(filter(None, [url.query.get("options"), "-c synchronous_commit=off"]))
        url = url.update_query_dict({"options": options})
    return url.render_as_string(hide_password=False)


def _worker_database(url, worker):
    """Return the URL of ``url``'s database for xdist ``worker`` (on PostgreSQL, created if
    missing)."""
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":  # a file: one per worker
            path = Path(url.database)
            url = url.set(database=str(path.with_stem(f"{path.stem}_{worker}")))
        return url
    url = url.set(database=f"{url.database}_{worker}")
    _create_database(url)
    return url


def _create_database(url):
    """Create PostgreSQL database ``url`` unless it exists, from the server's maintenance database
    (CREATE DATABASE cannot run in a transaction, nor in the database it creates)."""
    maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": url.database}):
                return
            try:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
            except ProgrammingError as error:  # another run created it in the meantime
                if getattr(error.orig, "sqlstate", None) != "42P04":  # duplicate_database
                    raise
    finally:
        maintenance.dispose()


def _drop_everything():
    """Start from an empty database, whatever an earlier run left behind."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            connection.execute(text("DROP TABLE IF EXISTS search_fts"))  # search's FTS5 index


@pytest.fixture(scope="session")
def app():
    """The app under test, on a database built by running every migration."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": _database_url(tmp_dir),
                                             "ATTACHMENTS_FOLDER": f"{tmp_dir}/attachments"})
        with application.app_context():
            _drop_everything()
            upgrade()
            if db.engine.dialect.name == "postgresql":
                # Search weighs words by the statistics ANALYZE keeps (search._shares): here
                # only a test's own ANALYZE writes them, never autovacuum in the middle of
                # another test, sampling whatever documents that one holds at that moment.
                with db.engine.begin() as connection:
                    connection.execute(text(
                        "ALTER TABLE search_documents SET (autovacuum_enabled = false)"))
        yield application
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Leave every test an empty database, its ids starting at 1 again (no data leaks)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    queues.forget_ranking(application)
    with application.app_context():
        cache.clear()  # charts kept for a minute (reports.computed)
        db.session.remove()
        present = set(inspect(db.engine).get_table_names())
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name in present:
                    connection.execute(table.delete())
            # The one row the migrations put in (what a migrated database holds).
            if RankingVersion.__tablename__ in present:
                connection.execute(RankingVersion.__table__.insert().values(id=1, version=0))
            if db.engine.dialect.name == "postgresql":
                # DELETE, then restarting the sequences, takes a tenth of the time of TRUNCATE ...
                # RESTART IDENTITY on tables this small: 4 ms a test instead of 40 (a quarter of
                # the suite's time on PostgreSQL).
                connection.execute(text(
                    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
                    " JOIN pg_class c ON c.oid = s.seqrelid"
                    " WHERE c.relnamespace = current_schema()::regnamespace"))
                if SearchDocument.__tablename__ in present:
                    _forget_search_statistics(connection)


def _forget_search_statistics(connection):
    """Search weighs words by the lexeme statistics ANALYZE keeps (search._shares): those of
    a test that analysed its documents (an import's thousands, say, where "week" is everyday
    and "churn" rare) would weigh the next tests' words. ANALYZE of an empty table leaves the
    old statistics as they were, so one empty document is analysed instead, then deleted."""
    if not connection.scalar(text(
            "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema()"
            " AND tablename = 'search_documents' AND most_common_elems IS NOT NULL)")):
        return
    documents = SearchDocument.__table__
    connection.execute(documents.insert().values(id=0, kind="request", ref_id=0, title="",
                                                 body=""))
    connection.execute(text("ANALYZE search_documents"))
    connection.execute(documents.delete().where(documents.c.id == 0))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_app(app):
    """Build more apps on the test database: another worker, or another configuration
    (``make_app("production", TRUSTED_PROXIES=1)``). Their connections are closed afterwards."""
    built = []

    def build(config_name="testing", **overrides):
        application = create_app(config_name, {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "ATTACHMENTS_FOLDER": app.config["ATTACHMENTS_FOLDER"], **overrides})
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def unmigrated_app(app, make_app, tmp_path):
    """An app on an empty database of its own, for a test that runs the migrations step by
    step: a SQLite file, or on PostgreSQL a database beside the test database. Emptied before
    and after the test."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        url = url.set(database=f"{url.database}_migration")
        _create_database(url)
    else:
        url = make_url(f"sqlite:///{tmp_path}/migration.db")
    other = make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False))
    with other.app_context():
        _drop_everything()
    yield other
    with other.app_context():
        db.session.remove()
        _drop_everything()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def settings_page_form(**overrides):
    """The /settings page's fields as a browser posts them with every default kept (no holidays
    field: a post without it leaves the holidays alone), with ``overrides`` applied."""
    data = {"wip_limit_default": "3", "lead_time_business_days": "5", "timezone": "UTC",
            "working_days": ["0", "1", "2", "3", "4"], "work_start": "09:00",
            "work_end": "17:00",
            "sla_high_first_response": "4", "sla_high_resolution": "40",
            "sla_standard_first_response": "8", "sla_standard_resolution": "80",
            "sla_low_first_response": "16", "sla_low_resolution": "160"}
    data.update(overrides)
    return data


def intake_fields(team, **changes):
    """A complete set of intake fields for ``team`` (no deadline), with ``changes`` applied."""
    fields = {
        "title": "Weekly churn by region", "team_id": team,
        "data_needed": "Churned accounts per region per week since January.",
        "format": "spreadsheet", "usage": "Reviewed in the Monday growth meeting.",
        "lever_result": "Retention in the south region.",
        "lever_expected_shape": "Churn around 3% a week, higher in the south.",
        "lever_extraction": "Compare regions week over week.",
        "lever_decision": "Move retention budget to the worst region.",
        "deadline": None, "kind": "ad_hoc", "business_impact": 3, "is_exec_sponsored": False,
        "exec_sponsor": "", "is_confidential": False,
    }
    fields.update(changes)
    return fields


def intake_form(team, **changes):
    """The intake form as a browser posts it (``intake_fields`` as text, unticked boxes left
    out, a deadline 30 days away), with ``changes`` applied."""
    data = {key: str(value) for key, value in intake_fields(team).items()
            if value not in (None, False)}
    data.update(deadline=(date.today() + timedelta(days=30)).isoformat(), **changes)
    return data


class Factory:
    """Builds data through the domain modules, each call in its own committed transaction."""

    def __init__(self, app):
        self.app = app
        self._count = 0

    def _next(self):
        self._count += 1
        return self._count

    def team(self, name=None, **fields):
        with self.app.app_context():
            team = people.save_team(None, name=name or f"Team {self._next()}", **fields)
            db.session.commit()
            return team.id

    def user(self, role="requester", teams=(), email=None, name=None, password=PASSWORD,
             is_active=True):
        n = self._next()
        with self.app.app_context():
            user = people.save_user(
                None, name=name or f"{role.title()} {n}", email=email or f"{role}{n}@example.com",
                role=role, team_ids=list(teams), password=password, is_active=is_active)
            db.session.commit()
            return user.id

    def request(self, requester, team, **fields):
        watchers = fields.pop("watchers", ())
        values = intake_fields(team, **{"deadline": date.today() + timedelta(days=30), **fields})
        with self.app.app_context():
            created = intake.submit_request(db.session.get(User, requester), values,
                                            watchers=watchers)
            db.session.commit()
            return created.id

    def act(self, request_id, name, actor, **inputs):
        """Take transition ``name`` as user id ``actor`` (None: the system)."""
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            if "original" in inputs:
                inputs["original"] = db.session.get(Request, inputs["original"])
            if "assignee" in inputs:
                inputs["assignee"] = db.session.get(User, inputs["assignee"])
            user = db.session.get(User, actor) if actor is not None else None
            lifecycle.transition(req, name, user, **inputs)
            db.session.commit()

    def wip_limit(self, user, limit):
        """Give analyst or lead ``user`` their own WIP limit (None: the default)."""
        with self.app.app_context():
            settings.set_wip_limit(db.session.get(User, user), limit, None, utcnow())
            db.session.commit()

    def get(self, model, id_):
        """Load a row in a fresh session, to check what the database holds."""
        with self.app.app_context():
            obj = db.session.get(model, id_)
            if obj is not None:
                db.session.expunge(obj)
            return obj

    def state(self, request_id):
        with self.app.app_context():
            return db.session.get(Request, request_id).state


@pytest.fixture
def statements(app):
    """The number of SQL statements of each request the test client makes, in order."""
    counted = []

    def count(sender, response, **extra):
        counted.append(len(get_recorded_queries()))

    with request_finished.connected_to(count, app):
        yield counted


@contextmanager
def counting_sql(app):
    """Count every SQL statement run on the app's database inside the block, from any thread
    and streamed responses included: yields a list that grows by one per statement."""
    with app.app_context():
        engine = db.engine
    counted = []

    def count(*args, **kwargs):
        counted.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


def count_sql(app, function):
    """Run ``function`` in an app context; return (SQL statements it ran, its result)."""
    with counting_sql(app) as counted, app.app_context():
        result = function()
    return len(counted), result


@pytest.fixture
def make(app):
    return Factory(app)


class AuthActions:
    """Log a test client in and out as a given user."""

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def login(self, user_id_or_email, password=PASSWORD, remember=False):
        email = user_id_or_email
        if isinstance(user_id_or_email, int):
            with self.app.app_context():
                email = db.session.get(User, user_id_or_email).email
        self.client.get("/logout")  # harmless: logout is POST-only
        data = {"email": email, "password": password, "csrf_token": self.csrf_token("/login")}
        if remember:
            data["remember"] = "y"
        response = self.client.post("/login", data=data)
        assert response.status_code == 302, f"login as {email} failed"
        self.token = self.csrf_token("/requests/new")
        return response

    def post(self, path, data=None, **kwargs):
        """POST ``data`` with this session's CSRF token."""
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def act(self, request_id, name, version=None, **fields):
        """Submit the form of transition ``name`` on the request page, as a browser would."""
        if version is None:
            with self.app.app_context():
                version = db.session.get(Request, request_id).version
        data = {f"{name}-csrf_token": self.token, f"{name}-version": version}
        data.update({f"{name}-{key}": value for key, value in fields.items()})
        return self.client.post(f"/requests/{request_id}/actions/{name}", data=data)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf_token("/requests/new")})

    def csrf_token(self, path):
        """Fetch ``path`` and return the CSRF token its form carries."""
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)


def form_errors(response):
    """Return the field-level error messages a page shows, keyed by the field's id."""
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<div id="([\w-]+)-error" class="invalid-feedback[^"]*">([^<]*)</div>', html))


@pytest.fixture
def errors():
    return form_errors


@pytest.fixture
def redis_store():
    """The tests' Redis database (REDIS_URL); a clear failure, never a skip, when it is down."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_store):
    """A key prefix of this test alone in the tests' Redis; its keys are removed afterwards."""
    prefix = f"datadesk-test-{uuid.uuid4().hex}"
    yield prefix
    for key in redis_store.scan_iter(match=f"*{prefix}*"):
        redis_store.delete(key)


@pytest.fixture
def smtp_server(app):
    """A real SMTP server the app sends to for the length of one test."""
    from tests.smtp import SmtpServer

    server = SmtpServer().start()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"], app.config["MAIL_TIMEOUT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=5)
    yield server
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"], app.config["MAIL_TIMEOUT"] = saved
    server.stop()


@pytest.fixture
def smtp_down(app):
    """Point the app at a port where no SMTP server listens. The fixture's value brings the
    server back: it starts one and points the app at it, returning the SmtpServer."""
    from tests.smtp import SmtpServer, free_port

    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"], app.config["MAIL_TIMEOUT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    started = []

    def bring_up():
        server = SmtpServer().start()
        started.append(server)
        app.config["MAIL_PORT"] = server.port
        return server

    yield bring_up
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"], app.config["MAIL_TIMEOUT"] = saved
    for server in started:
        server.stop()
