"""The app starts, its migrations match its models, and a newcomer reaches the login page."""
import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tickets import search
from tickets.extensions import db


def test_login_page_is_served_with_local_bootstrap(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Log in to Datadesk" in html
    assert "/bootstrap/static/css/bootstrap.min.css" in html
    # Nothing from elsewhere (a CDN): every src and href is this site's. Not a search for "cdn"
    # in the page: its CSRF token is random text, which now and then holds those letters.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_migrations_build_exactly_the_models_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": search.is_schema_object})
        assert compare_metadata(context, db.metadata) == []


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/requests/new")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
