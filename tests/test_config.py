"""Production refuses to start on unsafe settings (config.ProductionConfig.check), and a session
signed with the development key is worthless against a production app (issue 10, Security 2)."""
import secrets
from datetime import timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from config import DEVELOPMENT_SECRET_KEY
from tickets import create_app, sessions
from tickets.extensions import db
from tickets.models import User, utcnow

MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'
REAL_KEY = secrets.token_hex(32)


@pytest.fixture
def production_env(app, monkeypatch):
    """An environment production accepts, on the test database; tests spoil one setting."""
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    monkeypatch.setenv("SECRET_KEY", REAL_KEY)
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("BASE_URL", "https://datadesk.example.com")
    if database.startswith("sqlite"):
        monkeypatch.setenv("DATADESK_ALLOW_SQLITE", "1")
    else:
        monkeypatch.delenv("DATADESK_ALLOW_SQLITE", raising=False)
    return monkeypatch


@pytest.mark.parametrize("key, why", [
    (None, "SECRET_KEY is unset"),
    ("", "SECRET_KEY is unset"),
    (DEVELOPMENT_SECRET_KEY, "SECRET_KEY is the development key"),
    ("x" * 31, "SECRET_KEY is shorter than 32 bytes"),
    ("é" * 15, "SECRET_KEY is shorter than 32 bytes"),  # 30 bytes in UTF-8
])
def test_production_refuses_a_missing_default_or_short_secret_key_and_says_how_to_make_one(
        production_env, key, why):
    if key is None:
        production_env.delenv("SECRET_KEY")
    else:
        production_env.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    message = str(refused.value)
    assert why in message
    assert MAKE_A_KEY in message


def test_production_refuses_sqlite_unless_the_operator_opts_in(production_env, tmp_path):
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/datadesk.db")
    production_env.delenv("DATADESK_ALLOW_SQLITE", raising=False)
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    assert "DATADESK_ALLOW_SQLITE=1" in str(refused.value)
    assert "postgresql" in str(refused.value)
    production_env.delenv("DATABASE_URL")  # unset means the built-in SQLite file: refused too
    with pytest.raises(RuntimeError):
        create_app("production")
    production_env.setenv("DATADESK_ALLOW_SQLITE", "1")
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/datadesk.db")
    assert create_app("production").config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


@pytest.mark.parametrize("base_url", [None, "", "  "])
def test_production_refuses_an_unset_base_url(production_env, base_url):
    if base_url is None:
        production_env.delenv("BASE_URL")
    else:
        production_env.setenv("BASE_URL", base_url)
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    assert "BASE_URL is unset" in str(refused.value)


def test_production_names_every_problem_at_once(production_env):
    production_env.delenv("SECRET_KEY")
    production_env.delenv("BASE_URL")
    production_env.setenv("DATABASE_URL", "sqlite://")
    production_env.delenv("DATADESK_ALLOW_SQLITE", raising=False)
    with pytest.raises(RuntimeError) as refused:
        create_app("production")
    message = str(refused.value)
    assert "SECRET_KEY" in message and "SQLite" in message and "BASE_URL" in message


def test_production_starts_with_a_real_key_and_uses_it(production_env, make_app):
    app = make_app("production")
    assert app.config["SECRET_KEY"] == REAL_KEY
    assert app.config["BASE_URL"] == "https://datadesk.example.com"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def signed_session(secret_key, data):
    """A session cookie as Flask signs it with ``secret_key``."""
    signer = Flask("signer")
    signer.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(data)


def test_a_session_forged_with_the_development_key_is_refused_by_production(
        app, make, production_env, make_app):
    admin_id = make.user("admin")
    with app.app_context():
        admin = db.session.get(User, admin_id)
        # Everything a forger could want but the key: the right id, generation and expiry.
        session = {"_user_id": sessions.session_id(admin, utcnow() + timedelta(hours=1)),
                   "_fresh": True}
    production = make_app("production")

    forged = production.test_client()
    forged.set_cookie("session", signed_session(DEVELOPMENT_SECRET_KEY, session))
    response = forged.get("/admin/users")
    assert response.status_code == 302 and response.location.startswith("/login")

    # The same session signed with production's key is accepted: only the key was wrong.
    genuine = production.test_client()
    genuine.set_cookie("session", signed_session(REAL_KEY, session))
    assert genuine.get("/admin/users").status_code == 200
