"""Error pages: each rolls a broken transaction back before it renders, and a database that
cannot be reached gets a friendly 503 page that needs none, until it comes back (issue 10)."""
import os
import re
import tempfile
from pathlib import Path

import pytest
from flask import abort
from flask_login import login_required
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.conftest import PASSWORD
from tests.relay import Relay
from tickets import create_app
from tickets.extensions import db
from tickets.models import Team


@pytest.fixture
def org(make):
    marketing = make.team("Marketing")
    return {"marketing": marketing,
            "requester": make.user("requester", teams=[marketing], name="Rita Requester")}


def copy_login(source, target):
    """Give test client ``target`` the session cookie of ``source`` (logged in elsewhere)."""
    target.set_cookie("session", source.get_cookie("session").value)


# --- Rolling back before rendering ------------------------------------------------------------

@pytest.fixture
def probe_app(app):
    """The app on the test database with two views that break the session's transaction, as
    a view that meets a constraint and forgets to roll back would; uncaught errors are not
    re-raised to the test, they get the 500 page as in production."""
    probe = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                   "PROPAGATE_EXCEPTIONS": False})

    def duplicate_team():
        db.session.add(Team(name="Marketing"))
        db.session.flush()

    @probe.route("/probe/failed-flush-then-409")
    @login_required
    def failed_flush_then_409():
        try:
            duplicate_team()
        except IntegrityError:
            abort(409)

    @probe.route("/probe/failed-flush")
    @login_required
    def failed_flush():
        duplicate_team()

    yield probe
    with probe.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path, code, title", [
    ("/probe/failed-flush-then-409", 409, "Someone else got there first"),
    ("/probe/failed-flush", 500, "Something went wrong on our side"),
])
def test_an_error_after_a_failed_flush_renders_the_friendly_page(client, auth, org, probe_app,
                                                                 path, code, title):
    auth.login(org["requester"])
    probe = probe_app.test_client()
    copy_login(client, probe)
    response = probe.get(path)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert title in html
    assert "Rita Requester" in html and "Marketing" in html  # the page read the user again


# --- The database is down ---------------------------------------------------------------------

class Outage:
    """A database the app reaches through something the test can cut and restore, while the
    real server keeps running: a TCP relay to PostgreSQL, or for SQLite a directory link to
    the test database's folder (a missing folder: "unable to open database file")."""

    def __init__(self, url, tmp_dir):
        url = make_url(url)
        self.dialect = url.get_backend_name()
        if self.dialect == "postgresql":
            self.relay = Relay((url.host or "127.0.0.1", url.port or 5432))
            self.url = url.set(port=self.relay.port).update_query_dict(
                {"connect_timeout": "3"}).render_as_string(hide_password=False)
        else:
            database = Path(url.database)
            self.link = Path(tmp_dir) / "database"
            self.folder = database.parent
            self.url = f"sqlite:///{self.link / database.name}"

    def up(self):
        """The database comes back."""
        if self.dialect == "postgresql":
            self.relay.up()
        else:
            os.symlink(self.folder, self.link)

    def down(self):
        """The database goes away: new connections fail (and on PostgreSQL open ones are cut)."""
        if self.dialect == "postgresql":
            self.relay.down()
        elif self.link.is_symlink():
            self.link.unlink()


@pytest.fixture
def outage(app):
    """An Outage of the test database, down at the start, and an app (with its test client)
    that uses the database only through it."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        cut = Outage(app.config["SQLALCHEMY_DATABASE_URI"], tmp_dir)
        cut.app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": cut.url})
        cut.client = cut.app.test_client()
        yield cut
        with cut.app.app_context():
            db.engine.dispose()
        cut.down()


def assert_unavailable(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert "Datadesk is unavailable for a moment" in html
    assert "cannot reach its database" in html
    assert "Internal Server Error" not in html


def login_page_token(test_client):
    """The CSRF token of the login page, which renders without the database for a visitor
    who is not logged in."""
    page = test_client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)


def test_with_the_database_down_people_get_a_friendly_503_page(client, auth, org, make,
                                                               outage):
    request_id = make.request(org["requester"], org["marketing"])
    visitor = outage.app.test_client()
    assert_unavailable(visitor.post("/login", data={
        "email": "someone@example.com", "password": PASSWORD,
        "csrf_token": login_page_token(visitor)}))

    auth.login(org["requester"])
    copy_login(client, outage.client)
    for path in ("/requests/mine", f"/requests/{request_id}", "/requests/new", "/login"):
        assert_unavailable(outage.client.get(path))  # who is logged in is in the database
    assert_unavailable(outage.client.post(f"/requests/{request_id}/comments", data={
        "text": "Still there?", "csrf_token": auth.token}))


def test_the_app_recovers_by_itself_when_the_database_comes_back(client, auth, org, outage):
    auth.login(org["requester"])
    copy_login(client, outage.client)
    assert_unavailable(outage.client.get("/requests/mine"))

    outage.up()
    response = outage.client.get("/requests/mine")
    assert response.status_code == 200
    assert "Rita Requester" in response.get_data(as_text=True)


def test_a_database_lost_while_in_use_is_a_503_then_recovers(client, auth, org, outage):
    if outage.dialect != "postgresql":
        pytest.skip("an open SQLite file cannot be taken away from the connections using it")
    auth.login(org["requester"])
    copy_login(client, outage.client)
    outage.up()
    assert outage.client.get("/requests/mine").status_code == 200  # pooled connections now

    outage.down()
    assert_unavailable(outage.client.get("/requests/mine"))
    assert_unavailable(outage.client.get("/requests/mine"))

    outage.up()
    assert outage.client.get("/requests/mine").status_code == 200
